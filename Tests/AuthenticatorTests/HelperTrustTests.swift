import Identifiers
import Foundation
import HelperProtocol
import XCTest

/// The one rule for what may be started as the helper (root runs it with what it is given).
final class HelperTrustTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "helper-trust-\(UUID().uuidString)"
        XCTAssertEqual(mkdir(root, 0o755), 0)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func program(_ name: String, in dir: String? = nil, mode: mode_t = 0o755) -> String {
        let path = (dir ?? root) + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8))
        chmod(path, mode)
        return path
    }

    func reason(_ path: String) -> String? {
        switch HelperTrust.problem(path) {
        case nil: return nil
        case .unsafe(_, let reason)?: return reason
        case let other?: return other.description
        }
    }

    func testOnlyARootOwnedProgramNobodyElseCanReplaceIsFit() throws {
        let fit = program("helper")
        XCTAssertNil(reason(fit))

        XCTAssertEqual(reason(program("writable", mode: 0o775)), "\(root)/writable is writable by group or others (mode 0775); chmod go-w \(root)/writable")
        XCTAssertEqual(reason(program("plain", mode: 0o644)), "\(root)/plain is not executable; chmod 0755 \(root)/plain")

        // Owned by a user: refused, even when that user is the one asking (the rule does not
        // depend on who loaded the module).
        let users = program("users")
        XCTAssertEqual(chown(users, 1000, 1000), 0)
        XCTAssertEqual(reason(users), "\(users) is owned by uid 1000, not root; chown root:root \(users)")

        XCTAssertEqual(symlink(fit, root + "/link"), 0)
        XCTAssertTrue(reason(root + "/link")?.contains("not a regular file") ?? false)
        XCTAssertEqual(HelperTrust.problem("relative/helper"), .notAbsolute("relative/helper"))
        XCTAssertEqual(HelperTrust.problem(root + "/none"), .missing(root + "/none"))
    }

    func testEveryDirectoryOnThePathCounts() throws {
        let open = root + "/open"
        XCTAssertEqual(mkdir(open, 0o755), 0)
        let inside = program("helper", in: open)
        XCTAssertNil(reason(inside))
        chmod(open, 0o775)
        XCTAssertEqual(reason(inside), "directory \(open) is writable by group or others; chmod go-w \(open)")
        chmod(open, 0o1777)
        XCTAssertNil(reason(inside), "a sticky directory (/tmp) does not let others replace root's file")
        chmod(open, 0o755)
        XCTAssertEqual(chown(open, 1000, 1000), 0)
        XCTAssertEqual(reason(inside), "directory \(open) is owned by uid 1000, not root; chown root \(open)")
    }
}
