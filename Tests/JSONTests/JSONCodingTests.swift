import Foundation
import JSON
import XCTest

private struct Inner: Codable, Equatable {
    var name: String
    var count: UInt32
}

private enum Mood: String, Codable { case calm, cross }

private struct Outer: Codable, Equatable {
    var version: Int
    var zeta: Bool
    var alpha: [Inner]
    var note: String?
    var mood: Mood
    var big: Int64
    var ratio: Double
    var tags: [String: Int]
}

private let sample = Outer(version: 1, zeta: true, alpha: [Inner(name: "a\"b\\c\n\u{1}é😀", count: 7)], note: nil,
                           mood: .cross, big: Int64.min, ratio: 0.25, tags: ["b": 2, "a": 1])

final class JSONCodingTests: XCTestCase {
    func testDocumentsAreWrittenWithSortedKeysNoNullsAndEscapedStrings() throws {
        let text = try JSONCoding.encode(sample).render()
        XCTAssertEqual(text, #"""
            {
              "alpha": [
                {
                  "count": 7,
                  "name": "a\"b\\c\n\u0001é😀"
                }
              ],
              "big": -9223372036854775808,
              "mood": "cross",
              "ratio": 0.25,
              "tags": {
                "a": 1,
                "b": 2
              },
              "version": 1,
              "zeta": true
            }
            """#)
    }

    func testWhatIsWrittenReadsBackTheSame() throws {
        let text = try JSONCoding.encode(sample).render()
        let parsed = try JSONValue.parse(Array(text.utf8))
        XCTAssertEqual(try JSONCoding.decode(Outer.self, from: parsed), sample)
        var withNote = sample
        withNote.note = "present"
        XCTAssertEqual(try JSONCoding.decode(Outer.self, from: JSONValue.parse(Array(JSONCoding.encode(withNote).render().utf8))), withNote)
    }

    func testUnknownMembersAreIgnoredAndMissingOptionalsAreNil() throws {
        let json = #"{"version": 2, "zeta": false, "alpha": [], "mood": "calm", "big": 5, "ratio": 1e3, "tags": {}, "added_later": [1, {"x": null}]}"#
        let outer = try JSONCoding.decode(Outer.self, from: JSONValue.parse(Array(json.utf8)))
        XCTAssertEqual(outer, Outer(version: 2, zeta: false, alpha: [], note: nil, mood: .calm, big: 5, ratio: 1000, tags: [:]))
    }

    /// Each wrong input names where it is wrong and what was expected.
    func testWrongTypesMissingMembersAndOutOfRangeNumbersAreRefusedWithTheirPath() throws {
        let base = #"{"version": 1, "zeta": true, "alpha": [{"name": "x", "count": 1}], "mood": "calm", "big": 5, "ratio": 0.5, "tags": {}}"#
        func decodeError(_ from: String, _ to: String) -> DecodingError? {
            let json = base.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(json, base, "the replacement \(from) did not apply")
            do {
                _ = try JSONCoding.decode(Outer.self, from: JSONValue.parse(Array(json.utf8)))
                return nil
            } catch let e as DecodingError {
                return e
            } catch {
                XCTFail("\(error)")
                return nil
            }
        }
        func path(_ c: DecodingError.Context) -> String { c.codingPath.map(\.stringValue).joined(separator: ".") }

        guard case .typeMismatch(_, let c)? = decodeError(#""zeta": true"#, #""zeta": "yes""#) else { return XCTFail() }
        XCTAssertEqual(path(c), "zeta")
        XCTAssertEqual(c.debugDescription, "expected a boolean, found a string")

        guard case .keyNotFound(let key, let c2)? = decodeError(#""name": "x", "#, "") else { return XCTFail() }
        XCTAssertEqual(key.stringValue, "name")
        XCTAssertEqual(path(c2), "alpha.0")

        // UInt32: negative, too large, a fraction, an exponent are not whole numbers that fit.
        for bad in ["-1", "4294967296", "1.0", "1e2"] {
            guard case .dataCorrupted(let c3)? = decodeError(#""count": 1"#, #""count": \#(bad)"#) else { return XCTFail(bad) }
            XCTAssertEqual(path(c3), "alpha.0.count", bad)
        }
        guard case .typeMismatch(_, let c4)? = decodeError(#""alpha": [{"name": "x", "count": 1}]"#, #""alpha": {}"#) else { return XCTFail() }
        XCTAssertEqual(c4.debugDescription, "expected an array, found an object")
        guard case .dataCorrupted? = decodeError(#""mood": "calm""#, #""mood": "happy""#) else { return XCTFail() }
        guard case .typeMismatch(_, let c5)? = decodeError(#""big": 5"#, #""big": null"#) else { return XCTFail() }
        XCTAssertEqual(path(c5), "big")
        XCTAssertEqual(c5.debugDescription, "expected a number (Int64), found null")
    }

    func testNonFiniteNumbersAreNotWritten() {
        var outer = sample
        outer.ratio = .infinity
        XCTAssertThrowsError(try JSONCoding.encode(outer)) { XCTAssertTrue($0 is EncodingError, "\($0)") }
        outer.ratio = .nan
        XCTAssertThrowsError(try JSONCoding.encode(outer))
    }

    func testTheParserRefusesWhatALenientOneWouldGuessAt() {
        let refused: [(String, JSONError)] = [
            (#"{"a": 1, "a": 2}"#, .duplicateMember("a")),
            (#"{"a": 1,}"#, .unexpectedByte(offset: 8)),
            (#"[01]"#, .unexpectedByte(offset: 2)),
            (#"{"a": "\ud800"}"#, .unpairedSurrogate(offset: 7)),
            ("{\"a\": \"\u{1}\"}", .controlCharacterInString(offset: 7)),
            (#"{"a": 1} x"#, .trailingContent(offset: 9)),
            (String(repeating: "[", count: 17) + String(repeating: "]", count: 17), .nestingTooDeep(limit: 16)),
            (#"{"a": tru}"#, .unexpectedByte(offset: 9)),
        ]
        for (text, error) in refused {
            XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8)), text) { XCTAssertEqual($0 as? JSONError, error, text) }
        }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0x22])) { XCTAssertEqual($0 as? JSONError, .invalidUTF8) }
        // The deepest nesting allowed still parses.
        XCTAssertNoThrow(try JSONValue.parse(Array((String(repeating: "[", count: 16) + String(repeating: "]", count: 16)).utf8)))
    }

    func testMembersKeepTheirOrderAndAreFoundByName() throws {
        let value = try JSONValue.parse(Array(#"{"z": 1, "a": [true, null], "m": "\u00e9"}"#.utf8))
        guard case .object(let members) = value else { return XCTFail() }
        XCTAssertEqual(members.map(\.0), ["z", "a", "m"])
        XCTAssertEqual(value[member: "a"], .array([.bool(true), .null]))
        XCTAssertEqual(value[member: "m"], .string("é"))
        XCTAssertNil(value[member: "missing"])
        XCTAssertNil(JSONValue.array([])[member: "a"])
    }
}
