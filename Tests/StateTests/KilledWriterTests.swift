import Foundation
import XCTest
@testable import Registry
@testable import Storage
import Identifiers
import IdentifierLiterals

/// A writer killed with SIGKILL at random moments: every time, the record must be exactly
/// the old content or exactly the new one, and the next writer must carry on.
final class KilledWriterTests: TempDirTestCase {
    let rounds = 300

    /// Generation `n` of alice's record: big enough (≈150 KB) that writing and fsyncing it
    /// takes a while, so kills land before, during and after the write.
    func generation(_ n: Int, user: UserName) -> UserRecord {
        let padding = String(repeating: "A", count: 1500)
        return UserRecord(user: user, credentials: (0..<100).map { i in
            var c = sampleCredential("gen\(n)-\(i)")
            c.attestationObject = padding + String(n)
            c.signCount = UInt32(n)
            return c
        })
    }

    func testRecordIsAlwaysTheOldOrTheNewContent() throws {
        let registryDir = path("registry")
        try SecureDirectory.create(registryDir, mode: 0o755)
        let alice = try UserName(validating: "alice")
        let registry = FileRegistry(directory: registryDir)
        let file = registry.path(for: alice)
        // An unrelated user's file must come through untouched.
        try registry.update(user: UserName(validating: "bob")) { $0.add(sampleCredential("bob")) }
        let bobBefore = readRaw(path("registry/bob.json"))

        try registry.update(user: alice) { $0 = self.generation(0, user: alice) }
        var generator = SystemRandomNumberGenerator()
        var window = 0.0 // µs from "go" to a finished write, measured on unkilled runs
        var outcomes = (old: 0, new: 0, tempLeft: 0)

        for round in 1...rounds {
            let old = try XCTUnwrap(readRaw(file))
            let next = generation(round, user: alice)
            let nextBytes = try DocumentStore<UserRecord>.encode(next, path: file)
            writeRaw(path("next.json"), nextBytes, mode: 0o600)

            let worker = try Worker(["replace", registryDir, "alice", path("next.json")])
            try worker.waitReady()
            let start = DispatchTime.now().uptimeNanoseconds
            worker.go()
            let calibrating = round <= 5
            if !calibrating {
                // Uniform over 0…1.5× a full write: some kills before, some during, some after.
                usleep(UInt32(Double.random(in: 0...(window * 1.5), using: &generator)))
                kill(worker.pid, SIGKILL)
            }
            let status = worker.wait()
            if calibrating {
                XCTAssertEqual(status, 0, worker.errors())
                window = max(window, Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            }

            let now = try XCTUnwrap(readRaw(file), "round \(round): the record disappeared")
            let record = try registry.record(for: alice) // parses, or throws and fails the test
            if now == old {
                outcomes.old += 1
                XCTAssertEqual(record, generation(round - 1, user: alice))
            } else if now == nextBytes {
                outcomes.new += 1
                XCTAssertEqual(record, next)
            } else {
                XCTFail("round \(round): the record is neither the old nor the new content")
                break
            }
            if exists(path("registry/.alice.json.tmp")) { outcomes.tempLeft += 1 }
            if now == old {
                // Carry on from the new content so each round's "old" is known: a writer that
                // was killed must not stop the next one (its lock died with it; its
                // temporary file is reused).
                try registry.update(user: alice) { $0 = next }
            }
        }
        print("killed-writer rounds: \(rounds); record old: \(outcomes.old), new: \(outcomes.new); "
              + "killed mid-write (temporary file left): \(outcomes.tempLeft); write window \(Int(window)) µs")
        XCTAssertGreaterThan(outcomes.old, 0, "no kill landed before the rename: the timing does not test anything")
        XCTAssertGreaterThan(outcomes.new, 5, "no writer got to finish")
        XCTAssertEqual(readRaw(path("registry/bob.json")), bobBefore)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: registryDir).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "the last update reused and removed any temporary file")
    }
}
