import Foundation
import Identifiers
import IdentifierLiterals
import XCTest

/// A credential id is one type from the helper's reply to the registry file: one canonical
/// text per id, one shortening everywhere.
final class CredentialIDTests: XCTestCase {
    func testTextIsCanonicalUnpaddedBase64URLBothWays() throws {
        let id = CredentialID([0xFB, 0xFF, 0x00, 0x01])
        XCTAssertEqual(id.text, "-_8AAQ")
        XCTAssertEqual(try CredentialID(base64url: "-_8AAQ"), id)
        for bad in ["", "-_8AAQ==", "-_8AAR", "+/8AAQ", "-_8 AAQ", "A"] {
            XCTAssertThrowsError(try CredentialID(base64url: bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("invalid credential id \""), "\(error)")
            }
        }
    }

    func testLengthIsOneTo1023Bytes() throws {
        XCTAssertThrowsError(try CredentialID(checking: []))
        XCTAssertNoThrow(try CredentialID(checking: [UInt8](repeating: 1, count: 1023)))
        XCTAssertThrowsError(try CredentialID(checking: [UInt8](repeating: 1, count: 1024))) { error in
            XCTAssertTrue("\(error)".contains("1 to 1023 bytes"), "\(error)")
        }
    }

    func testOneShorteningForLogsListsAndTypedPrefixes() throws {
        let id = CredentialID([UInt8](repeating: 0xAB, count: 32))
        XCTAssertEqual(id.short, String(id.text.prefix(10)) + "…")
        XCTAssertEqual(CredentialID.shortened(id.text), id.short)
        XCTAssertEqual(CredentialID([1, 2, 3]).short, "AQID", "short ids are shown whole")
    }

    func testStoredAsItsTextAndAnIdThatIsNotCanonicalIsRefusedWhenRead() throws {
        struct Doc: Codable, Equatable { var id: CredentialID }
        let doc = Doc(id: CredentialID([1, 2, 3, 4, 5]))
        let json = try JSONEncoder().encode(doc)
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #"{"id":"AQIDBAU"}"#)
        XCTAssertEqual(try JSONDecoder().decode(Doc.self, from: json), doc)
        XCTAssertThrowsError(try JSONDecoder().decode(Doc.self, from: Data(#"{"id":"AQIDBAV"}"#.utf8)))
    }
}
