import XCTest
import Crypto

/// The Swift SHA-256 behind the host id gives exactly OpenSSL's answers.
final class PortableSHA256Tests: XCTestCase {
    func testFIPS180KnownAnswers() {
        XCTAssertEqual(PortableSHA256.hash([UInt8]()), hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        XCTAssertEqual(PortableSHA256.hash(Array("abc".utf8)), hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        XCTAssertEqual(PortableSHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
        XCTAssertEqual(PortableSHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       hex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"))
    }

    func testRFC4231Vectors() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            // A key longer than a block is hashed first.
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for c in cases { XCTAssertEqual(PortableSHA256.authenticate(key: c.key, data: c.data), hex(c.mac)) }
    }

    func testAgreesWithOpenSSLAtEveryLengthAroundTheBlockBoundaries() {
        for length in 0...300 {
            let data = SecureRandom.bytes(length)
            XCTAssertEqual(PortableSHA256.hash(data), LibcryptoReference.sha256(data), "length \(length)")
            let key = SecureRandom.bytes(length % 97)
            XCTAssertEqual(PortableSHA256.authenticate(key: key, data: data), HMACSHA256.authenticate(key: key, data: data),
                           "length \(length)")
        }
    }
}
