import Foundation
import PAMStack
import XCTest

/// What the append step asks before an offer: its service's stack, found as libpam finds it.
final class OfferGuardTests: XCTestCase {
    static let safe = "auth [success=done default=ignore] pam_passkey.so\nauth requisite pam_unix.so\nauth optional pam_passkey.so append\n"
    static let unsafe = "auth [success=done default=ignore] pam_passkey.so\nauth required pam_unix.so\nauth optional pam_passkey.so append\n"

    func problem(_ service: String, _ files: [String: String], stack: String? = nil, arguments: [String] = ["append"]) -> String? {
        OfferGuard.problem(service: service, stackFile: stack, arguments: arguments, source: MemorySource(files: files), catalog: everyModule)
    }

    func testServiceFileThenOther() {
        XCTAssertNil(problem("login", ["/etc/pam.d/login": Self.safe]))
        XCTAssertEqual(problem("login", ["/etc/pam.d/login": Self.unsafe]),
                       "/etc/pam.d/login line 2 (auth required pam_unix.so): a failure there (auth_err) does not stop the stack, so the append line (/etc/pam.d/login line 3) runs at pam_setcred after the failed authentication; use requisite")
        // /usr/lib/pam.d when /etc/pam.d has no such file; /etc/pam.d wins when it has.
        XCTAssertNil(problem("login", ["/usr/lib/pam.d/login": Self.safe]))
        XCTAssertNotNil(problem("login", ["/etc/pam.d/login": Self.unsafe, "/usr/lib/pam.d/login": Self.safe]))
        // No service file: other. A service file without auth lines: other's auth lines.
        XCTAssertNil(problem("xdm", ["/etc/pam.d/other": Self.safe]))
        XCTAssertNotNil(problem("xdm", ["/etc/pam.d/other": Self.unsafe]))
        XCTAssertNotNil(problem("xdm", ["/etc/pam.d/xdm": "account required pam_unix.so\n", "/etc/pam.d/other": Self.unsafe]))
        // Asked for the service `other` itself, libpam reads the file twice: the second
        // pam_unix line comes after the first append line.
        XCTAssertNotNil(problem("other", ["/etc/pam.d/other": Self.safe]))
    }

    func testFailsClosed() throws {
        // Nothing to read.
        XCTAssertEqual(problem("login", [:]), "cannot follow the auth stack of login: neither login nor other exists in /etc/pam.d or /usr/lib/pam.d")
        // A stack that cannot be read.
        struct Refusing: StackSource {
            func read(_ path: String) throws(StackProblem) -> [UInt8]? {
                throw StackProblem("\(path) is writable by group or others (mode 0666); chmod go-w \(path)")
            }
        }
        let refused = OfferGuard.problem(service: "login", stackFile: nil, arguments: ["append"], source: Refusing(), catalog: everyModule)
        XCTAssertEqual(refused, "cannot follow the auth stack of login: /etc/pam.d/login is writable by group or others (mode 0666); chmod go-w /etc/pam.d/login")
        // An include that is not there.
        let missing = try XCTUnwrap(problem("login", ["/etc/pam.d/login": "auth include password-auth\n" + Self.safe]))
        XCTAssertTrue(missing.contains("password-auth does not exist"), missing)
        // An include of itself.
        let loop = try XCTUnwrap(problem("login", ["/etc/pam.d/login": "auth include login\n" + Self.safe]))
        XCTAssertTrue(loop.contains("includes /etc/pam.d/login again, inside itself"), loop)
        // A service name that is not a file name.
        XCTAssertNotNil(problem("../shadow", ["/etc/pam.d/login": Self.safe]))
        // The module's own line is not in the stack: this is not the stack it runs in.
        let elsewhere = try XCTUnwrap(problem("login", ["/etc/pam.d/login": Self.safe], arguments: ["conf=/srv/p.conf", "append"]))
        XCTAssertEqual(elsewhere, "the auth stack of login (/etc/pam.d/login) has no pam_passkey.so line with these arguments (conf=/srv/p.conf append); an application with its own PAM directory (pam_start_confdir) needs stack=PATH on the line")
    }

    func testStackArgument() throws {
        let line = ["append", "stack=/srv/pam/login"]
        let own = "auth [success=done default=ignore] pam_passkey.so\nauth requisite pam_unix.so\nauth optional pam_passkey.so append stack=/srv/pam/login\n"
        // The application's directory, not /etc/pam.d.
        XCTAssertNil(problem("login", ["/srv/pam/login": own, "/etc/pam.d/login": Self.unsafe], stack: "/srv/pam/login", arguments: line))
        let unsafe = own.replacingOccurrences(of: "requisite", with: "required")
        XCTAssertEqual(problem("login", ["/srv/pam/login": unsafe, "/etc/pam.d/login": Self.safe], stack: "/srv/pam/login", arguments: line),
                       "/srv/pam/login line 2 (auth required pam_unix.so): a failure there (auth_err) does not stop the stack, so the append line (/srv/pam/login line 3) runs at pam_setcred after the failed authentication; use requisite")
        // stack= must name the file libpam reads for this service.
        XCTAssertEqual(problem("sshd", ["/srv/pam/login": own, "/srv/pam/sshd": own], stack: "/srv/pam/login", arguments: line),
                       "stack=/srv/pam/login is not the file libpam reads for the service sshd (/srv/pam/sshd); name that file")
        XCTAssertEqual(problem("login", [:], stack: "login", arguments: ["append", "stack=login"]), "stack=login is not an absolute path")
        // `other` in the application's directory.
        let other = own.replacingOccurrences(of: "/srv/pam/login", with: "/srv/pam/other")
        XCTAssertNil(problem("xdm", ["/srv/pam/other": other], stack: "/srv/pam/other", arguments: ["append", "stack=/srv/pam/other"]))
    }
}
