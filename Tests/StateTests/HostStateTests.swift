import Foundation
import XCTest
@testable import HostState
import Registry
@testable import Storage
import Identifiers
import IdentifierLiterals

final class HostIdentityTests: TempDirTestCase {
    func testHostIDIsAKeyedHashOfTheTrimmedMachineID() throws {
        // Expected value from an independent implementation:
        //   printf %s 0123456789abcdef0123456789abcdef | openssl dgst -sha256 -hmac "pam_passkey host-id v1"
        // (first 16 bytes).
        writeRaw(path("machine-id"), "0123456789abcdef0123456789abcdef\n", mode: 0o444)
        let identity = try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: "")
        XCTAssertEqual(identity.hostID, "3299671781ac4348cb7a1411b5750995")
        XCTAssertFalse(identity.hostID.contains("0123456789abcdef"), "the raw machine id never appears")
        writeRaw(path("machine-id"), "  0123456789abcdef0123456789abcdef\r\n\n", mode: 0o444)
        XCTAssertEqual(try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: "").hostID,
                       "3299671781ac4348cb7a1411b5750995")
        writeRaw(path("machine-id"), "0123456789abcdef0123456789abcdee\n", mode: 0o444)
        XCTAssertNotEqual(try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: "").hostID,
                          "3299671781ac4348cb7a1411b5750995")
    }

    func testHostNameComesFromThePolicyElseTheKernel() throws {
        writeRaw(path("machine-id"), "abc\n")
        XCTAssertEqual(try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: "kiosk-3").hostName, "kiosk-3")
        let kernel = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let name = try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: "").hostName
        XCTAssertFalse(name.isEmpty)
        XCTAssertTrue(name.hasPrefix(kernel), "\(name) is not the kernel's host name \(kernel)")
    }

    func testMissingEmptyOrUninitializedHostIDFilesAreErrorsWithAFix() {
        func assertError(_ expected: HostIdentityError, line: UInt = #line) {
            XCTAssertThrowsError(try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: ""), line: line) { error in
                XCTAssertEqual(error as? HostIdentityError, expected, line: line)
                XCTAssertTrue("\(error)".contains(path("machine-id")), line: line)
            }
        }
        assertError(.missing(path: path("machine-id")))
        XCTAssertTrue(HostIdentityError.missing(path: "/etc/machine-id").description.contains("systemd-machine-id-setup"))
        writeRaw(path("machine-id"), " \n\n")
        assertError(.empty(path: path("machine-id")))
        writeRaw(path("machine-id"), "uninitialized\n")
        assertError(.uninitialized(path: path("machine-id")))
    }

    func testUnsafeHostIDFilesAreRefused() {
        writeRaw(path("real-id"), "abc\n")
        symlink(path("real-id"), path("machine-id"))
        XCTAssertThrowsError(try HostIdentity.load(hostIDFile: path("machine-id"), configuredName: "")) {
            XCTAssertEqual($0 as? HostIdentityError, .unsafe(.symbolicLink(path: path("machine-id"))))
        }
        writeRaw(path("real-id"), "abc\n", mode: 0o666)
        XCTAssertThrowsError(try HostIdentity.load(hostIDFile: path("real-id"), configuredName: "")) {
            XCTAssertEqual($0 as? HostIdentityError, .unsafe(.writableByOthers(path: path("real-id"), mode: 0o666, kind: .regularFile)))
            XCTAssertTrue("\($0)".contains("chmod go-w"))
        }
        chmod(path("real-id"), 0o644)
        chown(path("real-id"), otherUID, otherUID)
        XCTAssertThrowsError(try HostIdentity.load(hostIDFile: path("real-id"), configuredName: "")) {
            XCTAssertEqual($0 as? HostIdentityError, .unsafe(.wrongOwner(path: path("real-id"), uid: otherUID, allowed: [0])))
        }
    }

    func testTheRealMachineIDLoadsWhenPresent() throws {
        // This machine's own /etc/machine-id (root-owned, 0444 on Debian) passes the checks.
        guard FileManager.default.fileExists(atPath: "/etc/machine-id") else { return }
        let id = try HostIdentity.load(hostIDFile: "/etc/machine-id", configuredName: "")
        XCTAssertEqual(id.hostID.count, 32)
        XCTAssertTrue(id.hostID.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }
}

final class HistoryTests: TempDirTestCase {
    let alice = try! UserName(validating: "alice")
    var store: HistoryStore!

    override func setUpWithError() throws {
        try super.setUpWithError()
        try SecureDirectory.create(path("host"), mode: 0o700)
        store = HistoryStore(stateDirectory: path("host"))
    }

    func testEmptyUntilTheFirstUpdateWhichCreatesAPrivateDirectoryAndFile() throws {
        XCTAssertEqual(try store.history(for: alice), UserHistory(user: alice))
        XCTAssertFalse(exists(path("host/history")), "reading creates nothing")
        try store.update(user: alice) { $0.recordPasskeyLogin(at: 100) }
        XCTAssertEqual(mode(of: path("host/history")), 0o700)
        XCTAssertEqual(mode(of: path("host/history/alice.json")), 0o600)
        XCTAssertEqual(try store.history(for: alice).host.lastPasskeyLogin, 100)
    }

    func testAMissingStateDirectoryIsAnError() {
        let absent = HistoryStore(stateDirectory: path("absent"))
        assertRefused(.notFound(path: path("absent"))) { try absent.history(for: alice) }
        assertRefused(.notFound(path: path("absent"))) { try absent.update(user: alice) { _ in } }
    }

    func testEventsUpdateTheSignalsAndTheCounters() throws {
        try store.update(user: alice) { h in
            h.recordCancel(at: 10)
            h.recordCancel(at: 11)
            h.recordPasswordLogin(at: 12, fallbackReason: "cancelled")
            h.recordOffer(answer: .declined, at: 12)
            h.recordOffer(answer: .unanswered, at: 13)
            h.recordOffer(answer: .unanswered, at: 14)
            h.recordLockout(credentialID: "Y3JlZA", at: 15)
            h.recordPasswordLogin(at: 16, fallbackReason: "locked")
            h.recordPasswordLogin(at: 17, fallbackReason: "locked")
        }
        var h = try store.history(for: alice)
        XCTAssertEqual(h.host.consecutiveCancels, 2)
        XCTAssertEqual(h.host.lastCancel, 11)
        XCTAssertEqual(h.lastPasswordLogin, 17)
        XCTAssertEqual(h.lockout, LockoutNote(credentialID: "Y3JlZA", time: 15))
        XCTAssertEqual(h.counters.fallbacks, ["cancelled": 1, "locked": 2])
        XCTAssertEqual([h.counters.offers, h.counters.declined, h.counters.accepted, h.counters.pinLockouts], [3, 1, 0, 1])
        XCTAssertNil(h.host.neverSince)

        try store.update(user: alice) { h in
            h.recordPasskeyLogin(at: 20)
            h.recordOffer(answer: .never, at: 21)
        }
        h = try store.history(for: alice)
        XCTAssertEqual(h.host.consecutiveCancels, 0, "a passkey login ends a run of cancels")
        XCTAssertEqual(h.host.lastPasskeyLogin, 20)
        XCTAssertNil(h.lockout)
        XCTAssertEqual(h.host.neverSince, 21)
        XCTAssertEqual([h.counters.passkeyLogins, h.counters.never], [1, 1])
    }

    func testMalformedOrNewerHistoryIsRefusedAndLeftAlone() throws {
        try store.update(user: alice) { $0.recordCancel(at: 1) }
        let file = store.path(for: alice)
        writeRaw(file, "{\"schemaVersion\": 1, \"user\": \"alice\"", mode: 0o600)
        XCTAssertThrowsError(try store.history(for: alice)) {
            guard case .malformed(file, _)? = $0 as? StorageError else { return XCTFail("\($0)") }
        }
        let newer = "{\"schemaVersion\": 9, \"user\": \"alice\"}"
        writeRaw(file, newer, mode: 0o600)
        assertRefused(.unsupportedSchema(path: file, found: 9, newestKnown: 1)) { try store.update(user: alice) { $0.recordCancel(at: 2) } }
        XCTAssertEqual(readRaw(file), Array(newer.utf8))
    }

    func testUnsafeHistoryIsRefused() throws {
        try store.update(user: alice) { $0.recordCancel(at: 1) }
        chmod(path("host/history"), 0o733)
        assertRefused(.writableByOthers(path: path("host/history"), mode: 0o733, kind: .directory)) { try store.history(for: alice) }
        chmod(path("host/history"), 0o700)
        chown(store.path(for: alice), otherUID, otherUID)
        assertRefused(.wrongOwner(path: store.path(for: alice), uid: otherUID, allowed: [0])) { try store.history(for: alice) }
    }
}
