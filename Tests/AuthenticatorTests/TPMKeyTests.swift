@testable import Authenticator
import Crypto
import Foundation
import HelperProtocol
import WebAuthn
import XCTest
import Identifiers
import IdentifierLiterals

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

    /// libtss2's pcap TCTI records every command and response between us and the TPM — what
    /// someone probing the bus would see. The PIN-derived authValue is in none of them: TPM2_Create
    /// gets it encrypted (salted session, parameter encryption) and TPM2_Sign only an HMAC.
    func testThePINDerivedAuthValueNeverCrossesTheTPMInterfaceInTheClear() throws {
        let capture = directory + "/bus.pcap"
        setenv("TCTI_PCAP_FILE", capture, 1)
        defer { unsetenv("TCTI_PCAP_FILE") }
        let state = directory + "/state"
        mkdir(state, 0o700)
        let authenticator = TPMAuthenticator(
            store: KeyringStore<TPMCredential>(stateDirectory: state, backend: "tpm"),
            settings: .init(tcti: "pcap:" + tpm.tcti, pinMinLength: 6, pinMaxAttempts: 5), afterReply: AfterReply(), now: { 1_700_000_000 })
        let pin = FixedPIN(text: "482913")
        let created = try authenticator.makeCredential(
            MakeCredentialRequest(user: "alice", rpID: "rp.example", clientDataHash: SHA256.hash([1]), userHandle: [1]), pins: pin)
        let clientDataHash = SHA256.hash([2])
        let assertion = try authenticator.getAssertion(
            GetAssertionRequest(user: "alice", rpID: "rp.example", clientDataHash: clientDataHash, allowCredentials: [created.credentialID]),
            pins: pin)

        let record = try XCTUnwrap(try KeyringStore<TPMCredential>(stateDirectory: state, backend: "tpm").credentials(of: "alice").first)
        let authValue = TPMAuthValue.derive(pin: SecretBytes(Array("482913".utf8)), salt: try XCTUnwrap(Base64URL.decode(record.authSalt)))
        let bus = try Data(contentsOf: URL(fileURLWithPath: capture))
        // The capture is real: it holds TPM2_Create's command and the digest TPM2_Sign signed.
        XCTAssertTrue(containsCommand(bus, code: 0x0000_0153), "no TPM2_Create in the capture")
        XCTAssertNotNil(bus.range(of: Data(SHA256.hash(assertion.authenticatorData + clientDataHash))))
        XCTAssertNil(bus.range(of: Data(authValue.copyBytes())), "the authValue crossed the TPM interface in the clear")
        XCTAssertNil(bus.range(of: Data("482913".utf8)))
    }

    /// A TPM command header: tag 0x8001/0x8002, a 32-bit size, then the command code.
    func containsCommand(_ bytes: Data, code: UInt32) -> Bool {
        let b = [UInt8](bytes)
        let cc: [UInt8] = [UInt8(code >> 24), UInt8(code >> 16 & 0xFF), UInt8(code >> 8 & 0xFF), UInt8(code & 0xFF)]
        guard b.count >= 10 else { return false }
        for i in 0..<(b.count - 10) where b[i] == 0x80 && (b[i + 1] == 0x01 || b[i + 1] == 0x02) && Array(b[(i + 6)..<(i + 10)]) == cc {
            return true
        }
        return false
    }
}

struct FixedPIN: PINPrompter {
    let text: String
    func answer(_ question: PINQuestion) throws(HelperFailure) -> SecretBytes? { SecretBytes(Array(text.utf8)) }
}
