import Identifiers
import IdentifierLiterals
import CBOREncoding
import Crypto
import Foundation
import HelperProtocol
import WebAuthn
import XCTest

/// What happens when the helper is killed, fed garbage, or run by someone other than root.
final class HelperRobustnessTests: HelperTestCase {
    /// Starts the helper by hand and sends a getAssertion request; returns the process after
    /// the first PIN question arrived.
    func startSignIn(_ user: UserName, _ enrolled: Enrolled) throws -> HelperProcess {
        let helper = try HelperProcess.launch(path: Self.helperPath, arguments: ["--conf", policyPath])
        let clientData = CollectedClientData.make(type: CollectedClientData.getType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        try helper.channel.send(HelperRequest.getAssertion(GetAssertionRequest(
            user: user, rpID: rpID, clientDataHash: SHA256.hash(clientData), allowCredentials: [enrolled.credentialID])).encoded())
        let first = try XCTUnwrap(try helper.channel.receive(timeoutSeconds: 10))
        guard case .question(.existing) = try HelperMessage(decoding: first) else {
            throw FixtureError("expected a PIN question, got \(try HelperMessage(decoding: first))")
        }
        return helper
    }

    func testKillingTheHelperAfterTheUserLearnedAWrongPINNeverRefundsTheAttempt() throws {
        let enrolled = try enroll("alice")
        for attempt in 1...2 {
            let helper = try startSignIn("alice", enrolled)
            try helper.channel.send(secret: PINAnswer.encode(SecretBytes(Array("000000\(attempt)".utf8))))
            // The retry question tells the caller the PIN was wrong: kill right then.
            let next = try XCTUnwrap(try helper.channel.receive(timeoutSeconds: 10))
            XCTAssertEqual(try HelperMessage(decoding: next),
                           .question(.existing(credentialID: enrolled.credentialID, attemptsLeft: 3 - attempt, retry: true)))
            let status = helper.kill()
            XCTAssertEqual(status.map { $0 & 0x7F }, SIGKILL)
            XCTAssertEqual(try failedAttempts("alice"), attempt)
            XCTAssertEqual(try held("alice").first?.attemptsLeft, 3 - attempt)
        }
    }

    func testGarbageTruncatedAndOversizedMessagesEndTheExchangeWithoutStateChange() throws {
        let enrolled = try enroll("alice")
        let before = try XCTUnwrap(keyringBytes("alice"))

        func exchange(_ frames: [[UInt8]], raw: [UInt8]? = nil, closeAfter: Bool = false) throws -> (HelperReply?, Int32?) {
            let helper = try HelperProcess.launch(path: Self.helperPath, arguments: ["--conf", policyPath])
            for f in frames { try helper.channel.send(f) }
            if let raw {
                _ = raw.withUnsafeBytes { write(helper.channel.writeFD, $0.baseAddress, $0.count) }
            }
            if closeAfter { shutdown(helper.channel.writeFD, Int32(SHUT_WR)) }
            var reply: HelperReply? = nil
            if let frame = try? helper.channel.receive(timeoutSeconds: 10), case .reply(let r) = try HelperMessage(decoding: frame) {
                reply = r
            }
            return (reply, helper.finish(graceMillis: 5000))
        }
        func assertCleanExit(_ status: Int32?, _ what: String) {
            guard let status else { return XCTFail("\(what): not reaped") }
            XCTAssertEqual(status & 0x7F, 0, "\(what): helper died of signal \(status & 0x7F)")
        }

        // Not CBOR at all.
        var (reply, status) = try exchange([Array("hello, helper".utf8)])
        XCTAssertEqual(reply?.failureCode, .badRequest)
        assertCleanExit(status, "garbage")
        // Well-formed CBOR, wrong protocol version.
        (reply, status) = try exchange([CBOR.map([.text("v"): .int(99), .text("op"): .text("status")]).encoded()])
        guard case .failure(let versionFailure) = reply else { return XCTFail("\(String(describing: reply))") }
        XCTAssertTrue(versionFailure.message.contains("version 99"), versionFailure.message)
        assertCleanExit(status, "version")
        // Unknown operation; a request with a field of the wrong type; an oversized user name.
        for bad: CBOR in [
            [.text("v"): 1, .text("op"): "format-disk"],
            [.text("v"): 1, .text("op"): "get", .text("user"): "alice", .text("rp"): .text(rpID), .text("cdh"): "not bytes", .text("allow"): []],
            [.text("v"): 1, .text("op"): "probe", .text("user"): .text(String(repeating: "a", count: 5000)), .text("rp"): .text(rpID)],
        ] {
            (reply, status) = try exchange([bad.encoded()])
            XCTAssertEqual(reply?.failureCode, .badRequest, "\(bad)")
            assertCleanExit(status, "\(bad)")
        }
        // A header announcing more than the frame limit: refused before allocating.
        (reply, status) = try exchange([], raw: [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        XCTAssertNil(reply)
        assertCleanExit(status, "oversized")
        // A frame cut short by the caller going away.
        (reply, status) = try exchange([], raw: [0, 0, 0, 100] + [UInt8](repeating: 0xA1, count: 10), closeAfter: true)
        XCTAssertNil(reply)
        assertCleanExit(status, "truncated")
        // A garbage answer to a PIN question.
        let helper = try startSignIn("alice", enrolled)
        try helper.channel.send(Array("{\"pin\": \"482913\"}".utf8))
        let frame = try XCTUnwrap(try helper.channel.receive(timeoutSeconds: 10))
        XCTAssertEqual((try HelperMessage(decoding: frame)).replyFailureCode, .badRequest)
        assertCleanExit(helper.finish(graceMillis: 5000), "bad answer")

        XCTAssertEqual(keyringBytes("alice"), before, "no request above may change the keyring")
        let (_, verified) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(verified)
    }
}

/// The wrong-PIN counter is written before the PIN is checked: a helper killed while it is
/// still deriving the key has already counted the attempt.
final class HelperSlowKDFTests: HelperTestCase {
    override var policyLines: [String] { ["pin_kdf_cost = 16", "pin_max_attempts = 3"] }

    func testKillingTheHelperDuringTheCheckStillCountsTheAttempt() throws {
        let enrolled = try enroll("alice")
        let helper = try HelperProcess.launch(path: Self.helperPath, arguments: ["--conf", policyPath])
        let clientData = CollectedClientData.make(type: CollectedClientData.getType, challenge: SecureRandom.bytes(32), origin: "pam://\(rpID)")
        try helper.channel.send(HelperRequest.getAssertion(GetAssertionRequest(
            user: "alice", rpID: rpID, clientDataHash: SHA256.hash(clientData), allowCredentials: [enrolled.credentialID])).encoded())
        _ = try XCTUnwrap(try helper.channel.receive(timeoutSeconds: 10))
        // Even the right PIN: until the helper has confirmed it, the attempt stands.
        try helper.channel.send(secret: PINAnswer.encode(SecretBytes(Array("482913".utf8))))
        var counted = false
        for _ in 0..<5000 where !counted {
            counted = (try? failedAttempts("alice")) == 1
            if !counted { usleep(200) }
        }
        helper.kill()
        XCTAssertTrue(counted, "the attempt was never written before the check")
        XCTAssertEqual(try failedAttempts("alice"), 1, "killed mid-check: the attempt stays counted")
        // The right PIN then works and resets the counter.
        let (_, verified) = try signIn("alice", enrolled, answers: Answers(["482913"]))
        XCTAssertNotNil(verified)
        XCTAssertEqual(try failedAttempts("alice"), 0)
    }
}

extension HelperMessage {
    var replyFailureCode: HelperFailure.Code? {
        if case .reply(let r) = self { return r.failureCode }
        return nil
    }
}
