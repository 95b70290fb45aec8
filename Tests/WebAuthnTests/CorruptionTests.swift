import Foundation
import XCTest
import Crypto
import WebAuthn

/// Every single-byte change to a known-good response must be refused, and refused for the
/// right reason. The expected reason is worked out here from what was changed — for
/// clientDataJSON with Foundation's JSON parser, not ours — in the specification's order.
final class CorruptionTests: XCTestCase {
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

    // MARK: - Running the verifiers

    struct Assertion {
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

    func assertion(_ v: Vector) throws -> Assertion {
        let key = try COSEKey(encoded: hex(v.credentialPublicKey))
        return Assertion(authenticatorData: hex(v.assertion.authenticatorData), clientDataJSON: hex(v.assertion.clientDataJSON),
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

    // MARK: - Independent models of what a change must cause

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

    // MARK: - Assertions

    func testEveryChangedAssertionSignatureByteIsRefused() throws {
        for vector in try Fixtures.allVectors() {
            let good = try assertion(vector)
            XCTAssertNil(good.outcome(), vector.name)
            for i in good.signature.indices {
                for mask: UInt8 in [0x01, 0x80] {
                    var a = good
                    a.signature[i] ^= mask
                    let expected = expectedForSignature(a.signature, malformed: { .malformedSignature($0) }, bad: .badSignature)
                    check(expected, a.outcome(), "\(vector.name): signature byte \(i) ^ \(mask)")
                }
            }
            for length in 0..<good.signature.count {
                var a = good
                a.signature = Array(good.signature.prefix(length))
                check(.error(.malformedSignature(problemOf(a.signature))), a.outcome(), "\(vector.name): signature cut to \(length)")
            }
        }
    }

    func problemOf(_ der: [UInt8]) -> ECDSASignature.Problem {
        do { _ = try ECDSASignature(derRepresentation: der); return .notDER("parsed") } catch { return error }
    }

    func testEveryChangedAuthenticatorDataByteIsRefused() throws {
        for vector in try Fixtures.allVectors() {
            let good = try assertion(vector)
            let parsed = try AuthenticatorData(bytes: good.authenticatorData)
            for i in good.authenticatorData.indices {
                let masks: [UInt8] = i == 32 ? (0..<8).map { 1 << $0 } : [0x01, 0x80]
                for mask in masks {
                    var a = good
                    a.authenticatorData[i] ^= mask
                    let expected: Expected
                    switch i {
                    case 0..<32:
                        expected = .error(.rpIDHashMismatch(rpID: vector.rpId))
                    case 32:
                        expected = expectedForFlags(original: good.authenticatorData[32], changed: a.authenticatorData[32],
                                                    hasCredentialData: false, hasExtensions: parsed.extensions != nil,
                                                    requireUV: vector.requiresUV, malformed: .malformedAuthenticatorData,
                                                    ifSigned: .error(.badSignature))
                    case 33..<37:
                        expected = .error(.badSignature)
                    default:  // inside the extensions map
                        expected = (try? AuthenticatorData(bytes: a.authenticatorData)) == nil ? .malformedAuthenticatorData : .error(.badSignature)
                    }
                    check(expected, a.outcome(), "\(vector.name): authenticatorData byte \(i) ^ \(mask)")
                }
            }
            for length in 0..<good.authenticatorData.count {
                var a = good
                a.authenticatorData = Array(good.authenticatorData.prefix(length))
                check(.malformedAuthenticatorData, a.outcome(), "\(vector.name): authenticatorData cut to \(length)")
            }
            var longer = good
            longer.authenticatorData.append(0)
            check(.malformedAuthenticatorData, longer.outcome(), "\(vector.name): a byte appended to authenticatorData")
        }
    }

    func testEveryChangedClientDataByteIsRefused() throws {
        for vector in try Fixtures.allVectors() {
            let good = try assertion(vector)
            for i in good.clientDataJSON.indices {
                var a = good
                a.clientDataJSON[i] ^= 0x01
                let expected = expectedForClientData(a.clientDataJSON, type: "webauthn.get", challenge: a.expectations.challenge,
                                                     origin: vector.origin, ifSigned: .error(.badSignature))
                check(expected, a.outcome(), "\(vector.name): clientDataJSON byte \(i) ^ 0x01 (\(String(decoding: a.clientDataJSON, as: UTF8.self)))")
            }
        }
    }

    func testEditedClientDataMembersAreRefusedByName() throws {
        let vector = try Fixtures.specVectors()[0]
        let good = try assertion(vector)
        let text = String(decoding: good.clientDataJSON, as: UTF8.self)
        let edits: [(String, String, WebAuthnError)] = [
            (#""type":"webauthn.get""#, #""type":"webauthn.create""#, .clientDataTypeMismatch(expected: "webauthn.get", received: "webauthn.create")),
            (#""origin":"https://example.org""#, #""origin":"https://example.org:443""#, .originMismatch(expected: "https://example.org", received: "https://example.org:443")),
            (#""crossOrigin":false"#, #""crossOrigin":true"#, .crossOrigin(topOrigin: nil)),
            (#""crossOrigin":false"#, #""crossOrigin":true,"topOrigin":"https://evil.example""#, .crossOrigin(topOrigin: "https://evil.example")),
            (#""crossOrigin":false"#, #""crossOrigin":false,"topOrigin":"https://evil.example""#, .badSignature),
        ]
        for (from, to, expected) in edits {
            XCTAssertTrue(text.contains(from))
            var a = good
            a.clientDataJSON = Array(text.replacingOccurrences(of: from, with: to).utf8)
            check(.error(expected), a.outcome(), "\(from) → \(to)")
        }
    }

    func testChangedExpectationsAreRefusedByName() throws {
        for vector in try Fixtures.allVectors() {
            let good = try assertion(vector)
            var a = good
            a.expectations.challenge[0] ^= 1
            check(.error(.challengeMismatch), a.outcome(), "\(vector.name): other challenge")
            a = good
            a.expectations.challenge.removeLast()
            check(.error(.challengeMismatch), a.outcome(), "\(vector.name): shorter challenge")
            a = good
            a.expectations.rpID = "evil.example"
            check(.error(.rpIDHashMismatch(rpID: "evil.example")), a.outcome(), "\(vector.name): other rp_id")
            a = good
            a.expectations.rpID = vector.rpId.uppercased()
            check(.error(.rpIDHashMismatch(rpID: vector.rpId.uppercased())), a.outcome(), "\(vector.name): rp_id in capitals")
            a = good
            a.expectations.origin = vector.origin + "/"
            check(.error(.originMismatch(expected: vector.origin + "/", received: vector.origin)), a.outcome(), "\(vector.name): other origin")
            a = good
            a.expectations.requireUserVerification = true
            let hasUV = AuthenticatorFlags(rawValue: good.authenticatorData[32]).contains(.userVerified)
            check(hasUV ? .accepted : .error(.userNotVerified), a.outcome(), "\(vector.name): UV required")
        }
    }

    // MARK: - Registrations

    func testEveryChangedRegistrationByteIsRefusedWithTheRightReason() throws {
        for vector in try Fixtures.allVectors() {
            let objectBytes = hex(vector.registration.attestationObject)
            let clientData = hex(vector.registration.clientDataJSON)
            let expectations = vector.registrationExpectations
            XCTAssertNil(registrationOutcome(objectBytes, clientData, expectations), vector.name)
            let object = try AttestationObject(bytes: objectBytes)
            let signed = vector.attestation != "none"
            let ifSigned: Expected = signed ? .error(.badAttestationSignature) : .accepted

            // authenticatorData, changed in place inside the attestation object.
            let authData = object.authData.rawBytes
            let start = try XCTUnwrap(objectBytes.firstRange(of: authData)).lowerBound
            for i in authData.indices {
                let masks: [UInt8] = i == 32 ? (0..<8).map { 1 << $0 } : [0x01, 0x80]
                for mask in masks {
                    var changed = objectBytes
                    changed[start + i] ^= mask
                    let expected: Expected
                    switch i {
                    case 0..<32:
                        expected = .error(.rpIDHashMismatch(rpID: vector.rpId))
                    case 32:
                        expected = expectedForFlags(original: authData[32], changed: changed[start + 32], hasCredentialData: true,
                                                    hasExtensions: object.authData.extensions != nil, requireUV: vector.requiresUV,
                                                    malformed: .malformedAttestationObject, ifSigned: ifSigned)
                    case 33..<37:
                        expected = ifSigned
                    default:
                        expected = expectedForCredentialData(changed, ifSigned: ifSigned)
                    }
                    check(expected, registrationOutcome(changed, clientData, expectations),
                          "\(vector.name): authData byte \(i) ^ \(mask)")
                }
            }

            // The attestation signature, for the formats that have one.
            if let sig = object.attStmt["sig"]?.bytesValue {
                let sigStart = try XCTUnwrap(objectBytes.firstRange(of: sig)).lowerBound
                for i in sig.indices {
                    var changed = objectBytes
                    changed[sigStart + i] ^= 0x01
                    let expected = expectedForSignature(Array(changed[sigStart..<(sigStart + sig.count)]),
                                                        malformed: { .malformedAttestationSignature($0) }, bad: .badAttestationSignature)
                    check(expected, registrationOutcome(changed, clientData, expectations), "\(vector.name): attestation sig byte \(i)")
                }
            }

            // clientDataJSON: "none" attestation signs nothing, so a change the checks do not
            // see is accepted there — and must be refused by every signed format.
            for i in clientData.indices {
                var changed = clientData
                changed[i] ^= 0x01
                let expected = expectedForClientData(changed, type: "webauthn.create", challenge: expectations.challenge,
                                                     origin: vector.origin, ifSigned: ifSigned)
                check(expected, registrationOutcome(objectBytes, changed, expectations), "\(vector.name): clientDataJSON byte \(i)")
            }

            // The expectations.
            var other = expectations
            other.challenge[other.challenge.count - 1] ^= 0x80
            check(.error(.challengeMismatch), registrationOutcome(objectBytes, clientData, other), "\(vector.name): other challenge")
            other = expectations
            other.rpID = "evil.example"
            check(.error(.rpIDHashMismatch(rpID: "evil.example")), registrationOutcome(objectBytes, clientData, other), "\(vector.name): other rp_id")
            other = expectations
            other.origin = "https://evil.example"
            check(.error(.originMismatch(expected: "https://evil.example", received: vector.origin)),
                  registrationOutcome(objectBytes, clientData, other), "\(vector.name): other origin")
        }
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

    func testRegistrationRefusesWhatItCannotUse() throws {
        let rpID = "login.example.org", origin = "https://login.example.org"
        let challenge = SecureRandom.bytes(32)
        let clientData = CollectedClientData.make(type: "webauthn.create", challenge: challenge, origin: origin)
        let expect = RegistrationExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true)
        let credential = try SoftwareCredential()
        let good = try credential.attestationObject(rpID: rpID, clientDataJSON: clientData)
        XCTAssertNil(registrationOutcome(good.encoded, clientData, expect))

        func with(fmt: String? = nil, attStmt: CBOR? = nil, authData: AuthenticatorData? = nil) -> [UInt8] {
            AttestationObject(fmt: fmt ?? good.fmt, attStmt: attStmt ?? good.attStmt, authData: authData ?? good.authData).encoded
        }
        let sig = good.attStmt["sig"]!
        let cases: [([UInt8], WebAuthnError)] = [
            (with(fmt: "fido-u2f"), .unsupportedAttestationFormat("fido-u2f")),
            (with(fmt: "none"), .malformedAttestationStatement(format: "none", reason: "must be an empty map")),
            (with(attStmt: ["sig": sig]), .malformedAttestationStatement(format: "packed", reason: "has no \"alg\"")),
            (with(attStmt: ["alg": -7]), .malformedAttestationStatement(format: "packed", reason: "has no \"sig\"")),
            (with(attStmt: ["alg": "ES256", "sig": sig]), .malformedAttestationStatement(format: "packed", reason: "\"alg\" is not an integer")),
            (with(attStmt: ["alg": -7, "sig": "x"]), .malformedAttestationStatement(format: "packed", reason: "\"sig\" is not a byte string")),
            (with(attStmt: ["alg": -257, "sig": sig]), .attestationAlgorithmMismatch(statement: -257, credential: -7)),
            (with(attStmt: ["alg": -7, "sig": sig, "ecdaaKeyId": .byteString([1])]),
             .malformedAttestationStatement(format: "packed", reason: "uses ECDAA, which is not supported")),
            (with(attStmt: ["alg": -7, "sig": sig, "x5c": []]), .malformedAttestationStatement(format: "packed", reason: "\"x5c\" is not a non-empty array")),
            (with(attStmt: ["alg": -7, "sig": sig, "x5c": ["text"]]), .malformedAttestationCertificate(index: 0, reason: "not a byte string")),
            (try with(authData: AuthenticatorData(rpID: rpID, flags: [.userPresent, .userVerified], signCount: 0)), .attestedCredentialDataMissing),
            (Array(good.encoded.dropLast()), .malformedAttestationObject(.malformedCBOR(.lengthBeyondInput(offset: good.encoded.count - good.authData.rawBytes.count - 2, declared: UInt64(good.authData.rawBytes.count))))),
            (CBOR.map(["fmt": "none", "attStmt": [:]]).encoded(), .malformedAttestationObject(.missingMember("authData"))),
            (CBOR.map(["fmt": 1, "attStmt": [:], "authData": .byteString(good.authData.rawBytes)]).encoded(), .malformedAttestationObject(.memberWrongType("fmt", expected: "text string"))),
            (CBOR.map(["fmt": "none", "attStmt": [], "authData": .byteString(good.authData.rawBytes)]).encoded(), .malformedAttestationObject(.memberWrongType("attStmt", expected: "map"))),
        ]
        for (bytes, expected) in cases {
            check(.error(expected), registrationOutcome(bytes, clientData, expect), "\(expected)")
        }

        // A certificate that does not parse, and one that is a CA.
        let garbage = try XCTUnwrap(registrationOutcome(with(attStmt: ["alg": -7, "sig": sig, "x5c": [.byteString([0x30, 0x03, 0x02, 0x01, 0x01])]]), clientData, expect))
        guard case .malformedAttestationCertificate(index: 0, _) = garbage else { return XCTFail("\(garbage)") }
        let root = try XCTUnwrap(try Fixtures.specVectors()[2].attestationRootCertificate)
        check(.error(.attestationCertificateRequirement("it is a CA certificate")),
              registrationOutcome(with(attStmt: ["alg": -7, "sig": sig, "x5c": [.byteString(hex(root))]]), clientData, expect), "CA as leaf")

        // The credential key must be ES256 and on the curve.
        var offCurveY = credential.coseKey.y
        offCurveY[0] ^= 1
        let offCurve = try AttestedCredentialData(aaguid: credential.aaguid, credentialID: credential.credentialID,
                                                  credentialPublicKey: COSEKey(x: credential.coseKey.x, y: offCurveY))
        let badKey = try with(authData: AuthenticatorData(rpID: rpID, flags: [.userPresent, .userVerified], signCount: 0, attestedCredentialData: offCurve))
        guard case .invalidCredentialPublicKey(.invalidPoint) = registrationOutcome(badKey, clientData, expect) else {
            return XCTFail("a key off the curve must be refused as such")
        }
        var rs256 = try AuthenticatorData(rpID: rpID, flags: [.userPresent, .userVerified], signCount: 0).rawBytes
        rs256[32] |= 0x40
        rs256 += credential.aaguid + [0, 1, 9] + CBOR.map([1: 3, 3: -257, -1: .byteString([1]), -2: .byteString([1, 0, 1])]).encoded()
        let rs256Object = CBOR.map(["fmt": "none", "attStmt": [:], "authData": .byteString(rs256)]).encoded()
        check(.error(.unsupportedCredentialAlgorithm(-257)), registrationOutcome(rs256Object, clientData, expect), "RS256 credential")
    }
}
