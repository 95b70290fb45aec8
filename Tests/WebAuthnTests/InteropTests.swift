import CBOREncoding
import Foundation
import XCTest
import Crypto
import WebAuthn

/// The other direction: what our code produces, verifiers we did not write accept — Debian's
/// fido2-assert (libfido2) for assertions, python-fido2's Fido2Server for registrations.
final class InteropTests: XCTestCase {
    let rpID = "host-b.example.org"
    let origin = "https://host-b.example.org"

    struct Ceremony {
        let credential: SoftwareCredential
        let registrationChallenge: [UInt8]
        let registrationClientData: [UInt8]
        let attestationObject: AttestationObject
        let assertionChallenge: [UInt8]
        let assertionClientData: [UInt8]
        let authenticatorData: [UInt8]
        let signature: [UInt8]
    }

    /// A registration and a login, made and verified entirely by this module.
    func ceremony(packed: Bool = true) throws -> Ceremony {
        let credential = try SoftwareCredential()
        let regChallenge = SecureRandom.bytes(32)
        let regClientData = CollectedClientData.make(type: "webauthn.create", challenge: regChallenge, origin: origin)
        let object = try credential.attestationObject(rpID: rpID, clientDataJSON: regClientData,
                                                      flags: [.userPresent, .userVerified], signCount: 0, packed: packed)
        let registration = try RegistrationVerifier.verify(
            attestationObject: object.encoded, clientDataJSON: regClientData,
            expecting: RegistrationExpectations(challenge: regChallenge, origin: origin, rpID: rpID, requireUserVerification: true))

        let getChallenge = SecureRandom.bytes(32)
        let getClientData = CollectedClientData.make(type: "webauthn.get", challenge: getChallenge, origin: origin)
        let (authData, signature) = try credential.assertion(rpID: rpID, clientDataJSON: getClientData,
                                                             flags: [.userPresent, .userVerified], signCount: 1)
        _ = try AssertionVerifier.verify(
            authenticatorData: authData, clientDataJSON: getClientData, signature: signature,
            credentialPublicKey: registration.credentialPublicKey, storedSignCount: registration.signCount,
            expecting: AssertionExpectations(challenge: getChallenge, origin: origin, rpID: rpID, requireUserVerification: true))
        return Ceremony(credential: credential, registrationChallenge: regChallenge, registrationClientData: regClientData,
                        attestationObject: object, assertionChallenge: getChallenge, assertionClientData: getClientData,
                        authenticatorData: authData, signature: signature)
    }

    // MARK: - fido2-assert -V

    /// fido2-assert(1) input for -V: client data hash, rp id, CBOR-wrapped authenticatorData,
    /// DER signature; blobs in standard base64.
    func fido2AssertInput(_ c: Ceremony, rpID: String, authenticatorData: [UInt8]? = nil) -> String {
        let wrapped = CBOR.byteString(authenticatorData ?? c.authenticatorData).encoded()
        return [Data(SHA256.hash(c.assertionClientData)).base64EncodedString(), rpID,
                Data(wrapped).base64EncodedString(), Data(c.signature).base64EncodedString()].joined(separator: "\n") + "\n"
    }

    func fido2AssertVerify(_ input: String, publicKeyPEM: String) throws -> (status: Int32, output: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("webauthn-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputFile = dir.appendingPathComponent("assert_param"), keyFile = dir.appendingPathComponent("pubkey.pem")
        try Data(input.utf8).write(to: inputFile)
        try Data(publicKeyPEM.utf8).write(to: keyFile)
        // -p and -v: also require that the UP and UV bits were signed.
        return try runTool("/usr/bin/fido2-assert", ["-V", "-p", "-v", "-i", inputFile.path, keyFile.path, "es256"])
    }

    func testFido2AssertVerifiesOurAssertion() throws {
        let c = try ceremony()
        // The key fido2-assert gets is the one our COSE_Key decodes to, not the private key's.
        let pem = try COSEKey(encoded: c.attestationObject.authData.attestedCredentialData!.credentialPublicKey.encoded).publicKey().pemRepresentation
        let accepted = try fido2AssertVerify(fido2AssertInput(c, rpID: rpID), publicKeyPEM: pem)
        XCTAssertEqual(accepted.status, 0, "fido2-assert refused our assertion: \(accepted.output)")

        let otherRP = try fido2AssertVerify(fido2AssertInput(c, rpID: "host-c.example.org"), publicKeyPEM: pem)
        XCTAssertNotEqual(otherRP.status, 0, "fido2-assert accepted an assertion for another rp_id")

        var tampered = c.authenticatorData
        tampered[36] ^= 1  // the counter
        let changed = try fido2AssertVerify(fido2AssertInput(c, rpID: rpID, authenticatorData: tampered), publicKeyPEM: pem)
        XCTAssertNotEqual(changed.status, 0, "fido2-assert accepted a changed authenticatorData")

        let otherKey = try fido2AssertVerify(fido2AssertInput(c, rpID: rpID), publicKeyPEM: try P256PrivateKey().publicKey.pemRepresentation)
        XCTAssertNotEqual(otherKey.status, 0, "fido2-assert accepted the assertion under another key")
    }

    func testFido2AssertChecksTheUserVerificationBitWeSet() throws {
        let credential = try SoftwareCredential()
        let clientData = CollectedClientData.make(type: "webauthn.get", challenge: SecureRandom.bytes(32), origin: origin)
        let (authData, signature) = try credential.assertion(rpID: rpID, clientDataJSON: clientData, flags: .userPresent, signCount: 9)
        let input = [Data(SHA256.hash(clientData)).base64EncodedString(), rpID,
                     Data(CBOR.byteString(authData).encoded()).base64EncodedString(), Data(signature).base64EncodedString()].joined(separator: "\n") + "\n"
        let pem = try credential.coseKey.publicKey().pemRepresentation
        XCTAssertNotEqual(try fido2AssertVerify(input, publicKeyPEM: pem).status, 0, "UV was not set, -v must refuse")
    }

    // MARK: - python-fido2 Fido2Server

    func pythonVerify(_ c: Ceremony, rpID: String? = nil, includeAssertion: Bool = true) throws -> (status: Int32, output: String) {
        var request: [String: Any] = [
            "rpId": rpID ?? self.rpID, "origin": origin, "requireUserVerification": true,
            "registration": ["challenge": hexString(c.registrationChallenge), "clientDataJSON": hexString(c.registrationClientData),
                             "attestationObject": hexString(c.attestationObject.encoded)],
        ]
        if includeAssertion {
            request["assertion"] = ["challenge": hexString(c.assertionChallenge), "clientDataJSON": hexString(c.assertionClientData),
                                    "authenticatorData": hexString(c.authenticatorData), "signature": hexString(c.signature)]
        }
        let python = Fixtures.repositoryRoot.appendingPathComponent(".venv-test/bin/python").path
        let script = Fixtures.directory.appendingPathComponent("verify_with_fido2.py").path
        return try runTool(python, ["-B", script], stdin: try JSONSerialization.data(withJSONObject: request))
    }

    func testPythonFido2AcceptsOurPackedRegistrationAndAssertion() throws {
        let c = try ceremony(packed: true)
        let result = try pythonVerify(c)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("registration accepted: fmt=packed flags=0x45 credential_id=\(hexString(c.credential.credentialID))"), result.output)
        XCTAssertTrue(result.output.contains("assertion accepted: flags=0x05 counter=1"), result.output)
    }

    func testPythonFido2AcceptsOurNoneRegistration() throws {
        let c = try ceremony(packed: false)
        let result = try pythonVerify(c)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("registration accepted: fmt=none"), result.output)
    }

    /// The control: python-fido2 does refuse what it should, so its acceptance above means something.
    func testPythonFido2RefusesOurRegistrationForAnotherRP() throws {
        let result = try pythonVerify(try ceremony(), rpID: "host-c.example.org", includeAssertion: false)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("Wrong RP ID hash"), result.output)

        let c = try ceremony()
        var signature = c.attestationObject.attStmt["sig"]!.bytesValue!
        signature[signature.count - 1] ^= 1
        let forged = Ceremony(credential: c.credential, registrationChallenge: c.registrationChallenge,
                              registrationClientData: c.registrationClientData,
                              attestationObject: AttestationObject(fmt: "packed", attStmt: ["alg": -7, "sig": .byteString(signature)],
                                                                   authData: c.attestationObject.authData),
                              assertionChallenge: c.assertionChallenge, assertionClientData: c.assertionClientData,
                              authenticatorData: c.authenticatorData, signature: c.signature)
        let refused = try pythonVerify(forged, includeAssertion: false)
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("InvalidSignature"), refused.output)
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
