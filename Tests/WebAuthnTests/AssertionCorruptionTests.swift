import Foundation
import XCTest
import Crypto
import WebAuthn

/// Every single-byte change to a known-good assertion must be refused, and refused for the
/// right reason (see CorruptionModel.swift for how the reason is worked out).
final class AssertionCorruptionTests: XCTestCase {
    func testEveryChangedAssertionSignatureByteIsRefused() throws {
        for vector in try Fixtures.allVectors() {
            let good = try assertionUnderTest(vector)
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

    func testEveryChangedAuthenticatorDataByteIsRefused() throws {
        for vector in try Fixtures.allVectors() {
            let good = try assertionUnderTest(vector)
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
            let good = try assertionUnderTest(vector)
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
        let good = try assertionUnderTest(vector)
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
            let good = try assertionUnderTest(vector)
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
}
