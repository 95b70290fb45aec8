import Identifiers
import CBOREncoding
import XCTest
import Crypto
import WebAuthn

final class AuthenticatorDataTests: XCTestCase {
    let rpIDHash = SHA256.hash(Array("example.org".utf8))

    func testParsesTheSpecificationRegistrationAuthenticatorData() throws {
        let vector = try Fixtures.specVectors()[0]  // none.ES256
        let object = try CBOR.decode(hex(vector.registration.attestationObject))
        let raw = try XCTUnwrap(object["authData"]?.bytesValue)
        let authData = try AuthenticatorData(bytes: raw)
        XCTAssertEqual(authData.rpIDHash, rpIDHash)
        XCTAssertEqual(authData.flags, [.userPresent, .backupEligible, .backedUp, .attestedCredentialData])
        XCTAssertEqual(authData.signCount, 0)
        XCTAssertEqual(authData.attestedCredentialData?.aaguid, hex("8446ccb9ab1db374750b2367ff6f3a1f"))
        XCTAssertEqual(authData.attestedCredentialData?.credentialID.bytes, hex(vector.credentialId))
        XCTAssertEqual(authData.attestedCredentialData?.credentialPublicKey.encoded, hex(vector.credentialPublicKey))
        XCTAssertNil(authData.extensions)
        XCTAssertEqual(authData.rawBytes, raw)
        XCTAssertEqual(authData.bytes, raw)
    }

    func testBuiltDataParsesBackAndDerivesATAndEDFromContent() throws {
        let key = try P256PrivateKey()
        let credential = try AttestedCredentialData(aaguid: Array(repeating: 7, count: 16), credentialID: CredentialID([1, 2, 3]),
                                                    credentialPublicKey: COSEKey(publicKey: key.publicKey))
        // The caller's AT/ED bits are replaced by what is actually present.
        let built = try AuthenticatorData(rpIDHash: rpIDHash, flags: [.userPresent, .userVerified, .extensionData],
                                          signCount: 0x0102_0304, attestedCredentialData: credential, extensions: ["credProtect": 2])
        XCTAssertEqual(built.flags, [.userPresent, .userVerified, .attestedCredentialData, .extensionData])
        XCTAssertEqual(Array(built.bytes[32...36]), [0xC5, 0x01, 0x02, 0x03, 0x04])
        let parsed = try AuthenticatorData(bytes: built.bytes)
        XCTAssertEqual(parsed, built)
        XCTAssertEqual(parsed.extensions?["credProtect"]?.intValue, 2)

        let bare = try AuthenticatorData(rpID: "example.org", flags: [.userPresent, .attestedCredentialData], signCount: 1)
        XCTAssertEqual(bare.flags, .userPresent)
        XCTAssertEqual(bare.bytes, rpIDHash + [0x01, 0, 0, 0, 1])
    }

    func testRefusals() throws {
        let key = COSEKey(publicKey: try P256PrivateKey().publicKey)
        let head: (UInt8) -> [UInt8] = { flags in self.rpIDHash + [flags, 0, 0, 0, 9] }
        let aaguid = [UInt8](repeating: 0xAA, count: 16)
        let credential = aaguid + [0x00, 0x02, 0xC1, 0xC2] + key.encoded

        let cases: [([UInt8], AuthenticatorDataError)] = [
            (Array(head(0x01).prefix(36)), .tooShort(36)),
            ([], .tooShort(0)),
            (head(0x41), .attestedCredentialDataMissing),
            (head(0x41) + aaguid, .attestedCredentialDataTruncated),
            (head(0x41) + aaguid + [0x04, 0x00] + [UInt8](repeating: 0, count: 1024) + key.encoded, .credentialIDTooLong(1024)),
            (head(0x41) + aaguid + [0x00, 0x20, 0x01], .attestedCredentialDataTruncated),
            (head(0x41) + aaguid + [0x00, 0x01, 0xC1], .credentialPublicKey(.malformedCBOR(.truncated(offset: 0)))),
            (head(0x41) + aaguid + [0x00, 0x01, 0xC1, 0xA1, 0x01], .credentialPublicKey(.malformedCBOR(.lengthBeyondInput(offset: 0, declared: 1)))),
            (head(0x41) + aaguid + [0x00, 0x01, 0xC1] + CBOR.map([1: 3, 3: -257]).encoded(), .credentialPublicKey(.unsupportedAlgorithm(-257))),
            (head(0x01) + [0x00], .trailingBytes(offset: 37, count: 1, flags: .userPresent)),
            (head(0x01) + credential, .trailingBytes(offset: 37, count: credential.count, flags: .userPresent)),
            (head(0x41) + credential + [0xA0], .trailingBytes(offset: 37 + credential.count, count: 1, flags: [.userPresent, .attestedCredentialData])),
            (head(0x81), .extensionDataMissing),
            (head(0xC1) + credential, .extensionDataMissing),
            (head(0x81) + [0x80], .extensionsNotAMap),
            (head(0x81) + [0xA1, 0x01], .malformedExtensions(.lengthBeyondInput(offset: 0, declared: 1))),
            (head(0x81) + [0xA0, 0xA0], .trailingBytes(offset: 38, count: 1, flags: [.userPresent, .extensionData])),
            (head(0x11), .backedUpWithoutBackupEligible),
        ]
        for (bytes, expected) in cases {
            XCTAssertThrows(expected) { () throws(AuthenticatorDataError) in try AuthenticatorData(bytes: bytes) }
        }
        // Reserved bits are ignored, as the specification asks.
        XCTAssertEqual(try AuthenticatorData(bytes: head(0x23)).flags.rawValue, 0x23)
        XCTAssertNoThrow(try AuthenticatorData(bytes: head(0x19)))
        XCTAssertNoThrow(try AuthenticatorData(bytes: head(0x41) + aaguid + [0x03, 0xFF] + [UInt8](repeating: 0, count: 1023) + key.encoded))
    }

    func testBuilderRefusesWhatTheParserWould() throws {
        let key = COSEKey(publicKey: try P256PrivateKey().publicKey)
        XCTAssertThrows(AuthenticatorDataError.rpIDHashLength(31)) { () throws(AuthenticatorDataError) in
            try AuthenticatorData(rpIDHash: Array(rpIDHash.dropLast()), flags: .userPresent, signCount: 0)
        }
        XCTAssertThrows(AuthenticatorDataError.backedUpWithoutBackupEligible) { () throws(AuthenticatorDataError) in
            try AuthenticatorData(rpIDHash: rpIDHash, flags: [.userPresent, .backedUp], signCount: 0)
        }
        XCTAssertThrows(AuthenticatorDataError.extensionsNotAMap) { () throws(AuthenticatorDataError) in
            try AuthenticatorData(rpIDHash: rpIDHash, flags: .userPresent, signCount: 0, extensions: [1])
        }
        XCTAssertThrows(AuthenticatorDataError.credentialIDTooLong(1024)) { () throws(AuthenticatorDataError) in
            try AttestedCredentialData(aaguid: Array(repeating: 0, count: 16), credentialID: CredentialID(Array(repeating: 0, count: 1024)), credentialPublicKey: key)
        }
        XCTAssertThrows(AuthenticatorDataError.aaguidLength(15)) { () throws(AuthenticatorDataError) in
            try AttestedCredentialData(aaguid: Array(repeating: 0, count: 15), credentialID: CredentialID([1]), credentialPublicKey: key)
        }
    }

    func testFlagsDescription() {
        XCTAssertEqual(AuthenticatorFlags(rawValue: 0x5D).description, "UP|UV|BE|BS|AT")
        XCTAssertEqual(AuthenticatorFlags().description, "none")
    }
}
