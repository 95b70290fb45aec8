import Identifiers
import XCTest
@testable import Policy
@testable import Storage

/// A policy file read again with the same bytes is not parsed again; anything else is, and
/// the file's checks run on every read whatever was parsed before.
final class PolicyMemoTests: TempDirTestCase {
    func testTheSameBytesGiveTheSamePolicyAndWarnings() throws {
        let file = path("pam_passkey.conf")
        writeRaw(file, "pin_min_length = 8\nno_such_key = 1\n")
        let (first, firstWarnings) = try Policy.load(path: file)
        let (second, secondWarnings) = try Policy.load(path: file)
        XCTAssertEqual(first[.pinMinLength], 8)
        XCTAssertEqual(second[.pinMinLength], 8)
        XCTAssertEqual(firstWarnings, secondWarnings)
        XCTAssertEqual(secondWarnings.count, 1, "the warnings come back too, so each call still logs them")
    }

    func testAChangedFileIsParsedAgainEvenAtTheSameSize() throws {
        let file = path("pam_passkey.conf")
        writeRaw(file, "pin_min_length = 8\n")
        XCTAssertEqual(try Policy.load(path: file).0[.pinMinLength], 8)
        writeRaw(file, "pin_min_length = 9\n")
        XCTAssertEqual(try Policy.load(path: file).0[.pinMinLength], 9)
        // The same bytes under another path are that file's policy, with its name in warnings.
        writeRaw(path("other.conf"), "pin_min_length = 9\nbogus = 1\n")
        writeRaw(file, "pin_min_length = 9\nbogus = 1\n")
        _ = try Policy.load(path: file)
        XCTAssertEqual(try Policy.load(path: path("other.conf")).1.first?.file, path("other.conf"))
    }

    func testAFileParsedBeforeIsStillRefusedWhenItBecomesUnsafe() throws {
        let file = path("pam_passkey.conf")
        writeRaw(file, "append = yes\n")
        XCTAssertNoThrow(try Policy.load(path: file))
        chmod(file, 0o666)
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.writableByOthers(path: file, mode: 0o666, kind: .regularFile)))
        }
        chmod(file, 0o644)
        chown(file, otherUID, otherUID)
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.wrongOwner(path: file, uid: otherUID, allowed: [0])))
        }
        chown(file, 0, 0)
        unlink(file)
        symlink(path("real.conf"), file)
        writeRaw(path("real.conf"), "append = yes\n")
        XCTAssertThrowsError(try Policy.load(path: file)) {
            XCTAssertEqual($0 as? PolicyLoadError, .unsafe(.symbolicLink(path: file)))
        }
    }

    /// A file untouched for a few seconds is checked on every load but read and parsed once;
    /// changed in place (same size) or made unsafe, it is read again or refused.
    func testASettledFileIsCheckedEveryTimeAndReadAgainOnlyWhenItChanged() throws {
        let file = path("settled.conf")
        writeRaw(file, "pin_min_length = 8\n")
        sleep(UInt32(FileIdentity.settleSeconds) + 1)
        XCTAssertEqual(try Policy.load(path: file).0[.pinMinLength], 8)
        XCTAssertEqual(Policy.lastParsed.identity(path: file)?.isSettled, true)
        XCTAssertEqual(try Policy.load(path: file).0[.pinMinLength], 8)
        writeRaw(file, "pin_min_length = 9\n")
        XCTAssertEqual(try Policy.load(path: file).0[.pinMinLength], 9)
        XCTAssertEqual(Policy.lastParsed.identity(path: file)?.isSettled, false)
        chmod(file, 0o666)
        XCTAssertThrowsError(try Policy.load(path: file))
    }
}
