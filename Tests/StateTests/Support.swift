import Identifiers
import Foundation
import XCTest
@testable import Storage

/// A fresh directory under /tmp (root-owned, sticky: a trusted parent), removed afterwards.
class TempDirTestCase: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/passkey-state-test.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXFailure("mkdtemp") }
        root = String(cString: made)
        chmod(root, 0o755)
    }

    override func tearDownWithError() throws {
        // Undo test damage that would stop removal (a mode of 0, an immutable parent).
        _ = try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ name: String) -> String { root + "/" + name }

    /// Makes a directory without any of the checks (tests set up bad states on purpose).
    @discardableResult
    func mkdirRaw(_ p: String, mode: mode_t = 0o755) -> String {
        XCTAssertEqual(mkdir(p, mode), 0, "mkdir \(p)")
        chmod(p, mode)
        return p
    }

    /// Writes a file without any of the checks.
    func writeRaw(_ p: String, _ text: String, mode: mode_t = 0o644) { writeRaw(p, Array(text.utf8), mode: mode) }

    func writeRaw(_ p: String, _ bytes: [UInt8], mode: mode_t = 0o644) {
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode)
        XCTAssertGreaterThanOrEqual(fd, 0, "open \(p)")
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        chmod(p, mode)
    }

    func readRaw(_ p: String) -> [UInt8]? {
        FileManager.default.contents(atPath: p).map { Array($0) }
    }

    func exists(_ p: String) -> Bool {
        var st = stat()
        return lstat(p, &st) == 0
    }

    func mode(of p: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(stat(p, &st), 0)
        return st.st_mode & 0o7777
    }

    /// Asserts that `body` throws exactly `expected`, and that its description names the
    /// path and contains `fix` (what an administrator would run).
    func assertRefused<T>(_ expected: StorageError, fix: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                          _ body: () throws -> T) {
        do {
            let value = try body()
            XCTFail("expected \(expected), got \(value)", file: file, line: line)
        } catch let error as StorageError {
            XCTAssertEqual(error, expected, file: file, line: line)
            XCTAssertTrue(error.description.contains(expected.path), "\(error) does not name \(expected.path)", file: file, line: line)
            if let fix { XCTAssertTrue(error.description.contains(fix), "\(error) does not say \(fix)", file: file, line: line) }
        } catch {
            XCTFail("expected \(expected), got \(error)", file: file, line: line)
        }
    }
}

struct POSIXFailure: Error, CustomStringConvertible {
    let description: String
    init(_ what: String) { description = "\(what): \(String(cString: strerror(errno)))" }
}

/// A pipe whose ends are not inherited by spawned processes (dup2 in the spawn actions
/// gives each worker only its own): a stray write end elsewhere would keep reads from
/// ever seeing the end of the stream.
func makePipe(_ fds: inout [Int32]) throws {
    guard pipe(&fds) == 0 else { throw POSIXFailure("pipe") }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
}

/// An unprivileged uid for ownership tests (nobody).
let otherUID: uid_t = 65534

// MARK: - Worker processes

/// The worker built beside the test bundle (same products directory).
func workerPath() throws -> String {
    let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let dir = (exe as NSString).deletingLastPathComponent
    // The bundle may be a directory (…xctest/) on some toolchains: look one level up too.
    for candidate in [dir, (dir as NSString).deletingLastPathComponent] {
        let p = candidate + "/passkey-state-worker"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    throw POSIXFailure("passkey-state-worker not found beside \(exe); build it with swift build --build-tests")
}

/// A spawned process with pipes to its stdin and from its stdout.
final class Worker {
    let pid: pid_t
    let stdinFD: Int32
    let stdoutFD: Int32
    let stderrFD: Int32

    init(_ arguments: [String], stdin sharedStdin: Int32? = nil) throws {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        if sharedStdin == nil { try makePipe(&inPipe) }
        try makePipe(&outPipe)
        try makePipe(&errPipe)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, sharedStdin ?? inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let path = try workerPath()
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { errno = rc; throw POSIXFailure("posix_spawn \(path)") }
        self.pid = pid
        if sharedStdin == nil { close(inPipe[0]) }
        close(outPipe[1])
        close(errPipe[1])
        stdinFD = inPipe[1]
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
    }

    deinit {
        if stdinFD >= 0 { close(stdinFD) }
        close(stdoutFD)
        close(stderrFD)
    }

    /// Blocks until the worker has printed "ready".
    func waitReady() throws {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.last != UInt8(ascii: "\n") {
            let n = read(stdoutFD, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { throw POSIXFailure("worker \(pid) exited before ready: \(errors())") }
            line.append(byte)
        }
        XCTAssertEqual(String(decoding: line, as: UTF8.self), "ready\n")
    }

    func go() { var b: UInt8 = 0x67; _ = write(stdinFD, &b, 1) }

    /// The exit status (0…255), or 128 + the signal that ended it.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    func errors() -> String { drain(stderrFD) }

    /// What it printed on stdout (after "ready", for the commands that print it).
    func output() -> String { drain(stdoutFD) }

    private func drain(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
