import XCTest
@testable import Policy

/// The byte-wise readers of path and list values agree with the Character-wise definitions
/// they replaced.
final class PolicyReaderTests: XCTestCase {
    private func oldPath(_ s: String) -> Bool {
        s.utf8.first == UInt8(ascii: "/") && !s.utf8.contains(0)
            && !s.utf8.split(separator: UInt8(ascii: "/")).contains { $0.elementsEqual("..".utf8) }
    }

    private func oldList(_ s: String) -> [String] {
        s.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
    }

    func testPathsAsBefore() {
        let samples = ["/", "/etc/machine-id", "//x", "/a/../b", "/a/..", "/..", "/...", "/a/.../b", "/a/.b", "/a/b.",
                       "/..a", "/a..", "/./.", "relative", "", "./x", "../x", "/a\u{0}b", "/ä/..", "/a//../", "/.. ",
                       "/var/lib/pam_passkey/registry/", "/a/b/../../..", "/é/.."]
        for s in samples { XCTAssertEqual(isAbsolutePathWithoutDotDot(s), oldPath(s), s) }
        XCTAssertEqual(PolicyKey.registryDir.value(of: "/var/lib/../../etc"), nil)
        XCTAssertEqual(PolicyKey.registryDir.value(of: "/srv/registry"), "/srv/registry")
    }

    func testListsAsBefore() {
        let samples = ["sudo, su", "sudo,su", " sudo\tsu ,, runuser ", "none", " none ", "none, sudo", "", ",,,", "ä,ö",
                       "a b", "sudo-i,su-l", "x\u{301},y", "日本, 語"]
        for s in samples { XCTAssertEqual(listItems(s), oldList(s), s) }
        XCTAssertEqual(PolicyKey.appendSkipServices.value(of: " none "), [])
        XCTAssertEqual(PolicyKey.appendSkipServices.value(of: "sudo, su"), ["sudo", "su"])
        XCTAssertNil(PolicyKey.appendSkipServices.value(of: "sudo; su"))
    }
    /// The table `PolicyKeys.named` searches names each key as its PolicyKey does, once, and
    /// `all` keeps every key in the table's order.
    func testEveryTableNameIsItsKeysName() {
        var seen: Set<String> = []
        for entry in PolicyKeys.entries {
            XCTAssertEqual(entry.key().name, entry.name)
            XCTAssertTrue(seen.insert(entry.name).inserted, "\(entry.name) is in the table twice")
            XCTAssertEqual(PolicyKeys.named(entry.name)?.name, entry.name)
        }
        XCTAssertEqual(PolicyKeys.all.map(\.name), PolicyKeys.entries.map(\.name))
        XCTAssertNil(PolicyKeys.named("no_such_key"))
        XCTAssertEqual(PolicyKey.securityKeys.defaultText, "auto")
        XCTAssertEqual(PolicyKey.noninteractiveServices.defaultText, "cron, atd, systemd-user")
    }
}
