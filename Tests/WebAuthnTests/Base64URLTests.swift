import Foundation
import XCTest
import WebAuthn
import Identifiers

final class Base64URLTests: XCTestCase {
    /// RFC 4648 §10 test vectors, in the URL alphabet without padding.
    func testRFC4648Vectors() {
        let vectors = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64URL.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64URL.decode(encoded), Array(plain.utf8))
        }
    }

    func testURLAlphabetAndAgreementWithFoundation() {
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF, 0xBF]), "-_-_")
        XCTAssertEqual(Base64URL.decode("-_-_"), [0xFB, 0xFF, 0xBF])
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            XCTAssertEqual(Base64URL.encode(bytes), foundation)
            XCTAssertEqual(Base64URL.decode(foundation), bytes)
        }
    }

    func testRefusesEverySecondSpelling() {
        XCTAssertNil(Base64URL.decode("Zg=="), "padding")
        XCTAssertNil(Base64URL.decode("Zm9v+A"), "standard alphabet")
        XCTAssertNil(Base64URL.decode("Zm9v/A"), "standard alphabet")
        XCTAssertNil(Base64URL.decode("Zm9 v"), "whitespace")
        XCTAssertNil(Base64URL.decode("Z"), "impossible length")
        XCTAssertNil(Base64URL.decode("Zh"), "non-zero unused bits (\"Zg\" is the one spelling of \"f\")")
        XCTAssertNil(Base64URL.decode("Zm9"), "non-zero unused bits")
        XCTAssertNil(Base64URL.decode("Zm9vé"), "non-ASCII")
    }
}
