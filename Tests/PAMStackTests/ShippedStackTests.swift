import Foundation
import PAMStack
import XCTest

/// Every stack the project tells administrators to use: no path that reaches the append line
/// ends in a failed authentication.
final class ShippedStackTests: XCTestCase {
    func testReadmeByHand() throws {
        let stack = try Repository.codeBlock(in: "README.md", after: "**By hand**")
        XCTAssertTrue(stack.contains("pam_passkey.so append"), stack)
        assertSafe("login", ["login": stack])
    }

    /// README's common-auth (what pam-auth-update writes from the two profiles, with
    /// libpam-cap's line after them), as a service of its own and included the way Debian's
    /// own service files include it.
    func testReadmeCommonAuth() throws {
        let commonAuth = try Repository.codeBlock(in: "README.md", after: "`/etc/pam.d/common-auth` then reads:")
        XCTAssertTrue(commonAuth.contains("[success=2 default=ignore]  pam_passkey.so"), commonAuth)
        assertSafe("common-auth", ["common-auth": commonAuth])
        assertSafe("login", ["common-auth": commonAuth, "login": Self.debianLogin])
        assertSafe("sshd", ["common-auth": commonAuth, "sshd": "@include common-auth\naccount required pam_nologin.so\n@include common-account\n"])
        assertSafe("sudo", ["common-auth": commonAuth, "sudo": "session required pam_limits.so\n@include common-auth\n@include common-account\n"])
    }

    /// Every file of pam.d/ in the repository, each as its service, with the repository's
    /// common-auth where they include it.
    func testRepositoryPamDSamples() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Repository.root.appendingPathComponent("pam.d").path).sorted()
        XCTAssertEqual(names, ["common-auth", "login", "passkey-auth", "sshd", "su"])
        var files: [String: String] = [:]
        for name in names { files[name] = try Repository.text("pam.d/" + name) }
        for name in names { assertSafe(name, files) }
        // The repository's common-auth as Debian's login includes it.
        assertSafe("login", ["common-auth": files["common-auth"]!, "login": Self.debianLogin])
    }

    /// pam_passkey(8)'s examples.
    func testManPageExamples() throws {
        let stacks = try Repository.manExamples("man/pam_passkey.8").filter { $0.contains("pam_passkey.so append") }
        XCTAssertEqual(stacks.count, 2)
        for stack in stacks { assertSafe("example", ["example": stack]) }
    }

    /// pam_start_confdir: the service file and `other` come from the application's directory;
    /// includes of any kind still read /etc/pam.d (Debian's libpam).
    func testPrivateDirectory() throws {
        let by = try Repository.codeBlock(in: "README.md", after: "**By hand**")
        if case .safe = try verdict("login", ["/srv/pam/login": by], location: .confdir("/srv/pam")) {} else { XCTFail() }
        XCTAssertThrowsError(try verdict("login", ["/srv/pam/login": "auth include passkey\n", "/srv/pam/passkey": by],
                                         location: .confdir("/srv/pam")))
        for include in ["auth include", "auth substack", "@include"] {
            if case .safe = try verdict("login", ["/srv/pam/login": include + " passkey\n", "passkey": by],
                                        location: .confdir("/srv/pam")) {} else { XCTFail(include) }
        }
        if case .safe = try verdict("login", ["/srv/pam/login": "@include /srv/pam/passkey\n", "/srv/pam/passkey": by],
                                    location: .confdir("/srv/pam")) {} else { XCTFail() }
        // The service file not there: the directory's other, not /etc/pam.d's.
        if case .safe = try verdict("login", ["/srv/pam/other": by, "login": "auth required pam_unix.so\n"],
                                    location: .confdir("/srv/pam")) {} else { XCTFail() }
    }

    /// Debian 12's /etc/pam.d/login, auth part.
    static let debianLogin = """
        auth       optional   pam_faildelay.so  delay=3000000
        auth       requisite  pam_nologin.so
        @include common-auth
        auth       optional   pam_group.so
        @include common-account
        session    required   pam_limits.so
        @include common-session
        @include common-password

        """
}
