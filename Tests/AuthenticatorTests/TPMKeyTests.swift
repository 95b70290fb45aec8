@testable import Authenticator
import Crypto
import Foundation
import WebAuthn
import XCTest

/// The TPM pieces below the helper protocol, against a swtpm of their own.
final class TPMKeyTests: XCTestCase {
    var directory = ""
    var tpm: SoftwareTPM!

    override func setUpWithError() throws {
        var template = Array("/tmp/passkey-tpm-key.XXXXXX".utf8CString)
        directory = String(cString: mkdtemp(&template)!)
        tpm = try SoftwareTPM(directory: directory)
    }

    override func tearDownWithError() throws {
        tpm?.stop()
        if !directory.isEmpty { try? FileManager.default.removeItem(atPath: directory) }
    }

    func testAuthValueIsBoundToSaltAndPINAndFitsTheNameAlgorithm() {
        let pin = SecretBytes(Array("482913".utf8))
        let salt = SecureRandom.bytes(TPMAuthValue.saltByteCount)
        let a = TPMAuthValue.derive(pin: pin, salt: salt).copyBytes()
        XCTAssertEqual(a, TPMAuthValue.derive(pin: SecretBytes(Array("482913".utf8)), salt: salt).copyBytes())
        XCTAssertNotEqual(a, TPMAuthValue.derive(pin: SecretBytes(Array("482914".utf8)), salt: salt).copyBytes())
        XCTAssertNotEqual(a, TPMAuthValue.derive(pin: pin, salt: SecureRandom.bytes(TPMAuthValue.saltByteCount)).copyBytes())
        XCTAssertLessThanOrEqual(a.count, 32)
        // One salt in 256 gives a digest ending in zero: the TPM would drop that byte, so we do.
        var found = false
        for i in 0..<4096 {
            let s = SHA256.hash(Array("salt \(i)".utf8))
            let full = SHA256.hash(TPMAuthValue.label + [0] + s + Array("482913".utf8))
            guard full.last == 0 else { continue }
            let derived = TPMAuthValue.derive(pin: pin, salt: s).copyBytes()
            XCTAssertEqual(derived, Array(full.reversed().drop { $0 == 0 }.reversed()))
            XCTAssertNotEqual(derived.last, 0)
            found = true
            break
        }
        XCTAssertTrue(found)
    }

    /// A record whose blobs were damaged or edited is unusable — refused before or by the TPM,
    /// never loaded as something else.
    func testDamagedOrEditedBlobsDoNotLoad() throws {
        let auth = TPMAuthValue.derive(pin: SecretBytes(Array("482913".utf8)), salt: SecureRandom.bytes(32))
        let blobs = try TPMConnection.open(tcti: tpm.tcti) { (c: TPMConnection) throws(TPMError) -> TPMKeyBlobs in
            let primary = try TPMStoragePrimary.create(on: c)
            let session = try TPMSession.startSalted(on: c, saltKey: primary)
            return try TPMCredentialKey.create(on: c, parent: primary, session: session, authValue: auth).blobs
        }
        var flipped = blobs
        flipped.privateArea[flipped.privateArea.count - 5] ^= 0x01
        var truncated = blobs
        truncated.publicArea.removeLast()
        // noDA switched on in the public area: what someone would try to escape the TPM's limit.
        var pub = try blobs.unmarshalPublic()
        pub.publicArea.objectAttributes |= TSS2.noDA
        let noDA = try TPMKeyBlobs(pub, try blobs.unmarshalPrivate())

        func outcome(_ b: TPMKeyBlobs) throws -> String? {
            let record = TPMCredential(version: 1, credentialID: "AA", rpID: "rp", user: "alice", userHandle: "AQ", created: 0,
                                       parent: TPMStoragePrimary.name, authSalt: "", publicArea: Base64URL.encode(b.publicArea),
                                       privateArea: Base64URL.encode(b.privateArea), signCount: 0, failedAttempts: 0, lockedAt: nil)
            return try TPMConnection.open(tcti: tpm.tcti) { (c: TPMConnection) throws(TPMError) -> String? in
                let primary = try TPMStoragePrimary.create(on: c)
                switch try TPMAuthenticator.load(record, on: c, parent: primary) {
                case .loaded(let key): c.flush(key); return nil
                case .unloadable(let why): return why
                }
            }
        }
        XCTAssertNil(try outcome(blobs), "the original loads")
        XCTAssertTrue(try outcome(flipped)?.contains("does not load into this computer's TPM") ?? false)
        XCTAssertTrue(try outcome(truncated)?.contains("is damaged") ?? false)
        XCTAssertTrue(try outcome(noDA)?.contains("not a pam_passkey credential key") ?? false)
        XCTAssertEqual(try tpm.handles("handles-transient"), [])
    }
}
