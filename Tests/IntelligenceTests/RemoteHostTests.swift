import Identifiers
import HostState
import Intelligence
import Registry
import XCTest

final class RemoteHostTests: XCTestCase {
    func testLocal() {
        for rhost in [nil, "", "localhost", "LocalHost", "ip6.localhost", "127.0.0.1", "127.8.9.10", "127.255.255.255",
                      "::1", "0:0:0:0:0:0:0:1", "0000::0001", "[::1]", "::1%lo", "::ffff:127.0.0.1", "::FFFF:7f00:1",
                      "host-b", "HOST-B"] as [String?] {
            XCTAssertFalse(isRemote(rhost: rhost, localHostName: "host-b"), "\(rhost ?? "nil") should be local")
        }
    }

    func testRemote() {
        for rhost in ["10.0.0.5", "128.0.0.1", "126.255.255.255", "1.127.0.0", "0.0.0.0", "::", "::2", "fe80::1",
                      "2001:db8::1", "::ffff:10.0.0.1", "::ffff:128.0.0.1", "host-a", "localhost.example.com",
                      "mylocalhost", "127.0.0.1.evil.example", "127.1", "1::1:0:0:0:0:1"] {
            XCTAssertTrue(isRemote(rhost: rhost, localHostName: "host-b"), "\(rhost) should be remote")
        }
    }

    /// An empty host name (not configured) must not make "" or anything else local by accident.
    func testEmptyLocalHostName() {
        XCTAssertTrue(isRemote(rhost: "host-b", localHostName: ""))
        XCTAssertFalse(isRemote(rhost: "127.0.0.1", localHostName: ""))
    }

    func testMalformedAddressesAreRemote() {
        for rhost in ["::1::", "1:2:3:4:5:6:7:8:9", "12345::1", "127.0.0.256", "127.0.0", "::ffff:127.0.0.1.1", ":::1"] {
            XCTAssertTrue(isRemote(rhost: rhost, localHostName: "host-b"), rhost)
        }
    }
}
