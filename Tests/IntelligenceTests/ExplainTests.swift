import Identifiers
import IdentifierLiterals
import Foundation
import HostState
import Intelligence
import Registry
import Policy
import XCTest

final class ExplainTests: XCTestCase {
    func object(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try XCTUnwrap(value as? [String: Any], file: file, line: line)
    }

    func testLockedCredentialWithOthersElsewhere() throws {
        let b1 = try CredentialID(base64url: "B1xxxxxxxxxxxw")
        let s = Scenario(credentials: [platform(b1, on: hostB), platform("A1", on: hostA, lastUsed: now - day)],
                         authenticator: .healthy(holding: [HeldCredentialSignal(id: b1, locked: true)]))
        let e = explain(s.signals, policy: Policy())
        XCTAssertEqual(e.summary, "login=step_aside/credential_locked append=offer/replace_locked")

        let text = e.text
        for expected in ["alice (uid 1000) on host-b", "login:  step aside [credential_locked]",
                         "the user sees: \"Your passkey for this computer is locked after too many wrong PINs.\"",
                         "append: offer [replace_locked]", "Replace your locked passkey", "B1xxxxxxxx…",
                         "locked", "elsewhere", "holds 1 of the user's credentials (1 locked)",
                         "rollout: bucket 7 of 0–99, inside rollout_percent = 100", "  append_max_offers = 3", "policy (built-in defaults):"] {
            XCTAssertTrue(text.contains(expected), "text lacks \(expected):\n\(text)")
        }

        let j = try object(e.json)
        XCTAssertEqual(j["format"] as? Int, 1)
        XCTAssertEqual(j["user"] as? String, "alice")
        XCTAssertEqual(j["uid"] as? Int, 1000)
        let login = try XCTUnwrap(j["login"] as? [String: Any])
        XCTAssertEqual(login["decision"] as? String, "step_aside")
        XCTAssertEqual(login["reason"] as? String, "credential_locked")
        XCTAssertEqual(login["message"] as? String, "Your passkey for this computer is locked after too many wrong PINs.")
        XCTAssertEqual(login["fault"] as? Bool, false)
        let append = try XCTUnwrap(j["append"] as? [String: Any])
        XCTAssertEqual(append["decision"] as? String, "offer")
        XCTAssertEqual(append["offer"] as? String, "replace_locked")
        XCTAssertEqual(append["replaces"] as? [String], ["B1xxxxxxxxxxxw"])
        let creds = try XCTUnwrap(j["credentials"] as? [[String: Any]])
        XCTAssertEqual(creds.map { $0["status"] as? String }, ["locked", "elsewhere"])
        XCTAssertEqual(creds[1]["host_name"] as? String, "host-a")
        XCTAssertEqual(j["rollout_bucket"] as? Int, 7)
        let policy = try XCTUnwrap(j["policy"] as? [String: Any])
        XCTAssertEqual(policy["remote_sessions"] as? String, "decline")
        XCTAssertEqual(policy["cancel_snooze"] as? String, "1d")
    }

    /// Absent values are present as null, so a consumer can rely on every key.
    func testUnknownUserOverSSHHasEveryKey() throws {
        let s = Scenario(user: "mallory", uid: nil, authenticator: .notProbed, session: ssh(from: "203.0.113.9"))
        let e = explain(s.signals, policy: Policy())
        let j = try object(e.json)
        XCTAssertEqual(Set(j.keys), ["format", "user", "uid", "host", "now", "session", "login", "append", "credentials",
                                     "authenticator", "security_keys", "history", "rollout_bucket", "policy"])
        XCTAssertTrue(j["uid"] is NSNull)
        let login = try XCTUnwrap(j["login"] as? [String: Any])
        XCTAssertTrue(login["message"] is NSNull)
        XCTAssertEqual(login["reason"] as? String, "remote_session")
        let session = try XCTUnwrap(j["session"] as? [String: Any])
        XCTAssertEqual(session["remote"] as? Bool, true)
        let append = try XCTUnwrap(j["append"] as? [String: Any])
        XCTAssertTrue(append["offer"] is NSNull)
        XCTAssertTrue(e.text.contains("mallory (no such account)"), e.text)
        XCTAssertTrue(e.text.contains("the user sees: nothing"), e.text)
    }

    func testFaultIsFlagged() throws {
        let s = Scenario(credentials: [platform("B1", on: hostB)], authenticator: .broken("helper exited with status 70"))
        let e = explain(s.signals, policy: Policy())
        XCTAssertTrue(e.text.contains("PAM_AUTHINFO_UNAVAIL"), e.text)
        let login = try XCTUnwrap(try object(e.json)["login"] as? [String: Any])
        XCTAssertEqual(login["fault"] as? Bool, true)
    }

    func testJSONEscapesControlCharacters() throws {
        let s = Scenario(user: "we\"ird\\na\tme\u{1}", uid: nil)
        let j = try object(explain(s.signals, policy: Policy()).json)
        XCTAssertEqual(j["user"] as? String, "we\"ird\\na\tme\u{1}")
    }

    func testUTCText() {
        XCTAssertEqual(utcText(0), "1970-01-01 00:00 UTC")
        XCTAssertEqual(utcText(-1), "1969-12-31 23:59 UTC")
        XCTAssertEqual(utcText(951_782_400), "2000-02-29 00:00 UTC")
        XCTAssertEqual(utcText(1_767_225_600 + 13 * 3600 + 7 * 60 + 59), "2026-01-01 13:07 UTC")
        XCTAssertEqual(utcText(4_107_542_400), "2100-03-01 00:00 UTC")
    }
}
