import CBOREncoding
import XCTest
import WebAuthn

final class CBORTests: XCTestCase {
    /// RFC 8949 Appendix A examples that fall inside the supported subset: each decodes to
    /// the value and encodes back to the same bytes.
    func testRFC8949AppendixAExamplesRoundTrip() throws {
        let examples: [(String, CBOR)] = [
            ("00", 0), ("01", 1), ("0a", 10), ("17", 23), ("1818", 24), ("1819", 25), ("1864", 100),
            ("1903e8", 1000), ("1a000f4240", 1_000_000), ("1b000000e8d4a51000", 1_000_000_000_000),
            ("1bffffffffffffffff", .unsigned(UInt64.max)), ("3bffffffffffffffff", .negative(UInt64.max)),
            ("20", -1), ("29", -10), ("3863", -100), ("3903e7", -1000),
            ("f4", false), ("f5", true), ("f6", .null),
            ("40", .byteString([])), ("4401020304", .byteString([1, 2, 3, 4])),
            ("60", ""), ("6161", "a"), ("6449455446", "IETF"), ("62225c", "\"\\"), ("62c3bc", "\u{fc}"),
            ("63e6b0b4", "\u{6c34}"), ("64f0908591", "\u{10151}"),
            ("80", []), ("83010203", [1, 2, 3]), ("8301820203820405", [1, [2, 3], [4, 5]]),
            ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", .array((1...25).map { .int($0) })),
            ("a0", [:]), ("a201020304", [1: 2, 3: 4]), ("a26161016162820203", ["a": 1, "b": [2, 3]]),
            ("826161a161626163", ["a", ["b": "c"]]),
            ("a56161614161626142616361436164614461656145", ["a": "A", "b": "B", "c": "C", "d": "D", "e": "E"]),
        ]
        for (encoding, value) in examples {
            XCTAssertEqual(try CBOR.decode(hex(encoding)), value, encoding)
            XCTAssertEqual(value.encoded(), hex(encoding), encoding)
        }
    }

    func testMapKeysAreWrittenInCTAP2CanonicalOrder() {
        let map: CBOR = ["b": 1, "a": 2, 10: 3, -1: 4, "aa": 5, 100: 6]
        // 0a, 20 (one byte) < 1864, 6161, 6162 (two bytes, bytewise) < 626161 (three bytes)
        XCTAssertEqual(map.encoded(), hex("a6 0a03 2004 186406 616102 616201 62616105"))
    }

    func testAccessors() throws {
        let item = try CBOR.decode(hex("a363666d74667061636b6564636e756d236362696750 01020304050607080910111213141516"))
        XCTAssertEqual(item["fmt"]?.textValue, "packed")
        XCTAssertEqual(item[.text("num")]?.intValue, -4)
        XCTAssertEqual(item["big"]?.bytesValue?.count, 16)
        XCTAssertNil(item["missing"])
        XCTAssertNil(CBOR.int(5)["x"])
        XCTAssertEqual(CBOR.int(Int64.min).intValue, Int64.min)
        XCTAssertEqual(CBOR.int(Int64.min).encoded(), hex("3b7fffffffffffffff"))
        XCTAssertNil(CBOR.unsigned(UInt64.max).intValue)
        XCTAssertNil(CBOR.negative(UInt64.max).intValue)
    }

    func testPrefixDecodingReportsTheLengthAndLeavesTheRest() throws {
        let (value, length) = try CBOR.decodePrefix(hex("a2010203f5 ffff"))
        XCTAssertEqual(value, [1: 2, 3: true])
        XCTAssertEqual(length, 5)
        XCTAssertThrows(CBORError.trailingBytes(offset: 5, count: 2)) { () throws(CBORError) in try CBOR.decode(hex("a2010203f5ffff")) }
    }

    func testRefusals() {
        let cases: [(String, CBORError)] = [
            ("", .truncated(offset: 0)),
            ("19 01", .truncated(offset: 0)),
            ("0001", .trailingBytes(offset: 1, count: 1)),
            ("45 0102", .lengthBeyondInput(offset: 0, declared: 5)),
            ("7a ffffffff 00", .lengthBeyondInput(offset: 0, declared: 0xFFFF_FFFF)),
            // A count of four billion elements is refused before anything is allocated.
            ("9a ffffffff 00", .lengthBeyondInput(offset: 0, declared: 0xFFFF_FFFF)),
            ("bb 7fffffffffffffff 00", .lengthBeyondInput(offset: 0, declared: 0x7FFF_FFFF_FFFF_FFFF)),
            ("82 01", .lengthBeyondInput(offset: 0, declared: 2)),
            ("82 01 19 01", .truncated(offset: 2)),
            ("5f 41 00 ff", .indefiniteLength(offset: 0)),
            ("7f ff", .indefiniteLength(offset: 0)),
            ("9f ff", .indefiniteLength(offset: 0)),
            ("bf ff", .indefiniteLength(offset: 0)),
            ("a2 01 02 01 03", .duplicateMapKey(offset: 3)),
            ("a2 6161 01 6161 02", .duplicateMapKey(offset: 4)),
            ("18 17", .nonMinimalEncoding(offset: 0)),
            ("19 00ff", .nonMinimalEncoding(offset: 0)),
            ("1a 0000ffff", .nonMinimalEncoding(offset: 0)),
            ("1b 00000000ffffffff", .nonMinimalEncoding(offset: 0)),
            ("38 00", .nonMinimalEncoding(offset: 0)),
            ("58 01 00", .nonMinimalEncoding(offset: 0)),
            ("62 c328", .invalidUTF8(offset: 0)),
            ("63 eda080", .invalidUTF8(offset: 0)),  // a UTF-16 surrogate written as UTF-8
            ("f9 3c00", .unsupported(.float, offset: 0)),
            ("fa 47c35000", .unsupported(.float, offset: 0)),
            ("fb 3ff199999999999a", .unsupported(.float, offset: 0)),
            ("c0 74 323031332d30332d32315432303a30343a30305a", .unsupported(.tag, offset: 0)),
            ("f7", .unsupported(.undefined, offset: 0)),
            ("f0", .unsupported(.simpleValue, offset: 0)),
            ("f8 ff", .unsupported(.simpleValue, offset: 0)),
            ("ff", .unsupported(.breakCode, offset: 0)),
            ("1c", .unsupported(.reservedAdditionalInfo, offset: 0)),
            ("1f", .unsupported(.reservedAdditionalInfo, offset: 0)),
            ("81 fc", .unsupported(.reservedAdditionalInfo, offset: 1)),
        ]
        for (input, expected) in cases {
            XCTAssertThrows(expected, input) { () throws(CBORError) in try CBOR.decode(hex(input)) }
        }
    }

    func testNestingLimit() throws {
        let deepest = [UInt8](repeating: 0x81, count: CBOR.maximumNesting - 1) + [0x00]
        XCTAssertNoThrow(try CBOR.decode(deepest))
        let tooDeep = [UInt8](repeating: 0x81, count: CBOR.maximumNesting) + [0x00]
        XCTAssertThrows(CBORError.nestingTooDeep(offset: CBOR.maximumNesting, limit: CBOR.maximumNesting)) { () throws(CBORError) in
            try CBOR.decode(tooDeep)
        }
        // Maps count too: sixteen maps, each the value of the one before; the last one's key
        // sits at the seventeenth level.
        let mapsTooDeep = Array([[UInt8]](repeating: [0xA1, 0x00], count: CBOR.maximumNesting).joined()) + [0x00]
        XCTAssertThrows(CBORError.nestingTooDeep(offset: 2 * CBOR.maximumNesting - 1, limit: CBOR.maximumNesting)) { () throws(CBORError) in
            try CBOR.decode(mapsTooDeep)
        }
    }

    func testErrorsSayWhereAndWhat() {
        XCTAssertEqual(CBORError.duplicateMapKey(offset: 7).description, "CBOR map key at byte 7 repeats an earlier key")
        XCTAssertEqual(CBORError.unsupported(.float, offset: 3).description, "CBOR floating-point value at byte 3 is not supported")
    }
}
