import Identifiers
import Foundation
import HelperProtocol
import XCTest

/// `HelperProcess.finish` waits for the helper's own exit, up to a deadline, then kills it:
/// no fixed sleep in a login, no helper left running, no zombie left in the host.
final class HelperProcessWaitTests: XCTestCase {
    /// Programs that stand in for a helper: root's, in root's directories, as `launch` demands.
    static let neverExits = "/usr/bin/sleep"
    static let exitsAtEOF = "/usr/bin/cat"

    private func millis(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    /// Whether `pid` is still a child of this process in any state (running or a zombie).
    private func isOurChild(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    func testAHelperThatNeverExitsIsKilledAtTheDeadlineAndReaped() throws {
        let helper = try HelperProcess.launch(path: Self.neverExits, arguments: ["3600"])
        var status: Int32? = nil
        let elapsed = millis { status = helper.finish(graceMillis: 200) }
        XCTAssertEqual(status.map { $0 & 0x7F }, SIGKILL, "killed, and the kill was reaped by finish")
        XCTAssertGreaterThanOrEqual(elapsed, 195, "it had its grace period")
        XCTAssertLessThan(elapsed, 2000, "and not much more")
        // Reaped: not our child any more (no zombie), and no such process.
        var again: Int32 = 0
        XCTAssertEqual(waitpid(helper.pid, &again, WNOHANG), -1)
        XCTAssertEqual(errno, ECHILD)
        XCTAssertEqual(kill(helper.pid, 0), -1)
        XCTAssertEqual(errno, ESRCH)
    }

    func testAHelperThatExitsIsReapedAsSoonAsItExits() throws {
        // cat exits when finish closes the channel; the wait ends with it, not at a poll tick.
        for _ in 0..<5 {
            let helper = try HelperProcess.launch(path: Self.exitsAtEOF, arguments: [])
            var status: Int32? = nil
            let elapsed = millis { status = helper.finish(graceMillis: 5000) }
            XCTAssertEqual(status, 0, "exited by itself with status 0")
            XCTAssertLessThan(elapsed, 1000, "well before the deadline")
            XCTAssertFalse(isOurChild(helper.pid))
        }
    }

    func testAHelperTheHostAlreadyReapedIsNeitherWaitedForNorKilled() throws {
        // sshd's SIGCHLD handler reaps with waitpid(-1): finish must accept that the pid is
        // gone and must not signal it (the pid may already be someone else's).
        let helper = try HelperProcess.launch(path: Self.exitsAtEOF, arguments: [])
        shutdown(helper.channel.writeFD, Int32(SHUT_WR))  // EOF for cat; finish closes the socket
        var status: Int32 = 0
        XCTAssertEqual(waitpid(helper.pid, &status, 0), helper.pid)
        var result: Int32? = 0
        let elapsed = millis { result = helper.finish(graceMillis: 5000) }
        XCTAssertNil(result)
        XCTAssertLessThan(elapsed, 1000)
    }

    func testKillEndsAHelperAtOnce() throws {
        let helper = try HelperProcess.launch(path: Self.neverExits, arguments: ["3600"])
        var status: Int32? = nil
        let elapsed = millis { status = helper.kill() }
        XCTAssertEqual(status.map { $0 & 0x7F }, SIGKILL)
        XCTAssertLessThan(elapsed, 1000)
        XCTAssertFalse(isOurChild(helper.pid))
    }
}
