@testable import Authenticator
import Identifiers
import IdentifierLiterals
import Crypto
import Foundation
import HelperProtocol
import XCTest

/// The one PIN-attempt rule every backend uses (PINAttempts), driven with a backend whose
/// check is a closure: what is on disk before each check, what the questions say, when it
/// locks, and what a check that never looked at the PIN costs.
final class PINAttemptsTests: XCTestCase {
    struct Entry: KeyringEntry {
        var credentialID: CredentialID
        var rpID: String
        var failedAttempts: Int
        var lockedAt: Int64?
        var signCount: UInt32
    }

    /// Answers each question with the next PIN and records the question.
    final class Pins: PINPrompter {
        var answers: [String]
        var questions: [PINQuestion] = []
        init(_ answers: [String]) { self.answers = answers }
        func answer(_ question: PINQuestion) throws(HelperFailure) -> SecretBytes? {
            questions.append(question)
            return answers.isEmpty ? nil : SecretBytes(Array(answers.removeFirst().utf8))
        }
    }

    var directory = ""
    var store: KeyringStore<Entry>!
    let afterReply = AfterReply()
    let entry = Entry(credentialID: "AQIDBA", rpID: "rp.example", failedAttempts: 0, lockedAt: nil, signCount: 0)

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "pin-attempts-\(UUID().uuidString)"
        XCTAssertEqual(mkdir(directory, 0o700), 0)
        store = KeyringStore<Entry>(stateDirectory: directory, backend: "test")
        try store.update(user: "alice") { (keyring: inout [Entry]) throws(HelperFailure) in keyring = [entry] }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func attempts(max: Int = 5, tries: Int = 3) -> PINAttempts<Entry> {
        PINAttempts(store: store, user: "alice", maxAttempts: max, triesPerRequest: tries, afterReply: afterReply,
                    now: { 1_700_000_000 }, lockedFailure: HelperFailure(.locked, "locked", attemptsLeft: 0))
    }

    func onDisk() throws -> Entry { try XCTUnwrap(try store.credentials(of: "alice").first) }

    func testTheAttemptAndTheCounterAreOnDiskBeforeTheCheckAndTheResetWaitsForTheReply() throws {
        var seen: [Entry] = []
        let pins = Pins(["111111", "482913"])
        let result = try attempts().run(entry, pins: pins, attemptsLeft: { $0.attemptsLeft(maxAttempts: 5) }) {
            (counted: Entry, pin: SecretBytes) throws(HelperFailure) -> PINAttempts<Entry>.Check<UInt32> in
            seen.append(try! self.onDisk())
            XCTAssertEqual(counted, seen.last, "the backend checks the entry as written")
            return pin.isEqual(to: SecretBytes(Array("482913".utf8))) ? .right(counted.signCount) : .wrong(stop: nil)
        }
        XCTAssertEqual(seen.map(\.failedAttempts), [1, 2], "each attempt counted before its check")
        XCTAssertEqual(seen.map(\.signCount), [1, 2], "each check has its own counter")
        XCTAssertEqual(result, 2)
        XCTAssertEqual(pins.questions, [.existing(credentialID: entry.id, attemptsLeft: 5, retry: false),
                                        .existing(credentialID: entry.id, attemptsLeft: 4, retry: true)])
        XCTAssertEqual(try onDisk().failedAttempts, 2, "not reset before the reply")
        XCTAssertTrue(afterReply.run().isEmpty)
        XCTAssertEqual(try onDisk().failedAttempts, 0, "reset after it")
    }

    func testTheLastAllowedWrongPINLocksAndARefusedQuestionIsACancel() throws {
        let lockedAt = attempts(max: 2, tries: 3)
        XCTAssertThrowsError(try lockedAt.run(entry, pins: Pins(["1", "2", "3"]), attemptsLeft: { $0.attemptsLeft(maxAttempts: 2) }) {
            (_: Entry, _: SecretBytes) throws(HelperFailure) -> PINAttempts<Entry>.Check<Int> in .wrong(stop: nil)
        }) { XCTAssertEqual(($0 as? HelperFailure)?.code, .locked) }
        XCTAssertEqual(try onDisk().lockedAt, 1_700_000_000)
        XCTAssertEqual(try onDisk().failedAttempts, 2)

        try store.update(user: "alice") { (keyring: inout [Entry]) throws(HelperFailure) in keyring = [entry] }
        XCTAssertThrowsError(try attempts().run(entry, pins: Pins([]), attemptsLeft: { _ in 5 }) {
            (_: Entry, _: SecretBytes) throws(HelperFailure) -> PINAttempts<Entry>.Check<Int> in XCTFail("no PIN, no check"); return .wrong(stop: nil)
        }) { XCTAssertEqual(($0 as? HelperFailure)?.code, .cancelled) }
        XCTAssertEqual(try onDisk().failedAttempts, 0, "a cancel costs nothing")
    }

    func testAPINTheBackendNeverCheckedIsGivenBackAndAStopEndsAtOnce() throws {
        XCTAssertThrowsError(try attempts().run(entry, pins: Pins(["1"]), attemptsLeft: { _ in 5 }) {
            (_: Entry, _: SecretBytes) throws(HelperFailure) -> PINAttempts<Entry>.Check<Int> in .notChecked(HelperFailure(.unavailable, "gone"))
        }) { XCTAssertEqual(($0 as? HelperFailure)?.code, .unavailable) }
        XCTAssertEqual(try onDisk().failedAttempts, 0, "no guess, no attempt")
        XCTAssertEqual(try onDisk().signCount, 1, "the reserved counter is never reused")

        let pins = Pins(["1", "2"])
        XCTAssertThrowsError(try attempts().run(entry, pins: pins, attemptsLeft: { _ in 5 }) {
            (_: Entry, _: SecretBytes) throws(HelperFailure) -> PINAttempts<Entry>.Check<Int> in .wrong(stop: HelperFailure(.locked, "TPM lockout"))
        }) { XCTAssertEqual(($0 as? HelperFailure)?.message, "TPM lockout") }
        XCTAssertEqual(pins.questions.count, 1, "a stop asks nothing more")
        XCTAssertEqual(try onDisk().failedAttempts, 1, "the wrong PIN still counts")
    }
}
