import Foundation
import XCTest
@testable import HostState
@testable import Registry
@testable import Storage
import Identifiers
import IdentifierLiterals

/// Real processes (passkey-state-worker) writing at once, as concurrent logins and
/// passkeyctl runs do: no update may be lost and no file may be left invalid.
final class ConcurrentWriterTests: TempDirTestCase {
    let processes = 16
    let updatesEach = 8

    /// Starts every worker, then releases them together through one shared stdin pipe.
    func runTogether(_ argumentLists: [[String]]) throws {
        var gate: [Int32] = [-1, -1]
        try makePipe(&gate)
        let workers = try argumentLists.map { try Worker($0, stdin: gate[0]) }
        close(gate[0])
        for w in workers { try w.waitReady() }
        let go = [UInt8](repeating: 0x67, count: workers.count)
        XCTAssertEqual(go.withUnsafeBytes { write(gate[1], $0.baseAddress, $0.count) }, workers.count)
        close(gate[1])
        for w in workers {
            let status = w.wait()
            XCTAssertEqual(status, 0, "worker \(w.pid) failed: \(w.errors())")
        }
    }

    /// Parses the file with Foundation's JSON parser too, not only with the code under test.
    func assertValidJSON(_ file: String, line: UInt = #line) {
        guard let bytes = readRaw(file) else { return XCTFail("\(file) missing", line: line) }
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(bytes)), "\(file) is not JSON", line: line)
    }

    func testSixteenProcessesAppendingToTheSameUserLoseNothing() throws {
        try SecureDirectory.create(path("registry"), mode: 0o755)
        try runTogether((0..<processes).map { ["append", path("registry"), "alice", String(updatesEach), "w\($0)"] })

        let record = try FileRegistry(directory: path("registry")).record(for: UserName(validating: "alice"))
        let expected = Set((0..<processes).flatMap { w in (0..<updatesEach).map { "w\(w)-\($0)" } })
        XCTAssertEqual(record.credentials.count, processes * updatesEach)
        XCTAssertEqual(Set(record.credentials.map(\.id)), Set(expected.map { CredentialID(Array($0.utf8)) }))
        assertValidJSON(path("registry/alice.json"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("registry")).sorted(),
                       [".alice.json.lock", "alice.json"], "no temporary file left behind")
    }

    func testSixteenProcessesAppendingToDifferentUsersLoseNothing() throws {
        try SecureDirectory.create(path("registry"), mode: 0o755)
        try runTogether((0..<processes).map { ["append", path("registry"), "user\($0)", String(updatesEach), "w\($0)"] })

        let registry = FileRegistry(directory: path("registry"))
        XCTAssertEqual(try registry.users().count, processes)
        for w in 0..<processes {
            let record = try registry.record(for: UserName(validating: "user\(w)"))
            XCTAssertEqual(record.credentials.map(\.id), (0..<updatesEach).map { CredentialID(Array("w\(w)-\($0)".utf8)) })
            assertValidJSON(registry.path(for: try UserName(validating: "user\(w)")))
        }
    }

    func testSixteenProcessesUpdatingOneHistoryLoseNothing() throws {
        try SecureDirectory.create(path("host"), mode: 0o700)
        // The first update also creates the history directory: that must survive the race.
        try runTogether((0..<processes).map { _ in ["logins", path("host"), "alice", String(updatesEach)] })

        let history = try HistoryStore(stateDirectory: path("host")).history(for: UserName(validating: "alice"))
        XCTAssertEqual(history.counters.passkeyLogins, processes * updatesEach)
        assertValidJSON(path("host/history/alice.json"))
        XCTAssertEqual(mode(of: path("host/history/alice.json")), 0o600)
    }
}
