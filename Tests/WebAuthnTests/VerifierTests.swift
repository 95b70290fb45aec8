import XCTest
import Crypto
import WebAuthn

/// The verifiers against credentials made with this module's own authenticator-side API.
final class VerifierTests: XCTestCase {
    let rpID = "host-b.example.org"
    let origin = "https://host-b.example.org"

    struct Login {
        var authenticatorData: [UInt8]
        var clientDataJSON: [UInt8]
        var signature: [UInt8]
        var expectations: AssertionExpectations
        var storedSignCount: UInt32
        var key: COSEKey

        func verify() throws(WebAuthnError) -> VerifiedAssertion {
            try AssertionVerifier.verify(authenticatorData: authenticatorData, clientDataJSON: clientDataJSON, signature: signature,
                                         credentialPublicKey: key, storedSignCount: storedSignCount, expecting: expectations)
        }
    }

    func login(_ credential: SoftwareCredential, flags: AuthenticatorFlags = [.userPresent, .userVerified], signCount: UInt32 = 1,
               stored: UInt32 = 0, requireUV: Bool = true, type: String = "webauthn.get", rpID: String? = nil) throws -> Login {
        let challenge = SecureRandom.bytes(32)
        let clientData = CollectedClientData.make(type: type, challenge: challenge, origin: origin)
        let (authData, signature) = try credential.assertion(rpID: rpID ?? self.rpID, clientDataJSON: clientData, flags: flags, signCount: signCount)
        return Login(authenticatorData: authData, clientDataJSON: clientData, signature: signature,
                     expectations: AssertionExpectations(challenge: challenge, origin: origin, rpID: self.rpID, requireUserVerification: requireUV),
                     storedSignCount: stored, key: credential.coseKey)
    }

    func testOwnRegistrationAndLoginVerify() throws {
        let credential = try SoftwareCredential()
        let challenge = SecureRandom.bytes(32)
        let clientData = CollectedClientData.make(type: "webauthn.create", challenge: challenge, origin: origin)
        for packed in [true, false] {
            let object = try credential.attestationObject(rpID: rpID, clientDataJSON: clientData,
                                                          flags: [.userPresent, .userVerified, .backupEligible, .backedUp], signCount: 3, packed: packed)
            let registration = try RegistrationVerifier.verify(
                attestationObject: object.encoded, clientDataJSON: clientData,
                expecting: RegistrationExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true))
            XCTAssertEqual(registration.credentialID.bytes, credential.credentialID)
            XCTAssertEqual(registration.credentialPublicKey, credential.coseKey)
            XCTAssertEqual(registration.aaguid, credential.aaguid)
            XCTAssertEqual(registration.signCount, 3)
            XCTAssertEqual(registration.flags, [.userPresent, .userVerified, .backupEligible, .backedUp, .attestedCredentialData])
            XCTAssertEqual(registration.attestation, packed ? .selfAttestation : .none)
        }
        let result = try login(credential, signCount: 4, stored: 3).verify()
        XCTAssertEqual(result.signCount, 4)
        XCTAssertEqual(result.flags, [.userPresent, .userVerified])
    }

    /// §7.2 step 22. A counter that does not grow is reported as a possible clone, distinct
    /// from a bad signature; authenticators without a counter always send zero.
    func testSignCounterRule() throws {
        let credential = try SoftwareCredential()
        let accepted: [(stored: UInt32, received: UInt32)] = [(0, 0), (0, 7), (5, 6), (5, UInt32.max)]
        for (stored, received) in accepted {
            XCTAssertEqual(try login(credential, signCount: received, stored: stored).verify().signCount, received, "\(stored) → \(received)")
        }
        let refused: [(stored: UInt32, received: UInt32)] = [(5, 5), (5, 3), (5, 0), (UInt32.max, UInt32.max)]
        for (stored, received) in refused {
            let l = try login(credential, signCount: received, stored: stored)
            XCTAssertThrows(WebAuthnError.signCountNotIncreased(stored: stored, received: received)) { () throws(WebAuthnError) in try l.verify() }
        }
        XCTAssertEqual(WebAuthnError.signCountNotIncreased(stored: 5, received: 3).description,
                       "signature counter 3 is not greater than the stored 5: the credential may have been cloned")
    }

    /// The counter is judged only for a genuine signature: a forgery with a stale counter is
    /// a bad signature, not a clone.
    func testCounterIsCheckedOnlyAfterTheSignature() throws {
        let credential = try SoftwareCredential()
        var l = try login(credential, signCount: 2, stored: 9)
        l.signature = try login(try SoftwareCredential(), signCount: 2).signature
        XCTAssertThrows(WebAuthnError.badSignature) { () throws(WebAuthnError) in try l.verify() }
    }

    func testUserPresenceAndVerification() throws {
        let credential = try SoftwareCredential()
        let withoutUV = try login(credential, flags: .userPresent, requireUV: true)
        XCTAssertThrows(WebAuthnError.userNotVerified) { () throws(WebAuthnError) in try withoutUV.verify() }
        XCTAssertEqual(try login(credential, flags: .userPresent, requireUV: false).verify().flags, .userPresent)
        let withoutUP = try login(credential, flags: .userVerified, requireUV: true)
        XCTAssertThrows(WebAuthnError.userNotPresent) { () throws(WebAuthnError) in try withoutUP.verify() }
    }

    /// When several things are wrong, the first check in the specification's order speaks.
    func testChecksRunInTheSpecifiedOrder() throws {
        let credential = try SoftwareCredential()
        let other = try SoftwareCredential()

        var l = try login(credential, flags: [], type: "webauthn.create", rpID: "evil.example")
        l.expectations.challenge[0] ^= 1
        l.expectations.origin = "https://elsewhere.example"
        l.signature = try login(other).signature
        XCTAssertThrows(WebAuthnError.clientDataTypeMismatch(expected: "webauthn.get", received: "webauthn.create")) { () throws(WebAuthnError) in try l.verify() }

        l = try login(credential, flags: [], rpID: "evil.example")
        l.expectations.challenge[0] ^= 1
        l.expectations.origin = "https://elsewhere.example"
        XCTAssertThrows(WebAuthnError.challengeMismatch) { () throws(WebAuthnError) in try l.verify() }

        l = try login(credential, flags: [], rpID: "evil.example")
        l.expectations.origin = "https://elsewhere.example"
        XCTAssertThrows(WebAuthnError.originMismatch(expected: "https://elsewhere.example", received: origin)) { () throws(WebAuthnError) in try l.verify() }

        l = try login(credential, flags: [], rpID: "evil.example")
        XCTAssertThrows(WebAuthnError.rpIDHashMismatch(rpID: rpID)) { () throws(WebAuthnError) in try l.verify() }
        XCTAssertEqual(WebAuthnError.rpIDHashMismatch(rpID: rpID).description, "rpIdHash does not match rp_id \"host-b.example.org\"")

        l = try login(credential, flags: [])
        l.signature = try login(other).signature
        XCTAssertThrows(WebAuthnError.userNotPresent) { () throws(WebAuthnError) in try l.verify() }

        l = try login(credential, flags: .userPresent)
        l.signature = try login(other).signature
        XCTAssertThrows(WebAuthnError.userNotVerified) { () throws(WebAuthnError) in try l.verify() }

        // A signature that is not DER is reported as such, before the counter is looked at.
        l = try login(credential, signCount: 1, stored: 1)
        l.signature = [0x30, 0x00]
        XCTAssertThrows(WebAuthnError.malformedSignature(.notDER("truncated"))) { () throws(WebAuthnError) in try l.verify() }
    }

    func testAStoredKeyOffTheCurveIsReported() throws {
        let credential = try SoftwareCredential()
        var l = try login(credential)
        var y = l.key.y
        y[5] ^= 0x10
        l.key = try COSEKey(x: l.key.x, y: y)
        XCTAssertThrowsError(try l.verify()) { error in
            guard case .invalidCredentialPublicKey(.invalidPoint) = error as? WebAuthnError else { return XCTFail("\(error)") }
        }
    }

    func testRegistrationWithoutUserVerificationWhenRequired() throws {
        let credential = try SoftwareCredential()
        let challenge = SecureRandom.bytes(16)
        let clientData = CollectedClientData.make(type: "webauthn.create", challenge: challenge, origin: origin)
        let object = try credential.attestationObject(rpID: rpID, clientDataJSON: clientData, flags: .userPresent)
        let expect = RegistrationExpectations(challenge: challenge, origin: origin, rpID: rpID, requireUserVerification: true)
        XCTAssertThrows(WebAuthnError.userNotVerified) { () throws(WebAuthnError) in
            try RegistrationVerifier.verify(attestationObject: object.encoded, clientDataJSON: clientData, expecting: expect)
        }
        // And a login's clientDataJSON is not a registration's.
        let getData = CollectedClientData.make(type: "webauthn.get", challenge: challenge, origin: origin)
        XCTAssertThrows(WebAuthnError.clientDataTypeMismatch(expected: "webauthn.create", received: "webauthn.get")) { () throws(WebAuthnError) in
            try RegistrationVerifier.verify(attestationObject: object.encoded, clientDataJSON: getData, expecting: expect)
        }
    }
}
