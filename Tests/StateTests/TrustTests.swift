import Foundation
import Identifiers
import IdentifierLiterals
import Registry
import XCTest
@testable import Storage

/// Who may own what the module reads does not depend on who runs it: a screen locker runs the
/// module as the user, and a registry that user owns is refused, while the root-owned one that
/// login reads is read the same way.
final class TrustTests: TempDirTestCase {
    let nobody: UInt32 = 65534
    let alice = try! UserName(validating: "alice")

    func read(asUID uid: UInt32) throws -> (status: Int32, out: String, err: String) {
        let worker = try Worker(["read", path("registry"), "alice", String(uid)])
        let status = worker.wait()
        return (status, worker.output(), worker.errors())
    }

    func testARegistryOwnedByTheUserRunningTheModuleIsRefusedAndARootOwnedOneIsRead() throws {
        guard geteuid() == 0 else { throw POSIXFailure("this test needs root (it becomes another uid): run `sudo make check`") }
        XCTAssertEqual(chmod(root, 0o755), 0)
        try SecureDirectory.create(path("registry"), mode: 0o755)
        try FileRegistry(directory: path("registry")).update(user: alice) { $0.add(sampleCredential("c0")) }

        let asRootOwned = try read(asUID: nobody)
        XCTAssertEqual(asRootOwned.status, 0, asRootOwned.err)
        XCTAssertEqual(asRootOwned.out, "1\n")

        // The same files, now owned by the uid the reader runs as.
        for p in [path("registry"), path("registry/alice.json")] { XCTAssertEqual(chown(p, nobody, nobody), 0, p) }
        let asOwner = try read(asUID: nobody)
        XCTAssertEqual(asOwner.status, 1)
        XCTAssertTrue(asOwner.err.contains("is owned by uid 65534, not by root"), asOwner.err)
        XCTAssertTrue(asOwner.err.contains("fix: chown root:root"), asOwner.err)
        XCTAssertEqual(asOwner.out, "")
    }
}
