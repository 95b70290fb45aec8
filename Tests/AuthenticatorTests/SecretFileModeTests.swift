import Identifiers
import IdentifierLiterals
import Foundation
import HelperProtocol
import XCTest

/// The helper refuses to use a host secret or keyring that group or others can read: it says
/// which file and how to fix it, asks for no PIN, and counts no attempt; fixed, it works again.
final class SecretFileModeTests: HelperTestCase {
    var hostSecret: String { stateDir + "/authenticator/host.secret" }

    func testAReadableHostSecretIsReportedBeforeAnyPINAndNotUsed() throws {
        let enrolled = try enroll("alice")
        XCTAssertEqual(chmod(hostSecret, 0o644), 0)

        guard case .status(let reports) = try client().perform(.status, answer: { _ in nil }), let health = reports.hostAuthenticator?.health
        else { return XCTFail("status") }
        guard case .broken = health.condition else { return XCTFail("a readable host secret makes the authenticator broken: \(health)") }
        let problem = try XCTUnwrap(health.problem)
        XCTAssertTrue(problem.contains("\(hostSecret) holds authenticator secrets and is readable by group or others (mode 0644)"), problem)
        XCTAssertTrue(problem.hasSuffix("fix: chmod go-rwx \(hostSecret)"), problem)

        // The probe reports it (the module steps aside on it) and holds nothing out.
        guard case .probe(let reports) = try client().perform(.probe(user: "alice", rpID: rpID), answer: { _ in nil }),
              let probed = reports.hostAuthenticator?.health, let heldOut = reports.hostAuthenticator?.held else {
            return XCTFail("probe")
        }
        XCTAssertEqual(probed.problem, problem)
        XCTAssertEqual(heldOut, [])

        // Asked to sign anyway: refused before any PIN question, no attempt counted.
        let answers = Answers(["482913"])
        let (reply, _) = try signIn("alice", enrolled, answers: answers)
        guard case .failure(let f) = reply else { return XCTFail("\(reply)") }
        XCTAssertEqual(f.code, .unavailable)
        XCTAssertTrue(f.message.contains("chmod go-rwx \(hostSecret)"), f.message)
        XCTAssertEqual(answers.questions, [])
        XCTAssertEqual(try failedAttempts("alice"), 0)
        XCTAssertEqual(mode(hostSecret), 0o644, "the helper never changes a mode itself")

        XCTAssertEqual(chmod(hostSecret, 0o600), 0)
        XCTAssertEqual(try held("alice").map(\.id), [enrolled.credentialID])
        let (ok, verified) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(verified, "\(ok)")
    }

    func testAReadableKeyringIsRefusedNamingItAndLeftAsItIs() throws {
        let enrolled = try enroll("alice")
        let keyring = keyringDirectory + "/alice.json"
        for mode: mode_t in [0o640, 0o604] {
            XCTAssertEqual(chmod(keyring, mode), 0)
            let before = keyringBytes("alice")
            let probe = try client().perform(.probe(user: "alice", rpID: rpID), answer: { _ in nil })
            guard case .failure(let f) = probe else { return XCTFail("\(probe)") }
            XCTAssertEqual(f.code, .unavailable)
            XCTAssertTrue(f.message.contains("\(keyring) holds authenticator secrets and is readable by group or others"), f.message)
            XCTAssertTrue(f.message.hasSuffix("fix: chmod go-rwx \(keyring)"), f.message)

            let answers = Answers(["482913"])
            let (reply, _) = try signIn("alice", enrolled, answers: answers)
            XCTAssertEqual(reply.failureCode, .unavailable)
            XCTAssertEqual(answers.questions, [])
            XCTAssertEqual(keyringBytes("alice"), before)
            // Creating another passkey for alice would rewrite the keyring: refused as well.
            let created = try client().perform(.makeCredential(MakeCredentialRequest(
                user: "alice", rpID: rpID, clientDataHash: [UInt8](repeating: 1, count: 32), userHandle: [1])),
                answer: Answers(["482913", "482913"]).answer)
            XCTAssertEqual(created.failureCode, .unavailable)
            XCTAssertEqual(keyringBytes("alice"), before)
        }
        // Fixed: served again, with no attempt counted on the way.
        XCTAssertEqual(chmod(keyring, 0o600), 0)
        XCTAssertEqual(try held("alice").map(\.id), [enrolled.credentialID])
        XCTAssertEqual(try failedAttempts("alice"), 0)
    }

    private func mode(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        return st.st_mode & 0o7777
    }
}
