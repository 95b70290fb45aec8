import PAMStack
import XCTest

/// Service files are split the way libpam splits them (libpam/pam_handlers.c,
/// `_pam_assemble_line`, `_pam_StrTok`, `_pam_parse_control`).
final class ConfigFileTests: XCTestCase {
    func parse(_ text: String) throws -> [ConfigLine] { try ConfigFile.parse(Array(text.utf8), path: "/etc/pam.d/x") }

    func testFieldsCommentsAndContinuations() throws {
        let lines = try parse("""
            # a comment
            auth\t[success=done  default=ignore]   pam_passkey.so conf=/etc/p.conf # trailing comment

            AUTH Requisite pam_unix.so \\
              # a comment line inside a continued line is skipped
              nullok   try_first_pass
            -auth optional pam_x.so [a b\\]c] tail
            @include common-auth
            session include common-session

            """)
        XCTAssertEqual(lines.map(\.ref.number), [2, 4, 7, 8, 9])
        XCTAssertEqual(lines[0].type, "auth")
        XCTAssertEqual(lines[0].moduleName, "pam_passkey.so")
        XCTAssertEqual(lines[0].arguments, ["conf=/etc/p.conf"])
        guard case .module(let control?, _, _) = lines[0].kind else { return XCTFail() }
        XCTAssertNil(control.keyword)
        XCTAssertEqual(control[ReturnCode.success], .done)
        XCTAssertEqual(control[ReturnCode.authErr], .ignore)

        XCTAssertEqual(lines[1].type, "auth")
        XCTAssertEqual(lines[1].arguments, ["nullok", "try_first_pass"])
        XCTAssertEqual(lines[1].ref.text, "AUTH Requisite pam_unix.so nullok try_first_pass")
        guard case .module(let requisite?, _, _) = lines[1].kind else { return XCTFail() }
        XCTAssertEqual(requisite.keyword, "requisite")

        XCTAssertTrue(lines[2].silent)
        XCTAssertEqual(lines[2].arguments, ["a b]c", "tail"])
        guard case .atInclude("common-auth") = lines[3].kind else { return XCTFail("\(lines[3].kind)") }
        XCTAssertEqual(lines[4].type, "session")
        guard case .include("common-session", false) = lines[4].kind else { return XCTFail() }
    }

    func testUnknownTypeAndMissingFields() throws {
        let lines = try parse("auht required pam_unix.so\nauth\nauth required\n")
        XCTAssertNil(lines[0].type)
        guard case .module(nil, nil, _) = lines[1].kind else { return XCTFail("\(lines[1].kind)") }
        guard case .module(_?, nil, _) = lines[2].kind else { return XCTFail("\(lines[2].kind)") }
    }

    func testRefusedFiles() {
        XCTAssertThrowsError(try parse("auth required pam_unix.so \\\n"))  // libpam refuses a file ending mid-line
        XCTAssertThrowsError(try parse("auth required pam_unix.so\0\n"))
        XCTAssertThrowsError(try parse("auth required pam_unix.so " + String(repeating: "x", count: 1200) + "\n"))
    }

    func testKeywordControls() {
        let required = Control.keyword("Required")!
        XCTAssertEqual(required[ReturnCode.success], .ok)
        XCTAssertEqual(required[ReturnCode.newAuthtokReqd], .ok)
        XCTAssertEqual(required[ReturnCode.ignore], .ignore)
        XCTAssertEqual(required[ReturnCode.authErr], .bad)
        XCTAssertEqual(Control.keyword("requisite")![ReturnCode.authErr], .die)
        XCTAssertEqual(Control.keyword("requisite")![ReturnCode.ignore], .ignore)
        XCTAssertEqual(Control.keyword("optional")![ReturnCode.authErr], .ignore)
        XCTAssertEqual(Control.keyword("optional")![ReturnCode.ignore], .ignore)
        XCTAssertEqual(Control.keyword("sufficient")![ReturnCode.success], .done)
        XCTAssertEqual(Control.keyword("sufficient")![ReturnCode.authErr], .ignore)
        XCTAssertNil(Control.keyword("include"))
    }

    func testBracketControls() {
        func control(_ s: String) -> Control { Control.bracket(Array(s.utf8)) }
        // What is not named is bad, not ignored.
        let c = control("success=ok auth_err=die")
        XCTAssertEqual(c[ReturnCode.success], .ok)
        XCTAssertEqual(c[ReturnCode.authErr], .die)
        XCTAssertEqual(c[ReturnCode.ignore], .bad)
        XCTAssertEqual(c[ReturnCode.userUnknownForTests], .bad)
        // `default` sets only what is not set yet, wherever it stands.
        let d = control("default=ignore success=2")
        XCTAssertEqual(d[ReturnCode.success], .jump(2))
        XCTAssertEqual(d[ReturnCode.authErr], .ignore)
        let e = control("success=1 default=reset default=die")
        XCTAssertEqual(e[ReturnCode.authErr], .reset)
        // Spaces around `=`, and no space needed after a number.
        let f = control("  success = 3default=ignore ")
        XCTAssertEqual(f[ReturnCode.success], .jump(3))
        XCTAssertEqual(f[ReturnCode.ignore], .ignore)
        // Anything libpam cannot parse makes every code bad.
        for broken in ["success=okay", "sucess=ok", "success", "success=", "success=0", "success=ok default", "auth_err=x"] {
            XCTAssertEqual(Set(control(broken).actions), [.bad], broken)
        }
        // libpam's number parsing wraps around at 2^31.
        XCTAssertEqual(control("success=4294967295")[ReturnCode.success], .ok)
        XCTAssertEqual(control("success=2147483648")[ReturnCode.success], .invalid(Int32.min))
    }
}

extension ReturnCode {
    static let userUnknownForTests = 10
}
