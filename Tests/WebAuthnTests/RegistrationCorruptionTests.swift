import Identifiers
import CBOREncoding
import Foundation
import XCTest
import Crypto
import WebAuthn

/// Every single-byte change to a known-good registration must be refused for the right
/// reason — or, for "none" attestation, which signs nothing, accepted exactly where the
/// checks cannot see it.
final class RegistrationCorruptionTests: XCTestCase {
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
        let offCurve = try AttestedCredentialData(aaguid: credential.aaguid, credentialID: CredentialID(credential.credentialID),
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
