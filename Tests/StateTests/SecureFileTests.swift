import Identifiers
import Foundation
import XCTest
@testable import Storage

final class SecureFileTests: TempDirTestCase {
    func testReadsAFileAndReportsAMissingOneAsNil() throws {
        writeRaw(path("f"), "hello")
        XCTAssertEqual(try SecureFile.read(path("f"), maxBytes: 100), Array("hello".utf8))
        XCTAssertNil(try SecureFile.read(path("missing"), maxBytes: 100))
        assertRefused(.notFound(path: path("nodir"))) { try SecureFile.read(path("nodir/f"), maxBytes: 100) }
    }

    func testRefusesASymlinkedFile() throws {
        writeRaw(path("real"), "x")
        symlink(path("real"), path("link"))
        assertRefused(.symbolicLink(path: path("link")), fix: "readlink -f") { try SecureFile.read(path("link"), maxBytes: 10) }
        // Also when the link points nowhere, and when writing through the directory.
        symlink(path("nowhere"), path("dangling"))
        assertRefused(.symbolicLink(path: path("dangling"))) { try SecureFile.read(path("dangling"), maxBytes: 10) }
    }

    func testRefusesASymlinkedDirectoryAnywhereOnThePath() throws {
        mkdirRaw(path("realdir"))
        mkdirRaw(path("realdir/sub"))
        writeRaw(path("realdir/sub/f"), "x")
        symlink(path("realdir"), path("linkdir"))
        assertRefused(.symbolicLink(path: path("linkdir"))) { try SecureFile.read(path("linkdir/sub/f"), maxBytes: 10) }
        assertRefused(.symbolicLink(path: path("linkdir"))) { try SecureDirectory.open(path("linkdir")) }
        assertRefused(.symbolicLink(path: path("linkdir"))) { try SecureFile.write([1], to: path("linkdir/g")) }
        XCTAssertFalse(exists(path("realdir/g")))
    }

    /// Inside one sharingWalks scope (the module makes one per PAM call) a walk starts below
    /// the directories earlier walks checked; what is unsafe below them is still refused, no
    /// link is followed, and nothing stays open after the scope.
    func testWalksInOneScopeShareCheckedDirectoriesAndStillRefuseUnsafeOnes() throws {
        mkdirRaw(path("a"))
        mkdirRaw(path("a/b"))
        mkdirRaw(path("a/c"))
        mkdirRaw(path("a/w"), mode: 0o777)
        writeRaw(path("a/b/f"), "one")
        writeRaw(path("a/c/g"), "two")
        writeRaw(path("a/w/h"), "x")
        let before = openDescriptors()
        SecureDirectory.sharingWalks {
            XCTAssertEqual(try? SecureFile.read(path("a/b/f"), maxBytes: 10), Array("one".utf8))
            XCTAssertNotNil(WalkSharing.current?.directories[path("a")])
            // "a" is swapped for a link to a look-alike: the scope goes on from the directory it
            // checked and opened.
            XCTAssertEqual(rename(path("a"), path("a-moved")), 0)
            mkdirRaw(path("elsewhere"))
            mkdirRaw(path("elsewhere/c"))
            writeRaw(path("elsewhere/c/g"), "evil")
            XCTAssertEqual(symlink(path("elsewhere"), path("a")), 0)
            XCTAssertEqual(try? SecureFile.read(path("a/c/g"), maxBytes: 10), Array("two".utf8))
            assertRefused(.writableByOthers(path: path("a/w"), mode: 0o777, kind: .directory)) {
                try SecureFile.read(path("a/w/h"), maxBytes: 10)
            }
            // Nested scopes share the outer one.
            SecureDirectory.sharingWalks { XCTAssertNotNil(WalkSharing.current?.directories[path("a")]) }
        }
        XCTAssertNil(WalkSharing.current)
        XCTAssertEqual(openDescriptors(), before)
        assertRefused(.symbolicLink(path: path("a"))) { try SecureFile.read(path("a/c/g"), maxBytes: 10) }
    }

    /// A directory one walk of the scope ended at is where a later walk to it ends too; one a
    /// file was read from (opened O_PATH) still gives a later `open` a directory that can be
    /// written, fsynced and listed; a directory kept by its caller outlives the scope.
    func testWalksInOneScopeReuseTheDirectoryTheyEndAt() throws {
        mkdirRaw(path("d"))
        writeRaw(path("d/conf"), "one")
        writeRaw(path("d/id"), "two")
        let before = openDescriptors()
        let kept: SecureDirectory? = SecureDirectory.sharingWalks { () -> SecureDirectory? in
            XCTAssertEqual(try? SecureFile.read(path("d/conf"), maxBytes: 10), Array("one".utf8))
            XCTAssertEqual(WalkSharing.current?.directories[path("d")]?.pathOnly, true)
            XCTAssertEqual(try? SecureFile.read(path("d/id"), maxBytes: 10), Array("two".utf8))
            guard let dir = try? SecureDirectory.open(path("d")) else { XCTFail("open"); return nil }
            XCTAssertFalse(dir.pathOnly)
            do { try dir.replace("new", with: Array("three".utf8), mode: 0o644) } catch { XCTFail("replace: \(error)") }
            XCTAssertEqual(try? dir.entries().sorted(), ["conf", "id", "new"])
            // The next walk to it ends at the same directory, and a file read goes through it.
            XCTAssertTrue((try? SecureDirectory.open(path("d"))) === dir)
            XCTAssertEqual(try? SecureFile.read(path("d/new"), maxBytes: 10), Array("three".utf8))
            // Paths and errors name what was asked for, from whichever kept directory a walk
            // starts: the root (kept by the first walk) included.
            XCTAssertEqual((try? SecureDirectory.open(root))?.path, root)
            assertRefused(.notFound(path: path("d/missing"))) { try SecureDirectory.open(path("d/missing")) }
            mkdirRaw(path("e"))
            XCTAssertEqual((try? SecureDirectory.open(path("e")))?.path, path("e"))
            XCTAssertEqual((try? SecureDirectory.open("/usr/lib"))?.path, "/usr/lib")
            assertRefused(.notFound(path: "/usr/no-such-directory")) { try SecureDirectory.open("/usr/no-such-directory") }
            return dir
        }
        XCTAssertEqual(try kept?.entries().sorted(), ["conf", "id", "new"])
        XCTAssertEqual(try kept?.read("conf", maxBytes: 10), Array("one".utf8))
        XCTAssertNotEqual(openDescriptors(), before, "the kept directory is still open")
    }

    /// A settled identity (the file untouched for a while before it was read) lets a later
    /// read check the file without opening it; every refusal still applies, and any change
    /// (content, mode, owner, another file renamed over it) reads it again.
    func testAnUnchangedSettledFileIsCheckedButNotReadAgain() throws {
        mkdirRaw(path("d"))
        let file = path("d/conf")
        writeRaw(file, "same")
        guard case .content(let read)? = try? SecureFile.read(file, maxBytes: 10, unlessUnchanged: nil) else {
            return XCTFail("first read")
        }
        XCTAssertEqual(read.bytes, Array("same".utf8))
        XCTAssertFalse(read.identity.isSettled, "a file written a moment ago is not settled")
        // Not settled: read again, though nothing changed.
        XCTAssertEqual(try SecureFile.read(file, maxBytes: 10, unlessUnchanged: read.identity), .content(read))
        let settled = settledIdentity(of: file)
        XCTAssertEqual(try SecureFile.read(file, maxBytes: 10, unlessUnchanged: settled), .unchanged)
        // The refusals hold without an open.
        assertRefused(.tooLarge(path: file, size: 4, limit: 3)) { try SecureFile.read(file, maxBytes: 3, unlessUnchanged: settled) }
        chmod(file, 0o664)
        assertRefused(.writableByOthers(path: file, mode: 0o664, kind: .regularFile)) {
            try SecureFile.read(file, maxBytes: 10, unlessUnchanged: settled)
        }
        chmod(file, 0o644)
        chown(file, otherUID, otherUID)
        assertRefused(.wrongOwner(path: file, uid: otherUID, allowed: [0])) {
            try SecureFile.read(file, maxBytes: 10, unlessUnchanged: settled)
        }
        chown(file, 0, 0)
        // chmod and chown changed the file's ctime: it is read again.
        guard case .content? = try? SecureFile.read(file, maxBytes: 10, unlessUnchanged: settled) else {
            return XCTFail("a file whose inode changed is read again")
        }
        // Same size, new content, in place.
        let before = settledIdentity(of: file)
        writeRaw(file, "diff")
        XCTAssertEqual(try SecureFile.read(file, maxBytes: 10, unlessUnchanged: before),
                       .content(ReadContent(Array("diff".utf8), FileIdentity(statOf(file)))))
        // Another file renamed over it.
        let now = settledIdentity(of: file)
        writeRaw(path("d/other"), "diff")
        XCTAssertEqual(rename(path("d/other"), file), 0)
        guard case .content? = try? SecureFile.read(file, maxBytes: 10, unlessUnchanged: now) else {
            return XCTFail("another inode is read")
        }
        let last = settledIdentity(of: file)
        unlink(file)
        symlink(path("d/elsewhere"), file)
        writeRaw(path("d/elsewhere"), "diff")
        assertRefused(.symbolicLink(path: file)) { try SecureFile.read(file, maxBytes: 10, unlessUnchanged: last) }
        unlink(file)
        XCTAssertEqual(try SecureFile.read(file, maxBytes: 10, unlessUnchanged: last), .missing)
    }

    private func statOf(_ p: String) -> stat {
        var st = stat()
        XCTAssertEqual(lstat(p, &st), 0)
        return st
    }

    /// The file's identity as a read long after its last change would have recorded it.
    private func settledIdentity(of p: String) -> FileIdentity {
        FileIdentity(statOf(p), now: realtimeSeconds() + FileIdentity.settleSeconds + 1)
    }

    private func openDescriptors() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).sorted()
    }

    func testRefusesAFileOwnedBySomeoneElse() throws {
        writeRaw(path("f"), "x")
        XCTAssertEqual(chown(path("f"), otherUID, otherUID), 0)
        assertRefused(.wrongOwner(path: path("f"), uid: otherUID, allowed: [0]), fix: "chown root:root \(path("f"))") {
            try SecureFile.read(path("f"), maxBytes: 10)
        }
    }

    func testRefusesADirectoryOwnedBySomeoneElse() throws {
        mkdirRaw(path("d"))
        writeRaw(path("d/f"), "x")
        XCTAssertEqual(chown(path("d"), otherUID, otherUID), 0)
        assertRefused(.wrongOwner(path: path("d"), uid: otherUID, allowed: [0]), fix: "chown root:root") {
            try SecureFile.read(path("d/f"), maxBytes: 10)
        }
    }

    func testRefusesGroupOrWorldWritableFiles() throws {
        for mode: mode_t in [0o664, 0o646, 0o666, 0o620] {
            writeRaw(path("f"), "x", mode: mode)
            assertRefused(.writableByOthers(path: path("f"), mode: UInt32(mode), kind: .regularFile),
                          fix: "chmod go-w \(path("f"))") { try SecureFile.read(path("f"), maxBytes: 10) }
        }
        writeRaw(path("f"), "x", mode: 0o444)
        XCTAssertEqual(try SecureFile.read(path("f"), maxBytes: 10), [UInt8(ascii: "x")])
    }

    func testRefusesGroupOrWorldWritableDirectoriesOnThePath() throws {
        mkdirRaw(path("a"))
        mkdirRaw(path("a/b"))
        writeRaw(path("a/b/f"), "x")
        for mode: mode_t in [0o775, 0o757, 0o777] {
            chmod(path("a"), mode)
            assertRefused(.writableByOthers(path: path("a"), mode: UInt32(mode), kind: .directory),
                          fix: "chmod go-w \(path("a"))") { try SecureFile.read(path("a/b/f"), maxBytes: 10) }
        }
        chmod(path("a"), 0o755)
        chmod(path("a/b"), 0o777)
        assertRefused(.writableByOthers(path: path("a/b"), mode: 0o777, kind: .directory)) {
            try SecureFile.read(path("a/b/f"), maxBytes: 10)
        }
        // Writable by all but sticky and owned by root, as /tmp: others cannot replace our entries.
        chmod(path("a/b"), 0o1777)
        XCTAssertEqual(try SecureFile.read(path("a/b/f"), maxBytes: 10), [UInt8(ascii: "x")])
        chown(path("a/b"), otherUID, otherUID)
        assertRefused(.wrongOwner(path: path("a/b"), uid: otherUID, allowed: [0])) {
            try SecureFile.read(path("a/b/f"), maxBytes: 10)
        }
    }

    func testRefusesWhatIsNotARegularFileWithoutBlocking() throws {
        mkdirRaw(path("dir"))
        assertRefused(.wrongKind(path: path("dir"), found: .directory, expected: .regularFile)) {
            try SecureFile.read(path("dir"), maxBytes: 10)
        }
        // A FIFO would block a plain open() until a writer came: the check must not hang.
        XCTAssertEqual(mkfifo(path("fifo"), 0o600), 0)
        assertRefused(.wrongKind(path: path("fifo"), found: .fifo, expected: .regularFile)) {
            try SecureFile.read(path("fifo"), maxBytes: 10)
        }
        writeRaw(path("file"), "x")
        assertRefused(.wrongKind(path: path("file"), found: .regularFile, expected: .directory)) {
            try SecureFile.read(path("file/f"), maxBytes: 10)
        }
    }

    func testRefusesAFileOverTheSizeLimit() throws {
        writeRaw(path("f"), [UInt8](repeating: 65, count: 101))
        assertRefused(.tooLarge(path: path("f"), size: 101, limit: 100)) { try SecureFile.read(path("f"), maxBytes: 100) }
        XCTAssertEqual(try SecureFile.read(path("f"), maxBytes: 101)?.count, 101)
    }

    func testRefusesRelativeAndDotDotPaths() {
        assertRefused(.invalidPath(path: "relative/f")) { try SecureFile.read("relative/f", maxBytes: 1) }
        assertRefused(.invalidPath(path: root + "/../etc/passwd")) { try SecureFile.read(root + "/../etc/passwd", maxBytes: 1) }
    }

    func testAtomicWriteSetsTheModeReplacesAndLeavesNoTemporaryFile() throws {
        let old = umask(0o077)
        defer { umask(old) }
        try SecureFile.write(Array("one".utf8), to: path("f"), mode: 0o644)
        XCTAssertEqual(mode(of: path("f")), 0o644, "the mode is exact whatever the umask")
        try SecureFile.write(Array("two".utf8), to: path("f"), mode: 0o600)
        XCTAssertEqual(readRaw(path("f")), Array("two".utf8))
        XCTAssertEqual(mode(of: path("f")), 0o600)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["f"])
    }

    func testFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws {
        try SecureFile.write(Array("old".utf8), to: path("f"))
        mkdirRaw(path("target"))
        writeRaw(path("target/x"), "x")
        // rename() of a file over a non-empty directory fails after the temporary file is written.
        assertRefused(.system(path: path("target"), operation: "rename", errno: EISDIR)) {
            try SecureFile.write(Array("new".utf8), to: path("target"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), ["f", "target"])
        XCTAssertEqual(readRaw(path("f")), Array("old".utf8))
    }

    func testCreateMakesDirectoriesWithExactModesAndRefusesForeignOnes() throws {
        let old = umask(0o077)
        defer { umask(old) }
        try SecureDirectory.create(path("var/lib/registry"), mode: 0o755)
        XCTAssertEqual(mode(of: path("var")), 0o755)
        XCTAssertEqual(mode(of: path("var/lib/registry")), 0o755)
        try SecureDirectory.create(path("var/lib/host"), mode: 0o700)
        XCTAssertEqual(mode(of: path("var/lib/host")), 0o700)
        // An existing safe directory is left as it is; an unsafe one is refused, not repaired.
        chmod(path("var/lib/host"), 0o750)
        try SecureDirectory.create(path("var/lib/host"), mode: 0o700)
        XCTAssertEqual(mode(of: path("var/lib/host")), 0o750)
        chmod(path("var/lib/host"), 0o770)
        assertRefused(.writableByOthers(path: path("var/lib/host"), mode: 0o770, kind: .directory)) {
            try SecureDirectory.create(path("var/lib/host"), mode: 0o700)
        }
        XCTAssertEqual(mode(of: path("var/lib/host")), 0o770)
        // Someone else's directory is refused, not taken over.
        chown(path("var/lib/host"), otherUID, otherUID)
        assertRefused(.wrongOwner(path: path("var/lib/host"), uid: otherUID, allowed: [0])) {
            try SecureDirectory.create(path("var/lib/host"), mode: 0o700)
        }
        assertRefused(.notFound(path: path("nope"))) { try SecureDirectory.create(path("nope/x"), mode: 0o700, parents: false) }
    }

    func testLockWaitIsBoundedAndTheLockIsReleased() throws {
        let dir = try SecureDirectory.open(root)
        let other = try SecureDirectory.open(root)
        try dir.withLock("alice.json", timeout: .seconds(5)) { _ in
            // A second open file description conflicts with this one, as another process would.
            let start = Date()
            assertRefused(.lockTimeout(path: path("alice.json"), milliseconds: 300), fix: "stayed locked") {
                try other.withLock("alice.json", timeout: .milliseconds(300)) { _ in }
            }
            let waited = Date().timeIntervalSince(start)
            XCTAssertGreaterThanOrEqual(waited, 0.3)
        }
        XCTAssertEqual(try other.withLock("alice.json", timeout: .milliseconds(300)) { _ in 7 }, 7)
        XCTAssertEqual(mode(of: path(".alice.json.lock")), 0o600)
    }

    func testLockFileThatIsASymlinkIsRefused() throws {
        writeRaw(path("elsewhere"), "")
        symlink(path("elsewhere"), path(".alice.json.lock"))
        let dir = try SecureDirectory.open(root)
        assertRefused(.symbolicLink(path: path(".alice.json.lock"))) {
            try dir.withLock("alice.json", timeout: .seconds(1)) { _ in }
        }
    }

    func testLockedReplaceReusesAStaleTemporaryFile() throws {
        let dir = try SecureDirectory.open(root)
        // What a writer killed between create and rename leaves behind.
        writeRaw(path(".alice.json.tmp"), "half a reco", mode: 0o600)
        try dir.withLock("alice.json", timeout: .seconds(1)) { locked in
            try locked.replace(with: Array("whole".utf8), mode: 0o600)
        }
        XCTAssertEqual(readRaw(path("alice.json")), Array("whole".utf8))
        XCTAssertFalse(exists(path(".alice.json.tmp")))
    }

    func testEntriesSkipDotFiles() throws {
        writeRaw(path("a.json"), "")
        writeRaw(path(".a.json.lock"), "")
        mkdirRaw(path("sub"))
        let dir = try SecureDirectory.open(root)
        XCTAssertEqual(try dir.entries().sorted(), ["a.json", "sub"])
        XCTAssertEqual(try dir.entries().sorted(), ["a.json", "sub"], "listing twice gives the same")
    }
}
