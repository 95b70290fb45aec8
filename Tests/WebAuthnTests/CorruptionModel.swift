import Foundation
import XCTest
import Crypto
import WebAuthn

// What a single-byte change to a known-good response must cause, worked out independently of
// the verifier: for clientDataJSON with Foundation's JSON parser, for the rest from what the
// changed byte means, always in the specification's order of checks.

/// What the verifier must answer. Malformed inputs are compared by kind only: the exact
/// parse error is the parser tests' business.
enum Expected: Equatable, CustomStringConvertible {
    case error(WebAuthnError)
    case malformedClientData
    case malformedAuthenticatorData
    case malformedAttestationObject
    case accepted

    var description: String {
        switch self {
        case .error(let e): return "\(e)"
        case .malformedClientData: return "malformedClientData(_)"
        case .malformedAuthenticatorData: return "malformedAuthenticatorData(_)"
        case .malformedAttestationObject: return "malformedAttestationObject(_)"
        case .accepted: return "accepted"
        }
    }

    func matches(_ outcome: WebAuthnError?) -> Bool {
        switch (self, outcome) {
        case (.accepted, nil): return true
        case (.error(let e), let o?): return e == o
        case (.malformedClientData, .malformedClientData?): return true
        case (.malformedAuthenticatorData, .malformedAuthenticatorData?): return true
        case (.malformedAttestationObject, .malformedAttestationObject?): return true
        default: return false
        }
    }
}

func check(_ expected: Expected, _ outcome: WebAuthnError?, _ what: @autoclosure () -> String,
           file: StaticString = #filePath, line: UInt = #line) {
    if !expected.matches(outcome) {
        XCTFail("\(what()): expected \(expected), got \(outcome.map { "\($0)" } ?? "acceptance")", file: file, line: line)
    }
}

struct AssertionUnderTest {
    var authenticatorData: [UInt8]
    var clientDataJSON: [UInt8]
    var signature: [UInt8]
    var expectations: AssertionExpectations
    let key: COSEKey
    let storedSignCount: UInt32

    func outcome() -> WebAuthnError? {
        do {
            _ = try AssertionVerifier.verify(authenticatorData: authenticatorData, clientDataJSON: clientDataJSON,
                                             signature: signature, credentialPublicKey: key,
                                             storedSignCount: storedSignCount, expecting: expectations)
            return nil
        } catch { return error }
    }
}

func assertionUnderTest(_ v: Vector) throws -> AssertionUnderTest {
    let key = try COSEKey(encoded: hex(v.credentialPublicKey))
    return AssertionUnderTest(authenticatorData: hex(v.assertion.authenticatorData), clientDataJSON: hex(v.assertion.clientDataJSON),
                     signature: hex(v.assertion.signature), expectations: v.assertionExpectations, key: key,
                     storedSignCount: v.registration.signCount ?? 0)
}

func registrationOutcome(_ attestationObject: [UInt8], _ clientDataJSON: [UInt8],
                         _ expectations: RegistrationExpectations) -> WebAuthnError? {
    do {
        _ = try RegistrationVerifier.verify(attestationObject: attestationObject, clientDataJSON: clientDataJSON,
                                            expecting: expectations)
        return nil
    } catch { return error }
}

/// Classifies a changed clientDataJSON by reading it with Foundation's JSON parser.
/// `ifSigned` is the answer when only the hash changed (a bad signature, or acceptance
/// for "none" attestation, which signs nothing).
func expectedForClientData(_ json: [UInt8], type: String, challenge: [UInt8], origin: String, ifSigned: Expected) -> Expected {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
          let t = object["type"] as? String, let c = object["challenge"] as? String, let o = object["origin"] as? String,
          let decoded = foundationBase64URLDecode(c)
    else { return .malformedClientData }
    if t != type { return .error(.clientDataTypeMismatch(expected: type, received: t)) }
    if decoded != challenge { return .error(.challengeMismatch) }
    if o != origin { return .error(.originMismatch(expected: origin, received: o)) }
    if (object["crossOrigin"] as? Bool) == true { return .error(.crossOrigin(topOrigin: object["topOrigin"] as? String)) }
    return ifSigned
}

/// Canonical unpadded base64url, decoded by Foundation.
func foundationBase64URLDecode(_ s: String) -> [UInt8]? {
    let urlAlphabet = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    guard s.unicodeScalars.allSatisfy(urlAlphabet.contains) else { return nil }
    var standard = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
    guard let data = Data(base64Encoded: standard) else { return nil }
    let again = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    return again == s ? Array(data) : nil
}

/// What flipping bits of the flags byte must cause, checks in the specification's order.
func expectedForFlags(original: UInt8, changed: UInt8, hasCredentialData: Bool, hasExtensions: Bool,
                      requireUV: Bool, malformed: Expected, ifSigned: Expected) -> Expected {
    let flags = AuthenticatorFlags(rawValue: changed)
    if flags.contains(.backedUp), !flags.contains(.backupEligible) { return malformed }
    if flags.contains(.attestedCredentialData) != hasCredentialData { return malformed }
    if flags.contains(.extensionData) != hasExtensions { return malformed }
    if !flags.contains(.userPresent) { return .error(.userNotPresent) }
    if requireUV, !flags.contains(.userVerified) { return .error(.userNotVerified) }
    return ifSigned
}

func expectedForSignature(_ der: [UInt8], malformed: (ECDSASignature.Problem) -> WebAuthnError, bad: WebAuthnError) -> Expected {
    do {
        _ = try ECDSASignature(derRepresentation: der)
        return .error(bad)
    } catch {
        return .error(malformed(error))
    }
}

func problemOf(_ der: [UInt8]) -> ECDSASignature.Problem {
    do { _ = try ECDSASignature(derRepresentation: der); return .notDER("parsed") } catch { return error }
}

/// A change after the fixed 37 bytes: in the AAGUID, the credential id or its length, the
/// COSE key or the extensions.
func expectedForCredentialData(_ objectBytes: [UInt8], ifSigned: Expected) -> Expected {
    let object: AttestationObject
    do { object = try AttestationObject(bytes: objectBytes) } catch {
        if case .authenticatorData(.credentialPublicKey(.unsupportedAlgorithm(let alg))) = error {
            return .error(.unsupportedCredentialAlgorithm(alg))
        }
        return .malformedAttestationObject
    }
    let key = object.authData.attestedCredentialData!.credentialPublicKey
    do { _ = try key.publicKey() } catch { return .error(.invalidCredentialPublicKey(error)) }
    return ifSigned
}
