import Identifiers
import IdentifierLiterals
import Crypto
import Foundation
import HelperProtocol
import WebAuthn
import XCTest

/// The software authenticator through the real helper process.
final class HelperCeremonyTests: HelperTestCase {
    func testCreateThenSignInVerifiesWithTheWebAuthnCore() throws {
        let enrolled = try enroll("alice")
        XCTAssertEqual(enrolled.signCount, 0)
        let answers = Answers(["482913"])
        let (reply, verified) = try signIn("alice", enrolled, answers: answers)
        XCTAssertNotNil(verified, "\(reply)")
        XCTAssertEqual(verified?.signCount, 1)
        XCTAssertTrue(verified?.flags.contains(.userVerified) ?? false)
        XCTAssertEqual(answers.questions, [.existing(credentialID: enrolled.credentialID, attemptsLeft: 3, retry: false)])
        // The counter grows with every use.
        let (_, second) = try signIn("alice", enrolled, answers: Answers(["482913"]), storedSignCount: 1)
        XCTAssertEqual(second?.signCount, 2)
        // The key file holds no private key in the clear: the DER of a P-256 key starts 30 77 02 01 01 04 20.
        let file = try XCTUnwrap(keyringBytes("alice"))
        XCTAssertNil(file.range(of: Data([0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20])))
        XCTAssertEqual(mode(stateDir + "/authenticator/software/alice.json"), 0o600)
        XCTAssertEqual(mode(stateDir + "/authenticator/host.secret"), 0o600)
    }

    func testAnotherUsersCredentialIsNotOffered() throws {
        let enrolled = try enroll("alice")
        let (reply, _) = try signIn("bob", enrolled, answers: Answers(["482913"]))
        XCTAssertEqual(reply.failureCode, .noCredential)
    }

    func testWrongPINCountsDownLocksAndRefusesEvenTheRightPINUntilUnlocked() throws {
        let enrolled = try enroll("alice")
        // One wrong PIN, then the user gives up at the retry prompt (cancel).
        let first = Answers(["000111", nil])
        let (r1, _) = try signIn("alice", enrolled, answers: first)
        XCTAssertEqual(r1.failureCode, .cancelled)
        XCTAssertEqual(first.questions, [
            .existing(credentialID: enrolled.credentialID, attemptsLeft: 3, retry: false),
            .existing(credentialID: enrolled.credentialID, attemptsLeft: 2, retry: true),
        ])
        XCTAssertEqual(try held("alice").first?.attemptsLeft, 2)
        // Two more wrong PINs reach pin_max_attempts = 3.
        let (r2, _) = try signIn("alice", enrolled, answers: Answers(["000222", "000333"]))
        XCTAssertEqual(r2.failureCode, .locked)
        XCTAssertEqual(try held("alice").first?.locked, true)
        // Locked: the right PIN is not even asked for.
        let right = Answers(["482913"])
        let (r3, v3) = try signIn("alice", enrolled, answers: right)
        XCTAssertEqual(r3.failureCode, .locked)
        XCTAssertNil(v3)
        XCTAssertTrue(right.questions.isEmpty)
        // An administrator unlocks it; the right PIN works again and the counter is back to full.
        XCTAssertEqual(try client().perform(.unlock(user: "alice", credentialID: nil), answer: { _ in nil }), .done)
        let (_, v4) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(v4)
        XCTAssertEqual(try held("alice").first?.attemptsLeft, 3)
    }

    func testCancelIsReportedAsCancelAndCostsNoAttempt() throws {
        let enrolled = try enroll("alice")
        let (reply, _) = try signIn("alice", enrolled, answers: Answers([""]))
        XCTAssertEqual(reply.failureCode, .cancelled)
        XCTAssertEqual(try held("alice").first?.attemptsLeft, 3)
        XCTAssertEqual(try failedAttempts("alice"), 0)
    }

    func testRightPINResetsTheCounter() throws {
        let enrolled = try enroll("alice")
        let (reply, verified) = try signIn("alice", enrolled, answers: Answers(["999888", "482913"]))
        XCTAssertNotNil(verified, "\(reply)")
        XCTAssertEqual(try failedAttempts("alice"), 0)
    }

    func testNewPINRulesAskAgainWithTheReason() throws {
        let clientData = CollectedClientData.make(type: CollectedClientData.createType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        let answers = Answers(["12345", "123456", "482913", "482914", "482913", "482913"])
        let reply = try client().perform(.makeCredential(MakeCredentialRequest(
            user: "alice", rpID: rpID, clientDataHash: SHA256.hash(clientData), userHandle: [1])), answer: answers.answer)
        // Three tries at choosing (too short, sequence, mismatch) exhaust newPINTries = 3.
        XCTAssertEqual(reply.failureCode, .cancelled)
        XCTAssertEqual(answers.questions, [
            .new(minLength: 6, problem: nil),
            .new(minLength: 6, problem: "too_short"),
            .new(minLength: 6, problem: "sequence"),
            .confirm,
        ])
        XCTAssertTrue(try held("alice").isEmpty, "nothing is created when no PIN was agreed")
    }

    func testReplacingALockedCredentialDeletesTheOldKeyOnlyAfterTheNewOneExists() throws {
        let old = try enroll("alice")
        _ = try signIn("alice", old, answers: Answers(["000111", "000222", "000333"]))
        XCTAssertEqual(try held("alice").first?.locked, true)
        let clientData = CollectedClientData.make(type: CollectedClientData.createType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        let reply = try client().perform(.makeCredential(MakeCredentialRequest(
            user: "alice", rpID: rpID, clientDataHash: SHA256.hash(clientData), userHandle: [1], replacing: old.credentialID)),
            answer: Answers(["271828", "271828"]).answer)
        guard case .created(let created) = reply else { return XCTFail("\(reply)") }
        let now = try held("alice")
        XCTAssertEqual(now.map(\.id), [created.credentialID])
        XCTAssertEqual(now.first?.locked, false)
    }

    func testOneHelperServesAProbeAndThenASignIn() throws {
        let enrolled = try enroll("alice")
        let connection = HelperConnection(client())
        guard case .probe(let reports) = try connection.perform(.probe(user: "alice", rpID: rpID), answer: { _ in nil }),
              let held = reports.hostAuthenticator?.held else {
            return XCTFail("probe")
        }
        XCTAssertEqual(held.map(\.id), [enrolled.credentialID])
        let pid = try XCTUnwrap(connection.pid)
        let clientData = CollectedClientData.make(type: CollectedClientData.getType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        let reply = try connection.perform(.getAssertion(GetAssertionRequest(
            user: "alice", rpID: rpID, clientDataHash: SHA256.hash(clientData), allowCredentials: [enrolled.credentialID])),
            answer: Answers(["482913"]).answer)
        guard case .assertion = reply else { return XCTFail("\(reply)") }
        XCTAssertEqual(connection.pid, pid, "the same helper process served both")
        connection.close()
        XCTAssertNil(connection.pid)
        XCTAssertNotEqual(kill(pid, 0), 0, "the helper exited when its socket closed")
    }

    func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, path)
        return st.st_mode & 0o7777
    }
}
