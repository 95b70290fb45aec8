import Identifiers
import IdentifierLiterals
import Crypto
import Foundation
import HelperProtocol
import WebAuthn
import XCTest

/// A setuid-root copy of the helper run by a real unprivileged account (as a screen locker
/// would): it serves only that account, and only to use a passkey.
final class SetuidHelperTests: HelperTestCase {
    var account = ""
    var accountName: UserName { try! UserName(validating: account) }
    var uid: uid_t = 0
    var setuidCopy: String { root + "/bin/pam_passkey_helper" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard geteuid() == 0 else { throw FixtureError("this test needs root (a real account and a setuid copy): run `sudo make check`") }
        account = "pkth" + String(UInt32.random(in: 0..<0xFFFFFF), radix: 16)
        XCTAssertEqual(try run("/usr/sbin/useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", account]), 0)
        uid = try XCTUnwrap(getpwnam(account)).pointee.pw_uid
        mkdir(root + "/bin", 0o755)
        XCTAssertEqual(try run("/usr/bin/install", ["-o", "root", "-g", "root", "-m", "4755", Self.helperPath, setuidCopy]), 0)
    }

    override func tearDownWithError() throws {
        if !account.isEmpty { _ = try? run("/usr/sbin/userdel", [account]) }
        try super.tearDownWithError()
    }

    func run(_ program: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// The helper, started by `account` through setpriv (real uid = the account).
    func asAccount(_ extra: [String] = []) -> HelperClient {
        HelperClient(program: "/usr/bin/setpriv",
                     arguments: ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--", setuidCopy] + extra,
                     timeoutSeconds: 10)
    }

    func testServesOnlyTheCallersOwnAccountAndNeverCreatesOrRemoves() throws {
        let cdh = SHA256.hash([1, 2, 3])
        let someID = CredentialID([UInt8](repeating: 7, count: 32))
        let forbidden: [(String, HelperRequest)] = [
            ("probe for root", .probe(user: "root", rpID: rpID)),
            ("sign in as root", .getAssertion(GetAssertionRequest(user: "root", rpID: rpID, clientDataHash: cdh, allowCredentials: [someID]))),
            ("create for itself", .makeCredential(MakeCredentialRequest(user: accountName, rpID: rpID, clientDataHash: cdh, userHandle: [1]))),
            ("create for root", .makeCredential(MakeCredentialRequest(user: "root", rpID: rpID, clientDataHash: cdh, userHandle: [1]))),
            ("delete", .deleteCredential(user: accountName, credentialID: someID)),
            ("unlock", .unlock(user: accountName, credentialID: nil)),
        ]
        for (what, request) in forbidden {
            let reply = try asAccount().perform(request, answer: { _ in XCTFail("\(what): asked for a PIN"); return nil })
            XCTAssertEqual(reply.failureCode, .notPermitted, what)
        }
        // Its own account: allowed (the answer depends on the system's policy, but it is not a refusal).
        let own = try asAccount().perform(.probe(user: accountName, rpID: rpID), answer: { _ in nil })
        XCTAssertNotEqual(own.failureCode, .notPermitted)
        if case .status = try asAccount().perform(.status, answer: { _ in nil }) {} else { XCTFail("status refused") }
    }

    /// Two accounts whose names are canonically equivalent but byte-different ("é" as one
    /// code point, and "e" + U+0301): one Swift String, two accounts, two keyrings. The
    /// helper run by one must refuse every operation on the other's credential.
    func testLookAlikeNamesAreTwoAccounts() throws {
        let suffix = String(UInt32.random(in: 0..<0xFFFFF), radix: 16)
        let victim = "pk\u{E9}" + suffix, lookalike = "pke\u{301}" + suffix
        XCTAssertEqual(victim, lookalike, "the premise: Swift calls these names equal")
        XCTAssertNotEqual(Array(victim.utf8), Array(lookalike.utf8))
        var made: [String] = []
        defer { for name in made { _ = try? run("/usr/sbin/userdel", [name]) } }
        for name in [victim, lookalike] {
            XCTAssertEqual(try run("/usr/sbin/useradd", ["--badname", "--no-create-home", "--shell", "/usr/sbin/nologin", name]), 0, name)
            made.append(name)
        }
        let lookalikeUID = try XCTUnwrap(getpwnam(lookalike)).pointee.pw_uid
        XCTAssertNotEqual(lookalikeUID, try XCTUnwrap(getpwnam(victim)).pointee.pw_uid)
        let victimName = try UserName(validating: victim), lookalikeName = try UserName(validating: lookalike)
        let enrolled = try enroll(victimName)

        let asLookalike = HelperClient(program: "/usr/bin/setpriv",
                                       arguments: ["--reuid=\(lookalikeUID)", "--regid=\(lookalikeUID)", "--clear-groups", "--", setuidCopy],
                                       timeoutSeconds: 10)
        let cdh = SHA256.hash([4, 5, 6])
        let requests: [(String, HelperRequest)] = [
            ("probe", .probe(user: victimName, rpID: rpID)),
            ("getAssertion", .getAssertion(GetAssertionRequest(user: victimName, rpID: rpID, clientDataHash: cdh,
                                                               allowCredentials: [enrolled.credentialID]))),
            ("delete", .deleteCredential(user: victimName, credentialID: enrolled.credentialID)),
            ("unlock", .unlock(user: victimName, credentialID: enrolled.credentialID)),
        ]
        for (what, request) in requests {
            let reply = try asLookalike.perform(request, answer: { _ in XCTFail("\(what): asked for a PIN"); return nil })
            XCTAssertEqual(reply.failureCode, .notPermitted, what)
        }
        // Nothing of the victim's changed: no attempt used up, the credential still there.
        XCTAssertEqual(try failedAttempts(victimName), 0)
        XCTAssertEqual(try held(victimName).map(\.id), [enrolled.credentialID])
        // Its own name is its own account.
        let own = try asLookalike.perform(.probe(user: lookalikeName, rpID: rpID), answer: { _ in nil })
        XCTAssertNotEqual(own.failureCode, .notPermitted)
    }

    func testANonRootCallerCannotPointTheSetuidHelperAtItsOwnPolicy() throws {
        XCTAssertThrowsError(try asAccount(["--conf", policyPath]).perform(.status, answer: { _ in nil })) { error in
            XCTAssertEqual(error as? HelperClientError, .channel(.closed))
        }
    }

    func testRootStillActsForAnyAccount() throws {
        // The same setuid copy, run by root, serves any account with the test policy.
        let enrolled = try enroll("alice")
        let reply = try HelperClient(program: setuidCopy, arguments: ["--conf", policyPath], timeoutSeconds: 10)
            .perform(.probe(user: "alice", rpID: rpID), answer: { _ in nil })
        guard case .probe(let reports) = reply, let held = reports.hostAuthenticator?.held else { return XCTFail("\(reply)") }
        XCTAssertEqual(held.map(\.id), [enrolled.credentialID])
    }
}
