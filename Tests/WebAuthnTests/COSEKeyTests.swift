import CBOREncoding
import XCTest
import Crypto
import WebAuthn

final class COSEKeyTests: XCTestCase {
    /// The credential public key of the specification's none.ES256 vector.
    let specKey = hex("""
        a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61
        225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220
        """)

    func testParsesAndReencodesTheSpecificationKeyByteForByte() throws {
        let key = try COSEKey(encoded: specKey)
        XCTAssertEqual(key.x, hex("afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61"))
        XCTAssertEqual(key.y, hex("930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220"))
        XCTAssertEqual(key.algorithm, -7)
        XCTAssertEqual(key.encoded, specKey)
        let publicKey = try key.publicKey()
        XCTAssertEqual(COSEKey(publicKey: publicKey), key)
    }

    func testRoundTripThroughOpenSSLKey() throws {
        let privateKey = try P256PrivateKey()
        let cose = COSEKey(publicKey: privateKey.publicKey)
        XCTAssertEqual(try COSEKey(encoded: cose.encoded), cose)
        XCTAssertEqual(try cose.publicKey(), privateKey.publicKey)
    }

    func testIgnoresOtherCOSEParameters() throws {
        let key = try COSEKey(encoded: specKey)
        var map = key.cbor.mapValue!
        map[2] = .byteString([1, 2, 3])  // kid
        XCTAssertEqual(try COSEKey(cbor: .map(map)), key)
    }

    func testRefusesOtherKindsOfKeyWithTheReason() throws {
        let key = try COSEKey(encoded: specKey)
        let x = CBOR.byteString(key.x), y = CBOR.byteString(key.y)
        let cases: [(CBOR, COSEKeyError)] = [
            ([1: 3, 3: -257, -1: .byteString([1]), -2: .byteString([1, 0, 1])], .unsupportedAlgorithm(-257)),  // RS256
            ([1: 1, 3: -8, -1: 6, -2: x], .unsupportedAlgorithm(-8)),  // Ed25519
            ([1: 2, 3: -35, -1: 2, -2: x, -3: y], .unsupportedAlgorithm(-35)),  // ES384
            ([1: 3, 3: -7, -1: 1, -2: x, -3: y], .unsupportedKeyType(3)),
            ([1: 2, 3: -7, -1: 2, -2: x, -3: y], .unsupportedCurve(2)),
            ([1: 2, -1: 1, -2: x, -3: y], .missingParameter("alg")),
            ([3: -7, -1: 1, -2: x, -3: y], .missingParameter("kty")),
            ([1: 2, 3: -7, -2: x, -3: y], .missingParameter("crv")),
            ([1: 2, 3: -7, -1: 1, -3: y], .missingParameter("x")),
            ([1: 2, 3: -7, -1: 1, -2: x], .missingParameter("y")),
            ([1: 2, 3: "ES256", -1: 1, -2: x, -3: y], .parameterWrongType("alg", expected: "integer")),
            ([1: 2, 3: -7, -1: 1, -2: .textString("x"), -3: y], .parameterWrongType("x", expected: "byte string")),
            ([1: 2, 3: -7, -1: 1, -2: .byteString(Array(key.x.dropFirst())), -3: y], .coordinateLength(name: "x", count: 31)),
            ([1: 2, 3: -7, -1: 1, -2: x, -3: .byteString(key.y + [0])], .coordinateLength(name: "y", count: 33)),
            ([1, 2, 3], .notAMap),
        ]
        for (cbor, expected) in cases {
            XCTAssertThrows(expected, "\(cbor)") { () throws(COSEKeyError) in try COSEKey(cbor: cbor) }
        }
        XCTAssertThrows(COSEKeyError.malformedCBOR(.trailingBytes(offset: specKey.count, count: 1))) { () throws(COSEKeyError) in
            try COSEKey(encoded: specKey + [0])
        }
        XCTAssertEqual(COSEKeyError.unsupportedAlgorithm(-257).description,
                       "credential public key algorithm -257 (RS256) is not supported; only ES256 (-7) is")
    }

    func testPointOffTheCurveIsRefusedWhenTheKeyIsUsed() throws {
        let key = try COSEKey(encoded: specKey)
        var y = key.y
        y[31] ^= 1
        let offCurve = try COSEKey(x: key.x, y: y)
        XCTAssertThrowsError(try offCurve.publicKey()) { error in
            guard case .invalidPoint = error as? COSEKeyError else { return XCTFail("\(error)") }
        }
    }
}
