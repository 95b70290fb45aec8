import Identifiers
import Foundation
import XCTest

/// A swtpm (libtpms) TPM 2.0 on a unix socket, started by a test and stopped by it: one
/// "machine" with its own TPM state directory. Inspected and configured with tpm2-tools,
/// code we did not write, so the tests see the TPM's own view of its handles and lockout.
final class SoftwareTPM {
    static let swtpm = "/usr/bin/swtpm"
    static let toolsDirectory = "/usr/bin"

    let directory: String
    var socket: String { directory + "/swtpm.sock" }
    var tcti: String { "swtpm:path=\(socket)" }
    private var process: Process?

    /// Starts swtpm with a fresh (or the given) TPM state in `directory`.
    init(directory: String) throws {
        self.directory = directory
        guard FileManager.default.isExecutableFile(atPath: Self.swtpm) else {
            throw FixtureError("\(Self.swtpm) is missing: run `make deps` (it installs swtpm, swtpm-tools and tpm2-tools)")
        }
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try start()
    }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.swtpm)
        p.arguments = ["socket", "--tpm2", "--tpmstate", "dir=\(directory)/state",
                       "--server", "type=unixio,path=\(socket)", "--ctrl", "type=unixio,path=\(socket).ctrl",
                       "--flags", "not-need-init,startup-clear"]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        p.standardOutput = log
        p.standardError = log
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard p.isRunning, Date() < deadline else {
                throw FixtureError("swtpm did not create \(socket) (exit status \(p.isRunning ? "still running" : "\(p.terminationStatus)"))")
            }
            usleep(10_000)
        }
    }

    func stop() {
        guard let p = process else { return }
        process = nil
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: socket)
        try? FileManager.default.removeItem(atPath: socket + ".ctrl")
    }

    deinit { stop() }

    // MARK: tpm2-tools

    /// Runs a tpm2-tools program against this TPM; fails the test when it fails.
    @discardableResult
    func tool(_ name: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = Self.toolsDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw FixtureError("\(path) is missing: run `make deps` (it installs tpm2-tools)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["-T", tcti] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw FixtureError("\(name) \(arguments) failed (\(p.terminationStatus)): \(text)") }
        return text
    }

    /// The TPM's dictionary-attack parameters (TPM2_DictionaryAttackParameters).
    func setDictionaryAttack(maxTries: Int, recoverySeconds: Int) throws {
        try tool("tpm2_dictionarylockout", ["-s", "-n", "\(maxTries)", "-t", "\(recoverySeconds)", "-l", "\(recoverySeconds)"])
    }

    func clearLockout() throws {
        try tool("tpm2_dictionarylockout", ["-c"])
    }

    struct Lockout: Equatable {
        var inLockout: Bool
        var failedTries: Int
        var maxTries: Int
    }

    func lockout() throws -> Lockout {
        let text = try tool("tpm2_getcap", ["properties-variable"])
        func value(_ key: String) throws -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") }),
                  let raw = line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces),
                  let v = raw.hasPrefix("0x") ? Int(raw.dropFirst(2), radix: 16) : Int(raw) else {
                throw FixtureError("tpm2_getcap has no \(key):\n\(text)")
            }
            return v
        }
        return Lockout(inLockout: try value("inLockout") == 1, failedTries: try value("TPM2_PT_LOCKOUT_COUNTER"),
                       maxTries: try value("TPM2_PT_MAX_AUTH_FAIL"))
    }

    /// Handles of a kind the TPM holds now ("handles-transient", "handles-loaded-session").
    func handles(_ kind: String) throws -> [String] {
        try tool("tpm2_getcap", [kind]).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("- ") }
    }
}

/// A "TPM" that takes connections and never answers: unix sockets that listen and never accept
/// (the swtpm TCTI connects to the socket and its `.ctrl` companion).
final class SilentTPMSocket {
    let path: String
    private var fds: [Int32] = []
    var tcti: String { "swtpm:path=\(path)" }

    init(path: String) throws {
        self.path = path
        for p in [path, path + ".ctrl"] {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(p.utf8) + [0])
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard fd >= 0, bound == 0, listen(fd, 8) == 0 else { throw FixtureError("cannot listen on \(p): errno \(errno)") }
            fds.append(fd)
        }
    }

    func close() {
        for fd in fds { Glibc.close(fd) }
        fds = []
        unlink(path)
        unlink(path + ".ctrl")
    }

    deinit { close() }
}
