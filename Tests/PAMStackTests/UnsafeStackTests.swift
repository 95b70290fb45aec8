import PAMStack
import XCTest

/// Stacks where the append line can run at pam_setcred after pam_authenticate failed: each
/// found, with the line to change and the fix.
final class UnsafeStackTests: XCTestCase {
    static let login = "auth [success=done default=ignore] pam_passkey.so\n"
    static let append = "auth optional pam_passkey.so append\n"

    func testRequiredPasswordLineBeforeAppend() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": Self.login + "auth required pam_unix.so nullok\n" + Self.append]))
        XCTAssertEqual(path.culprit, LineRef(file: "/etc/pam.d/login", number: 2, text: "auth required pam_unix.so nullok"))
        XCTAssertEqual(path.appendLine.number, 3)
        XCTAssertEqual(path.description, "/etc/pam.d/login line 2 (auth required pam_unix.so nullok): a failure there (auth_err) does not stop the stack, so the append line (/etc/pam.d/login line 3) runs at pam_setcred after the failed authentication; use requisite")
    }

    /// The README's old "By hand" stack, which the outside attack found.
    func testOldReadmeStack() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": """
            auth  [success=done default=ignore]  pam_passkey.so          # passkey login, or step aside
            auth  required                       pam_unix.so             # or the site's password module
            auth  optional                       pam_passkey.so append   # offers a passkey at pam_setcred time

            """]))
        XCTAssertEqual(path.culprit.number, 2)
        XCTAssertTrue(path.description.hasSuffix("; use requisite"), path.description)
    }

    func testOptionalOnly() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": "auth optional pam_unix.so\n" + Self.append]))
        XCTAssertEqual(path.culprit.number, 1)
        XCTAssertEqual(path.description, "/etc/pam.d/login line 1 (auth optional pam_unix.so): its auth_err is passed over (optional) and no line before the append line (/etc/pam.d/login line 2) must succeed, so that line runs at pam_setcred after a failed authentication; use requisite")
        // Nothing at all before it.
        let alone = try XCTUnwrap(unsafePath("login", ["login": Self.append]))
        XCTAssertEqual(alone.culprit.number, 1)
        XCTAssertTrue(alone.description.hasSuffix("no line before it must succeed, so it runs at pam_setcred whatever the authentication did; put the password module before it, as requisite"), alone.description)
        // sufficient: a failure is passed over too.
        XCTAssertEqual(unsafePath("login", ["login": Self.login + "auth sufficient pam_unix.so\n" + Self.append])?.culprit.number, 2)
    }

    func testFailingLineAfterAppend() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": Self.login + "auth requisite pam_unix.so\n" + Self.append + "auth required pam_faillock.so authsucc\n"]))
        XCTAssertEqual(path.culprit.number, 4)
        XCTAssertEqual(path.description, "/etc/pam.d/login line 4 (auth required pam_faillock.so authsucc): it can fail (auth_err) after the append line (/etc/pam.d/login line 3) has run, and a failure this late does not keep pam_setcred from running that line; move the append line after it, to the end of the auth stack")
        // requisite stops the stack, but only after the append line has run.
        XCTAssertEqual(unsafePath("login", ["login": Self.login + "auth requisite pam_unix.so\n" + Self.append + "auth requisite pam_x.so\n"])?.culprit.number, 4)
        // An optional line after it cannot fail the authentication.
        assertSafe("login", ["login": Self.login + "auth requisite pam_unix.so\n" + Self.append + "auth optional pam_x.so\n"])
    }

    func testJumps() throws {
        // The append line inside the primary block, before pam_deny: a failed password
        // falls through to it, then pam_deny fails the authentication.
        let early = try XCTUnwrap(unsafePath("common-auth", ["common-auth": """
            auth [success=3 default=ignore] pam_passkey.so
            auth [success=2 default=ignore] pam_unix.so
            auth optional pam_passkey.so append
            auth requisite pam_deny.so
            auth required pam_permit.so

            """]))
        XCTAssertEqual(early.culprit.number, 4)
        XCTAssertTrue(early.description.contains("move the append line after it"), early.description)

        // A failure that jumps over pam_deny.
        let over = try XCTUnwrap(unsafePath("common-auth", ["common-auth": """
            auth [success=2 default=ignore] pam_passkey.so
            auth [success=1 default=2] pam_unix.so
            auth requisite pam_deny.so
            auth required pam_permit.so
            auth optional pam_passkey.so append

            """]))
        XCTAssertEqual(over.culprit.number, 2)
        XCTAssertEqual(over.description, "/etc/pam.d/common-auth line 2 (auth [success=1 default=2] pam_unix.so): its auth_err (auth_err=2) jumps to the append line (/etc/pam.d/common-auth line 5) past every line that would stop it, and no line before must succeed; make its failures die")

        // A jump past the end of a substack is a failure libpam goes on from, in the stack
        // around it.
        let past = try XCTUnwrap(unsafePath("login", ["login": "auth substack password-auth\n" + Self.append,
                                                      "password-auth": "auth [success=ok default=7] pam_unix.so\n"]))
        XCTAssertEqual(past.culprit.file, "/etc/pam.d/password-auth")
        XCTAssertTrue(past.description.contains("its jump (auth_err=7) goes past the end of its stack"), past.description)
        // Past the end of the service's own stack it skips the append line too.
        assertSafe("login", ["login": "auth [success=ok default=7] pam_unix.so\n" + Self.append])

        // pam-auth-update's jumps miscounted: a passkey login lands on pam_deny, which is a
        // failure but not a wrong password, and the jump over pam_unix on success still
        // protects the password path.
        assertSafe("common-auth", ["common-auth": """
            auth [success=1 default=ignore] pam_passkey.so
            auth [success=1 default=ignore] pam_unix.so
            auth requisite pam_deny.so
            auth required pam_permit.so
            auth optional pam_passkey.so append

            """])
    }

    func testBracketControlThatGoesOnAfterAFailure() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": Self.login + "auth [success=ok default=bad] pam_sss.so\n" + Self.append]))
        XCTAssertEqual(path.culprit.number, 2)
        XCTAssertTrue(path.description.hasSuffix("make its failures die (auth_err=die, or default=die)"), path.description)
        // A failure counted as ok.
        let ok = try XCTUnwrap(unsafePath("login", ["login": Self.login + "auth [default=ok] pam_x.so\n" + Self.append]))
        XCTAssertEqual(ok.culprit.number, 2)
        XCTAssertTrue(ok.description.contains("counts as a result (auth_err=ok)"), ok.description)
        // The way to use another password module.
        assertSafe("login", ["login": Self.login + "auth [success=ok default=die] pam_sss.so\n" + Self.append])
    }

    /// Another password module may decline (PAM_IGNORE); requisite passes that over.
    func testRequisiteUnknownModuleThatMayDecline() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": Self.login + "auth requisite pam_sss.so\n" + Self.append]))
        XCTAssertEqual(path.culprit.number, 2)
        XCTAssertTrue(path.description.contains("it may decline (PAM_IGNORE), which requisite passes over"), path.description)
        XCTAssertTrue(path.description.hasSuffix("use [success=ok default=die], which also stops the stack when it declines"), path.description)
    }

    func testSubstack() throws {
        // requisite inside a substack ends only the substack.
        let path = try XCTUnwrap(unsafePath("login", [
            "login": Self.login + "auth substack password-auth\n" + Self.append,
            "password-auth": "auth requisite pam_unix.so\n",
        ]))
        XCTAssertEqual(path.culprit, LineRef(file: "/etc/pam.d/password-auth", number: 1, text: "auth requisite pam_unix.so"))
        XCTAssertTrue(path.description.contains("ends only the substack it is in"), path.description)
        // Included instead, it ends the stack.
        assertSafe("login", ["login": Self.login + "auth include password-auth\n" + Self.append,
                             "password-auth": "auth requisite pam_unix.so\n"])
        // common-auth's pattern as a substack: pam_deny's die ends only the substack, and a
        // line after it gets the stack going again.
        let deny = try XCTUnwrap(unsafePath("login", [
            "login": Self.login + "auth substack password-auth\nauth requisite pam_permit.so\n" + Self.append,
            "password-auth": "auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n",
        ]))
        XCTAssertEqual(deny.culprit, LineRef(file: "/etc/pam.d/password-auth", number: 2, text: "auth requisite pam_deny.so"))
    }

    func testIncludedUnsafeLineNamesTheIncludedFile() throws {
        let path = try XCTUnwrap(unsafePath("sshd", [
            "sshd": "@include common-auth\n",
            "common-auth": Self.login + "auth required pam_unix.so\n" + Self.append,
        ]))
        XCTAssertEqual(path.culprit.file, "/etc/pam.d/common-auth")
        XCTAssertEqual(path.appendLine.file, "/etc/pam.d/common-auth")
    }

    func testResetAndDone() throws {
        // reset forgets pam_permit's success: the failed password leaves nothing decided.
        let reset = try XCTUnwrap(unsafePath("login", ["login": "auth required pam_permit.so\nauth [success=ok default=reset] pam_unix.so\n" + Self.append]))
        XCTAssertEqual(reset.culprit.number, 2)
        XCTAssertTrue(reset.description.contains("(auth_err=reset)"), reset.description)
        // done after a failure counted as ok: pam_authenticate stops there with that failure;
        // pam_setcred, whose result comes from pam_sm_setcred's answers, may go on.
        let parted = try XCTUnwrap(unsafePath("login", ["login": "auth [success=ok default=ok] pam_x.so\nauth sufficient pam_permit.so\n" + Self.append]))
        XCTAssertEqual(parted.culprit.number, 2)
        XCTAssertTrue(parted.description.contains("can part at this `done`"), parted.description)
        // The shipped login line's done stops pam_authenticate only on a success.
        assertSafe("login", ["login": Self.login + "auth requisite pam_unix.so\n" + Self.append])
    }

    func testAppendLineThatFailsItself() throws {
        let path = try XCTUnwrap(unsafePath("login", ["login": Self.login + "auth requisite pam_unix.so\nauth [default=bad] pam_passkey.so append\n"]))
        XCTAssertEqual(path.culprit.number, 3)
        XCTAssertTrue(path.description.hasSuffix("use optional"), path.description)
    }

    func testMissingModule() throws {
        // Without pam_permit (a missing module answers module_unknown), common-auth's
        // successes end in a failure after the append line ran.
        let missing = ModuleCatalog { $0 != "pam_permit.so" }
        let stack = """
            auth [success=2 default=ignore] pam_passkey.so
            auth [success=1 default=ignore] pam_unix.so
            auth requisite pam_deny.so
            auth required pam_permit.so
            auth optional pam_passkey.so append

            """
        guard case .unsafe(let path) = try verdict("common-auth", ["common-auth": stack], catalog: missing) else { return XCTFail() }
        XCTAssertEqual(path.culprit.number, 4)
    }
}
