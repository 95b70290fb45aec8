import Identifiers
import XCTest
@testable import Policy
@testable import Storage

final class PolicyLoadTests: TempDirTestCase {
    func testAMissingFileMeansAllDefaults() throws {
        let (policy, warnings) = try Policy.load(path: path("pam_passkey.conf"))
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(policy[.pinMinLength], 6)
        XCTAssertEqual(policy[.registryDir], "/var/lib/pam_passkey/registry")
        XCTAssertFalse(policy.isSet("pin_min_length"))
        XCTAssertTrue(policy.source.contains("does not exist"))
        let (again, none) = try Policy.load(path: path("no-such-dir/pam_passkey.conf"))
        XCTAssertEqual(none, [])
        XCTAssertFalse(again.isSet("pin_min_length"))
    }

    func testValuesAreReadFromTheFile() throws {
        writeRaw(path("pam_passkey.conf"), """
            # site policy
            rp_id = example.org
            pin_min_length = 8   # longer PINs
            remote_sessions = allow
            append = no
            cancel_snooze = 2h
            append_skip_services = sudo, su
            registry_dir = /srv/passkeys
            """)
        let (policy, warnings) = try Policy.load(path: path("pam_passkey.conf"))
        XCTAssertEqual(warnings, [])
        XCTAssertEqual(policy.source, path("pam_passkey.conf"))
        XCTAssertEqual(policy[.rpID], "example.org")
        XCTAssertEqual(policy[.pinMinLength], 8)
        XCTAssertEqual(policy[.remoteSessions], .allow)
        XCTAssertEqual(policy[.append], false)
        XCTAssertEqual(policy[.cancelSnooze], 7200)
        XCTAssertEqual(policy[.appendSkipServices], ["sudo", "su"])
        XCTAssertEqual(policy[.registryDir], "/srv/passkeys")
        XCTAssertEqual(policy[.pinMaxAttempts], 5, "unset keys keep their default")
    }

    /// A file saved with Windows line endings reads the same, line numbers included.
    func testCRLFLineEndingsReadTheSame() throws {
        writeRaw(path("pam_passkey.conf"), "# site policy\r\nrp_id = example.org\r\npin_min_length = 8\r\npin_lenght = 4\r\n")
        let (policy, warnings) = try Policy.load(path: path("pam_passkey.conf"))
        XCTAssertEqual(policy[.rpID], "example.org")
        XCTAssertEqual(policy[.pinMinLength], 8)
        XCTAssertEqual(warnings.map(\.line), [4])
        XCTAssertEqual(warnings.first?.message, "unknown key \"pin_lenght\", ignored")
    }

    func testUnknownKeysAndBadValuesAreWarningsWithFileAndLineAndTheDefaultApplies() throws {
        let file = path("pam_passkey.conf")
        writeRaw(file, """
            pin_min_length = 8
            pin_lenght = 4
            pin_max_attempts = 0
            remote_sessions = sometimes
            registry_dir = var/lib/relative
            state_dir = /var/lib/../../etc
            debug = maybe
            rollout_percent = 150
            append_snooze_days = -1
            cancel_snooze = 3 weeks
            host_name = bad\u{1}name
            just some words
            pin_min_length = 9
            pin_min_length = 2
            """)
        let (policy, warnings) = try Policy.load(path: file)
        let expected: [(Int, String)] = [
            (2, "unknown key \"pin_lenght\""),
            (3, "pin_max_attempts = \"0\" is not a whole number from 1 to 20; using the default (5)"),
            (4, "remote_sessions = \"sometimes\" is not decline, allow"),
            (5, "registry_dir = \"var/lib/relative\" is not an absolute path"),
            (6, "state_dir = \"/var/lib/../../etc\" is not an absolute path"),
            (7, "debug = \"maybe\" is not yes or no; using the default (no)"),
            (8, "rollout_percent = \"150\" is not a whole number from 0 to 100"),
            (9, "append_snooze_days = \"-1\""),
            (10, "cancel_snooze = \"3 weeks\" is not a duration"),
            (11, "host_name = \"bad\\u{1}name\" is not text"),
            (12, "expected \"key = value\""),
            (13, "pin_min_length is also set on line 1"),
            (14, "pin_min_length = \"2\" is not a whole number from 4 to 63; using the earlier value"),
        ]
        XCTAssertEqual(warnings.map(\.line), expected.map(\.0), "\(warnings)")
        for (warning, (line, text)) in zip(warnings, expected) {
            XCTAssertEqual(warning.file, file)
            XCTAssertTrue(warning.description.hasPrefix("\(file):\(line): "), warning.description)
            XCTAssertTrue(warning.message.contains(text), "line \(line): \(warning.message) does not say \(text)")
        }
        XCTAssertEqual(policy[.pinMinLength], 9, "a bad value keeps the earlier good one")
        XCTAssertEqual(policy[.pinMaxAttempts], 5)
        XCTAssertEqual(policy[.remoteSessions], .decline)
        XCTAssertEqual(policy[.registryDir], "/var/lib/pam_passkey/registry")
        XCTAssertEqual(policy[.stateDir], "/var/lib/pam_passkey/host")
        XCTAssertEqual(policy[.debug], false)
        XCTAssertEqual(policy[.rolloutPercent], 100)
        XCTAssertEqual(policy[.hostName], "")
    }

    func testUnsafePolicyFilesAreErrors() throws {
        let file = path("pam_passkey.conf")
        writeRaw(file, "append = yes\n", mode: 0o664)
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.writableByOthers(path: file, mode: 0o664, kind: .regularFile)))
            XCTAssertTrue("\($0)".contains("chmod go-w \(file)"))
        }
        chmod(file, 0o644)
        chown(file, otherUID, otherUID)
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.wrongOwner(path: file, uid: otherUID, allowed: [0])))
        }
        chown(file, 0, 0)
        writeRaw(path("real.conf"), "append = yes\n")
        symlink(path("real.conf"), path("link.conf"))
        XCTAssertThrowsError(try Policy.load(path: path("link.conf"))) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.symbolicLink(path: path("link.conf"))))
        }
        chmod(root, 0o777)
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.writableByOthers(path: root, mode: 0o777, kind: .directory)))
        }
        XCTAssertThrowsError(try Policy.load(path: path("missing.conf")), "an unsafe directory is an error even for a missing file")
        chmod(root, 0o755)
        writeRaw(file, [UInt8](repeating: UInt8(ascii: "#"), count: Policy.maxFileBytes + 1))
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.tooLarge(path: file, size: Policy.maxFileBytes + 1, limit: Policy.maxFileBytes)))
        }
        mkdirRaw(path("dir.conf"))
        XCTAssertThrowsError(try Policy.load(path: path("dir.conf"))) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.wrongKind(path: path("dir.conf"), found: .directory, expected: .regularFile)))
        }
    }

    func testAFileThatIsNotTextIsAnError() {
        let file = path("pam_passkey.conf")
        writeRaw(file, Array("append = yes\n".utf8) + [0xff, 0xfe] + Array("\n".utf8))
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .notText(path: file, byteOffset: 13))
            XCTAssertTrue("\($0)".contains(file))
        }
    }
}
