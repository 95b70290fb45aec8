import Crypto
import HostState
import XCTest

final class HostIDDerivationTests: XCTestCase {
    /// The id is computed without OpenSSL now; it must stay what every installed host has
    /// already written to its registry records: OpenSSL's HMAC-SHA-256, first 16 bytes, hex.
    func testTheHostIDIsOpenSSLsHMACOfTheMachineID() {
        for machineID in ["0123456789abcdef0123456789abcdef", "d4b2015b9f57cb1b378fc427095d4352", "x"] {
            let bytes = Array(machineID.utf8)
            let expected = Base16.encode(HMACSHA256.authenticate(key: HostIdentity.applicationKey, data: bytes).prefix(16))
            XCTAssertEqual(HostIdentity.hostID(machineID: bytes), expected)
        }
    }
}
