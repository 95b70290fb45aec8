import Identifiers
import IdentifierLiterals
import Authenticator
import CBOREncoding
import Crypto
import Foundation
import HelperProtocol
import WebAuthn
import XCTest

/// The TPM authenticator through the real helper process, against a swtpm started by each
/// test. A policy with `authenticator = tpm` and `tcti = swtpm:path=…` is all it takes.
final class TPMHelperTests: HelperTestCase {
    var tpm: SoftwareTPM!

    var tpmDirectory: String { root + "/tpm" }

    override var policyLines: [String] { tpmPolicy(maxAttempts: 3) }

    func tpmPolicy(maxAttempts: Int, tcti: String? = nil, authenticator: String = "tpm") -> [String] {
        ["authenticator = \(authenticator)", "tcti = \(tcti ?? "swtpm:path=\(tpmDirectory)/swtpm.sock")",
         "pin_max_attempts = \(maxAttempts)"]
    }

    override var keyringDirectory: String { stateDir + "/authenticator/tpm" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        tpm = try SoftwareTPM(directory: tpmDirectory)
        // Enough tries that this backend's own counter acts first, unless a test says otherwise.
        try tpm.setDictionaryAttack(maxTries: 32, recoverySeconds: 600)
    }

    override func tearDownWithError() throws {
        tpm?.stop()
        tpm = nil
        try super.tearDownWithError()
    }

    /// Replaces the policy file's extra lines.
    func rewritePolicy(_ lines: [String], at path: String? = nil, stateDir: String? = nil) throws {
        let text = (["rp_id = \(rpID)", "state_dir = \(stateDir ?? self.stateDir)", "registry_dir = \(root)"] + lines)
            .joined(separator: "\n") + "\n"
        try text.write(toFile: path ?? policyPath, atomically: false, encoding: .utf8)
        chmod(path ?? policyPath, 0o644)
    }

    func status(_ client: HelperClient? = nil) throws -> AuthenticatorHealth {
        let reply = try (client ?? self.client()).perform(.status, answer: { _ in nil })
        guard case .status(let reports) = reply, let host = reports.hostAuthenticator else { throw FixtureError("status: \(reply)") }
        XCTAssertTrue(host.held.isEmpty, "a status reply lists no credentials")
        return host.health
    }

    func failure(_ reply: HelperReply) -> HelperFailure? {
        if case .failure(let f) = reply { return f }
        return nil
    }

    // MARK: - enrol and sign in

    func testEnrollAndSignInWithAKeyInsideTheTPM() throws {
        let enrolled = try enroll("alice")
        // packed self attestation, signed through the TPM, with this backend's AAGUID.
        XCTAssertEqual(enrolled.registration.attestation, .selfAttestation)
        XCTAssertEqual(enrolled.registration.aaguid, ProjectAAGUID.tpm)
        XCTAssertTrue(enrolled.registration.flags.contains(.userVerified))
        XCTAssertFalse(enrolled.registration.flags.contains(.backupEligible))
        XCTAssertFalse(enrolled.registration.flags.contains(.backedUp))
        XCTAssertEqual(enrolled.signCount, 0)

        let answers = Answers(["482913"])
        let (reply, verified) = try signIn("alice", enrolled, answers: answers)
        XCTAssertNotNil(verified, "\(reply)")
        XCTAssertEqual(verified?.signCount, 1)
        XCTAssertTrue(verified?.flags.contains(.userVerified) ?? false)
        XCTAssertEqual(answers.questions, [.existing(credentialID: enrolled.credentialID, attemptsLeft: 3, retry: false)])
        // libfido2, which we did not write, accepts the TPM's signature too.
        guard case .assertion(let assertion) = reply else { return XCTFail("\(reply)") }
        let pem = try enrolled.key.publicKey().pemRepresentation
        XCTAssertEqual(try fido2AssertVerify(assertion, clientData: lastClientData, publicKeyPEM: pem), 0)

        let (_, second) = try signIn("alice", enrolled, answers: Answers(["482913"]), storedSignCount: 1)
        XCTAssertEqual(second?.signCount, 2)

        let health = try status()
        XCTAssertEqual(health.kind, .tpm)
        XCTAssertEqual(health.aaguid, ProjectAAGUID.tpm)
        XCTAssertNil(health.problem)
        XCTAssertEqual(health.detail, "authenticator = tpm, TCTI \"\(tpm.tcti)\"")
        XCTAssertEqual(mode(keyringDirectory + "/alice.json"), 0o600)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateDir + "/authenticator/software"), "no software state is made")
        // The record names the key's blobs, not a key: nothing like a P-256 private key in DER.
        let file = try XCTUnwrap(keyringBytes("alice"))
        XCTAssertNil(file.range(of: Data([0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20])))
    }

    func testTheKeyIsRefusedWithAnyOtherAccountOrRelyingParty() throws {
        let enrolled = try enroll("alice")
        let (reply, _) = try signIn("bob", enrolled, answers: Answers(["482913"]))
        XCTAssertEqual(reply.failureCode, .noCredential)
        XCTAssertTrue(try held("bob").isEmpty)
        XCTAssertEqual(try held("alice").map(\.id), [enrolled.credentialID])
    }

    // MARK: - wrong PINs

    func testWrongPINsCountDownInTheTPMAndLockThisCredential() throws {
        let enrolled = try enroll("alice")
        let first = Answers(["000111", nil])
        let (r1, _) = try signIn("alice", enrolled, answers: first)
        XCTAssertEqual(r1.failureCode, .cancelled)
        XCTAssertEqual(first.questions, [
            .existing(credentialID: enrolled.credentialID, attemptsLeft: 3, retry: false),
            .existing(credentialID: enrolled.credentialID, attemptsLeft: 2, retry: true),
        ])
        // The TPM itself checked the PIN and counted the failure: the key is DA-protected.
        XCTAssertEqual(try tpm.lockout().failedTries, 1)
        XCTAssertEqual(try failedAttempts("alice"), 1)
        XCTAssertEqual(try held("alice").first?.attemptsLeft, 2)

        let (r2, _) = try signIn("alice", enrolled, answers: Answers(["000222", "000333"]))
        XCTAssertEqual(r2.failureCode, .locked)
        XCTAssertTrue(failure(r2)?.message.contains("too many wrong PINs for this passkey") ?? false, "\(r2)")
        XCTAssertEqual(try held("alice").first?.locked, true)
        // Our limit acted, not the TPM's: other users' passkeys are unaffected.
        let state = try tpm.lockout()
        XCTAssertFalse(state.inLockout)
        XCTAssertEqual(state.failedTries, 3)

        let right = Answers(["482913"])
        let (r3, v3) = try signIn("alice", enrolled, answers: right)
        XCTAssertEqual(r3.failureCode, .locked)
        XCTAssertNil(v3)
        XCTAssertTrue(right.questions.isEmpty, "a locked credential does not even ask")
        XCTAssertEqual(try tpm.lockout().failedTries, 3, "nothing reached the TPM")

        XCTAssertEqual(try client().perform(.unlock(user: "alice", credentialID: nil), answer: { _ in nil }), .done)
        let (r4, v4) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(v4, "\(r4)")
        XCTAssertEqual(try failedAttempts("alice"), 0)
        XCTAssertEqual(try held("alice").first?.attemptsLeft, 3)
    }

    func testTheTPMsDictionaryAttackLockoutIsEnforcedAndReportedAsSuch() throws {
        try rewritePolicy(tpmPolicy(maxAttempts: 10))
        try tpm.setDictionaryAttack(maxTries: 2, recoverySeconds: 600)
        let enrolled = try enroll("alice")

        let answers = Answers(["000111", "000222", "000333"])
        let (r1, _) = try signIn("alice", enrolled, answers: answers)
        // The prompt shows the TPM's smaller limit, and the second wrong PIN locks the TPM.
        XCTAssertEqual(answers.questions, [
            .existing(credentialID: enrolled.credentialID, attemptsLeft: 2, retry: false),
            .existing(credentialID: enrolled.credentialID, attemptsLeft: 1, retry: true),
        ])
        XCTAssertEqual(r1.failureCode, .locked)
        XCTAssertTrue(failure(r1)?.message.contains("dictionary-attack lockout") ?? false, "\(r1)")
        XCTAssertEqual(try tpm.lockout(), .init(inLockout: true, failedTries: 2, maxTries: 2))
        // This backend's counter saw two wrong PINs of ten: the lock is the TPM's, not ours.
        XCTAssertEqual(try failedAttempts("alice"), 2)

        // Even the right PIN is refused, without asking for it and without counting it.
        let right = Answers(["482913"])
        let (r2, v2) = try signIn("alice", enrolled, answers: right)
        XCTAssertEqual(r2.failureCode, .locked)
        XCTAssertNil(v2)
        XCTAssertTrue(right.questions.isEmpty)
        XCTAssertEqual(try failedAttempts("alice"), 2)
        let health = try status()
        XCTAssertTrue(health.problem?.contains("dictionary-attack lockout") ?? false, "\(health)")
        // Our unlock does not reach the TPM's counter; only the lockout authority does.
        XCTAssertEqual(try client().perform(.unlock(user: "alice", credentialID: nil), answer: { _ in nil }), .done)
        XCTAssertEqual(try signIn("alice", enrolled, answers: Answers(["482913"])).0.failureCode, .locked)

        try tpm.clearLockout()
        XCTAssertNil(try status().problem)
        let (r3, v3) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(v3, "\(r3)")
    }

    func testAPINAttemptTheTPMRefusedInLockoutDoesNotCount() throws {
        try rewritePolicy(tpmPolicy(maxAttempts: 10))
        try tpm.setDictionaryAttack(maxTries: 1, recoverySeconds: 600)
        let alice = try enroll("alice")
        let bob = try enroll("bob", pin: "271828")
        // Bob's wrong PIN puts the whole TPM into lockout.
        XCTAssertEqual(try signIn("bob", bob, answers: Answers(["000111"])).0.failureCode, .locked)
        XCTAssertTrue(try tpm.lockout().inLockout)
        // Alice is refused before being asked, and her counter is untouched.
        let answers = Answers(["482913"])
        let (reply, _) = try signIn("alice", alice, answers: answers)
        XCTAssertEqual(reply.failureCode, .locked)
        XCTAssertTrue(answers.questions.isEmpty)
        XCTAssertEqual(try failedAttempts("alice"), 0)
    }

    // MARK: - another machine

    func testKeyBlobsAreUselessOnAnotherTPM() throws {
        let enrolled = try enroll("alice")
        // Machine B: its own swtpm (a different TPM), and a copy of A's whole state_dir.
        let other = root + "/machine-b"
        let otherTPM = try SoftwareTPM(directory: other + "/tpm")
        defer { otherTPM.stop() }
        try FileManager.default.copyItem(atPath: stateDir, toPath: other + "/state")
        let otherPolicy = other + "/pam_passkey.conf"
        try rewritePolicy(tpmPolicy(maxAttempts: 3, tcti: otherTPM.tcti), at: otherPolicy, stateDir: other + "/state")
        let onB = HelperClient(program: Self.helperPath, arguments: ["--conf", otherPolicy], timeoutSeconds: 20)

        XCTAssertNil(try status(onB).problem, "B's TPM is healthy")
        XCTAssertTrue(try held("alice", client: onB).isEmpty, "B does not hold A's credential: it is missing there")
        let answers = Answers(["482913"])
        let (reply, verified) = try signIn("alice", enrolled, answers: answers, client: onB)
        XCTAssertNil(verified)
        XCTAssertEqual(reply.failureCode, .unavailable)
        XCTAssertTrue(failure(reply)?.message.contains("does not load into this computer's TPM") ?? false, "\(reply)")
        XCTAssertTrue(answers.questions.isEmpty, "no PIN is asked for a key that cannot sign")
        XCTAssertEqual(try otherTPM.lockout().failedTries, 0)

        // The heal path on B: a new credential replaces the dead one.
        let clientData = CollectedClientData.make(type: CollectedClientData.createType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        let replaced = try onB.perform(.makeCredential(MakeCredentialRequest(
            user: "alice", rpID: rpID, clientDataHash: SHA256.hash(clientData), userHandle: [1, 2, 3], replacing: enrolled.credentialID)),
            answer: Answers(["271828", "271828"]).answer)
        guard case .created(let created) = replaced else { return XCTFail("\(replaced)") }
        XCTAssertEqual(try held("alice", client: onB).map(\.id), [created.credentialID])

        // Meanwhile A's TPM still takes A's key.
        let (again, onA) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(onA, "\(again)")
    }

    // MARK: - handles

    func testEveryTransientHandleIsFlushed() throws {
        let alice = try enroll("alice")
        let bob = try enroll("bob", pin: "271828")
        for round in 0..<4 {
            _ = try held("alice")
            let (r1, v1) = try signIn("alice", alice, answers: Answers(["000111", "482913"]), storedSignCount: UInt32(round))
            XCTAssertNotNil(v1, "round \(round): \(r1)")
            let (r2, v2) = try signIn("bob", bob, answers: Answers(["271828"]), storedSignCount: UInt32(round))
            XCTAssertNotNil(v2, "round \(round): \(r2)")
            _ = try status()
        }
        // swtpm has three object slots and no resource manager: anything left would show here.
        XCTAssertEqual(try tpm.handles("handles-transient"), [])
        XCTAssertEqual(try tpm.handles("handles-loaded-session"), [])
    }

    // MARK: - selection and health

    func testNoTPMAtTheConfiguredTCTIIsAHealthProblemAndNothingIsAsked() throws {
        let missing = "swtpm:path=\(root)/no-such-tpm.sock"
        try rewritePolicy(tpmPolicy(maxAttempts: 3, tcti: missing))
        let health = try status()
        XCTAssertEqual(health.kind, .tpm)
        guard case .unavailable(let why) = health.condition else { return XCTFail("a missing TPM is unavailable, not broken: \(health)") }
        XCTAssertTrue(why.hasPrefix("no TPM answers at TCTI \"\(missing)\""), why)
        XCTAssertTrue(health.problem?.contains(missing) ?? false, "\(health)")
        let answers = Answers(["482913", "482913"])
        let clientData = CollectedClientData.make(type: CollectedClientData.createType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        let reply = try client().perform(.makeCredential(MakeCredentialRequest(
            user: "alice", rpID: rpID, clientDataHash: SHA256.hash(clientData), userHandle: [1])), answer: answers.answer)
        XCTAssertEqual(reply.failureCode, .unavailable)
        XCTAssertTrue(answers.questions.isEmpty, "no PIN is chosen for a TPM that is not there")
    }

    func testAutoUsesTheTPMWhenOneAnswersAndSoftwareOtherwise() throws {
        try rewritePolicy(tpmPolicy(maxAttempts: 3, authenticator: "auto"))
        let withTPM = try status()
        XCTAssertEqual(withTPM.kind, .tpm)
        XCTAssertEqual(withTPM.detail, "authenticator = auto: a TPM answers at TCTI \"\(tpm.tcti)\"")
        XCTAssertNil(withTPM.problem)

        let missing = "swtpm:path=\(root)/no-such-tpm.sock"
        try rewritePolicy(tpmPolicy(maxAttempts: 3, tcti: missing, authenticator: "auto") + ["pin_kdf_cost = 10"])
        let withoutTPM = try status()
        XCTAssertEqual(withoutTPM.kind, .software)
        XCTAssertTrue(withoutTPM.detail?.hasPrefix("authenticator = auto: no TPM (no TPM answers at TCTI \"\(missing)\"") ?? false,
                      "\(withoutTPM)")
        XCTAssertNil(withoutTPM.problem)
    }

    func testATPMThatDoesNotAnswerIsGivenUpOn() throws {
        let silent = try SilentTPMSocket(path: root + "/silent.sock")
        defer { silent.close() }
        try rewritePolicy(tpmPolicy(maxAttempts: 3, tcti: silent.tcti))
        XCTAssertEqual(try status().condition, .unavailable("the TPM at TCTI \"\(silent.tcti)\" did not answer within 2000 ms"))
        try rewritePolicy(tpmPolicy(maxAttempts: 3, tcti: silent.tcti, authenticator: "auto") + ["pin_kdf_cost = 10"])
        let auto = try status()
        XCTAssertEqual(auto.kind, .software)
        XCTAssertEqual(auto.detail, "authenticator = auto: no TPM (the TPM at TCTI \"\(silent.tcti)\" did not answer within 1500 ms)")
    }

    func testAutoStaysWithATPMThatStoppedAnswering() throws {
        try rewritePolicy(tpmPolicy(maxAttempts: 3, authenticator: "auto"))
        _ = try enroll("alice")
        tpm.stop()
        let health = try status()
        XCTAssertEqual(health.kind, .tpm, "this host's passkeys are in the TPM: no silent switch to software")
        guard case .unavailable = health.condition else { return XCTFail("a TPM that stopped answering is unavailable: \(health)") }
        XCTAssertTrue(health.detail?.contains("which does not answer") ?? false, "\(health)")
    }

    // MARK: - support

    func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, path)
        return st.st_mode & 0o7777
    }

    /// fido2-assert -V (libfido2) on an assertion; its exit status.
    func fido2AssertVerify(_ a: Assertion, clientData: [UInt8], publicKeyPEM: String) throws -> Int32 {
        let tool = "/usr/bin/fido2-assert"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw FixtureError("\(tool) is missing: run `make deps` (it installs fido2-tools)")
        }
        let input = [Data(SHA256.hash(clientData)).base64EncodedString(), rpID,
                     Data(CBOR.byteString(a.authenticatorData).encoded()).base64EncodedString(),
                     Data(a.signature).base64EncodedString()].joined(separator: "\n") + "\n"
        try input.write(toFile: root + "/assert_param", atomically: false, encoding: .utf8)
        try publicKeyPEM.write(toFile: root + "/pubkey.pem", atomically: false, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["-V", "-p", "-v", "-i", root + "/assert_param", root + "/pubkey.pem", "es256"]
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}
