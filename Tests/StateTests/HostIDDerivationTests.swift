import Identifiers
import Crypto
@testable import HostState
@testable import Storage
import XCTest

final class HostIDDerivationTests: TempDirTestCase {
    /// The id is computed without OpenSSL now; it must stay what every installed host has
    /// already written to its registry records: OpenSSL's HMAC-SHA-256, first 16 bytes, hex.
    func testTheHostIDIsOpenSSLsHMACOfTheMachineID() {
        for machineID in ["0123456789abcdef0123456789abcdef", "d4b2015b9f57cb1b378fc427095d4352", "x"] {
            let bytes = Array(machineID.utf8)
            let expected = Base16.encode(HMACSHA256.authenticate(key: HostIdentity.applicationKey, data: bytes).prefix(16))
            XCTAssertEqual(HostIdentity.hostID(machineID: bytes), expected)
        }
    }

    /// The id of the same machine id is not derived again, a changed one is, and the file's
    /// checks run on every load.
    func testAChangedMachineIDGivesItsOwnIDAndAnUnsafeFileIsStillRefused() throws {
        let file = path("machine-id")
        writeRaw(file, "0123456789abcdef0123456789abcdef\n", mode: 0o444)
        let first = try HostIdentity.load(hostIDFile: file, configuredName: "a")
        XCTAssertEqual(try HostIdentity.load(hostIDFile: file, configuredName: "a"), first)
        writeRaw(file, "fedcba9876543210fedcba9876543210\n", mode: 0o444)
        let second = try HostIdentity.load(hostIDFile: file, configuredName: "a")
        XCTAssertNotEqual(second.hostID, first.hostID)
        XCTAssertEqual(second.hostID, HostIdentity.hostID(machineID: Array("fedcba9876543210fedcba9876543210".utf8)))
        chmod(file, 0o666)
        XCTAssertThrowsError(try HostIdentity.load(hostIDFile: file, configuredName: "a")) {
            XCTAssertEqual($0 as? HostIdentityError, .unsafe(.writableByOthers(path: file, mode: 0o666, kind: .regularFile)))
        }
    }

    func testPathsSplitAsBefore() throws {
        XCTAssertEqual(try SecureDirectory.components("/"), [])
        XCTAssertEqual(try SecureDirectory.components("/etc//security/./pam_passkey.conf/"), ["etc", "security", "pam_passkey.conf"])
        XCTAssertEqual(try SecureDirectory.components("/a/.b/..c/c.."), ["a", ".b", "..c", "c.."])
        for bad in ["", "etc/x", "/etc/../x", "/..", "/a/..", "/a\u{0}b"] {
            XCTAssertThrowsError(try SecureDirectory.components(bad), bad) { XCTAssertEqual($0 as? StorageError, .invalidPath(path: bad)) }
        }
    }
}
