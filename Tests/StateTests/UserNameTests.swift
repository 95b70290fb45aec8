import XCTest
@testable import Storage
import Identifiers
import IdentifierLiterals

final class UserNameTests: XCTestCase {
    func testNamesRealSystemsUseAreAccepted() throws {
        for name in ["alice", "j.doe", "svc_backup-1", "alice@example.com", "host$", "DOMAIN\\alice", "émile",
                     "ユーザー", "a", "0", "user-", "a..b", String(repeating: "x", count: UserName.maxBytes)] {
            XCTAssertEqual(try UserName(validating: name).rawValue, name)
        }
    }

    func testRefusedNamesSayWhy() {
        let cases: [(String, String)] = [
            ("../../etc/shadow", "starts with \".\""),
            ("etc/shadow", "contains \"/\""),
            ("a/", "contains \"/\""),
            ("", "empty"),
            (".hidden", "starts with \".\""),
            (".", "starts with \".\""),
            ("..", "starts with \".\""),
            ("a\0b", "U+0000"),
            ("a\nb", "U+000A"),
            ("a\tb", "U+0009"),
            ("\u{7F}x", "U+007F"),
            ("x\u{85}", "U+0085"),
            ("a b", "white space U+0020"),
            ("a\u{A0}b", "white space U+00A0"),
            ("a\u{2028}", "white space U+2028"),
            ("admin\u{202E}", "format character U+202E"),
            ("ad\u{200B}min", "format character U+200B"),
            ("bad\u{FFFD}", "U+FFFD"),
            (String(repeating: "x", count: UserName.maxBytes + 1), "241 bytes"),
            (String(repeating: "é", count: 121), "242 bytes"),
        ]
        for (name, reason) in cases {
            XCTAssertThrowsError(try UserName(validating: name), "\(escapedForLog(name)) accepted") { error in
                let description = "\(error)"
                XCTAssertTrue(description.contains(reason), "\(description) does not say \(reason)")
                // The message itself must not carry raw control characters into a log.
                XCTAssertFalse(description.unicodeScalars.contains { $0.properties.generalCategory == .control })
            }
        }
    }

    func testNamesCompareByBytesNotCanonicalEquivalence() throws {
        let composed = try UserName(validating: "\u{E9}mile")
        let decomposed = try UserName(validating: "e\u{301}mile")
        XCTAssertEqual("\u{E9}mile", "e\u{301}mile", "Swift calls the strings equal")
        XCTAssertNotEqual(composed, decomposed, "but they are two different files, so two users")
        XCTAssertEqual(Set([composed, decomposed]).count, 2)
    }
}
