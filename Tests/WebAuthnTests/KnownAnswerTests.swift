import CBOREncoding
import XCTest
import Crypto
import WebAuthn

/// Registrations and assertions made by implementations we did not write — the W3C
/// specification's test vectors and a python-fido2 software authenticator (Fixtures/) —
/// must all verify, and report what they contain.
final class KnownAnswerTests: XCTestCase {
    func testEveryRegistrationVerifies() throws {
        for vector in try Fixtures.allVectors() {
            let result = try RegistrationVerifier.verify(attestationObject: hex(vector.registration.attestationObject),
                                                         clientDataJSON: hex(vector.registration.clientDataJSON),
                                                         expecting: vector.registrationExpectations)
            XCTAssertEqual(result.credentialID.bytes, hex(vector.credentialId), vector.name)
            XCTAssertEqual(result.credentialPublicKey.encoded, hex(vector.credentialPublicKey), vector.name)
            if let aaguid = vector.aaguid { XCTAssertEqual(result.aaguid, hex(aaguid), vector.name) }
            if let flags = vector.registration.flags { XCTAssertEqual(result.flags.rawValue, UInt8(flags), vector.name) }
            if let count = vector.registration.signCount { XCTAssertEqual(result.signCount, count, vector.name) }
            XCTAssertTrue(result.flags.contains(.attestedCredentialData), vector.name)

            switch (vector.attestation, result.attestation) {
            case ("none", .none), ("self", .selfAttestation):
                break
            case ("x5c", .certificate(let chain, let verified)):
                XCTAssertFalse(verified, "this project keeps no attestation roots, so a chain is never reported verified")
                XCTAssertEqual(chain.count, 1, vector.name)
                // The statement's certificate really is the one issued under the vector's root.
                let leaf = try X509Certificate(derRepresentation: chain[0])
                XCTAssertEqual(leaf.version, 3)
                XCTAssertFalse(leaf.isCA)
                XCTAssertNotNil(vector.attestationRootCertificate)
            default:
                XCTFail("\(vector.name): expected \(vector.attestation) attestation, got \(result.attestation)")
            }
        }
    }

    func testTheSpecificationFlagsAreReportedAsWritten() throws {
        let spec = try Fixtures.specVectors()
        let flags = try spec.map { vector in
            try RegistrationVerifier.verify(attestationObject: hex(vector.registration.attestationObject),
                                            clientDataJSON: hex(vector.registration.clientDataJSON),
                                            expecting: vector.registrationExpectations).flags
        }
        XCTAssertEqual(flags, [
            [.userPresent, .backupEligible, .backedUp, .attestedCredentialData],  // 0x59
            [.userPresent, .userVerified, .backupEligible, .backedUp, .attestedCredentialData],  // 0x5d
            [.userPresent, .userVerified, .backupEligible, .attestedCredentialData],  // 0x4d
        ])
    }

    func testEveryAssertionVerifiesWithTheRegisteredKey() throws {
        for vector in try Fixtures.allVectors() {
            let registration = try RegistrationVerifier.verify(attestationObject: hex(vector.registration.attestationObject),
                                                               clientDataJSON: hex(vector.registration.clientDataJSON),
                                                               expecting: vector.registrationExpectations)
            let result = try AssertionVerifier.verify(authenticatorData: hex(vector.assertion.authenticatorData),
                                                      clientDataJSON: hex(vector.assertion.clientDataJSON),
                                                      signature: hex(vector.assertion.signature),
                                                      credentialPublicKey: registration.credentialPublicKey,
                                                      storedSignCount: registration.signCount,
                                                      expecting: vector.assertionExpectations)
            if let flags = vector.assertion.flags { XCTAssertEqual(result.flags.rawValue, UInt8(flags), vector.name) }
            if let count = vector.assertion.signCount { XCTAssertEqual(result.signCount, count, vector.name) }
            XCTAssertTrue(result.flags.contains(.userPresent))
        }
    }

    /// Both generators write canonical CBOR, so parsing and re-encoding changes no byte.
    func testAttestationObjectsReencodeByteForByte() throws {
        for vector in try Fixtures.allVectors() {
            let bytes = hex(vector.registration.attestationObject)
            let object = try AttestationObject(bytes: bytes)
            XCTAssertEqual(object.encoded, bytes, vector.name)
            XCTAssertEqual(try CBOR.decode(bytes).encoded(), bytes, vector.name)
        }
    }
}
