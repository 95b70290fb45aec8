import XCTest
@testable import Crypto

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.filter { !$0.isWhitespace }.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

final class CryptoTests: XCTestCase {
    /// libcrypto is dlopened by one absolute path (Sources/CLibcrypto/shim.h), and loads here.
    func testLibcryptoIsOpenedByAbsolutePath() {
        XCTAssertTrue(Libcrypto.path.hasPrefix("/"), Libcrypto.path)
        XCTAssertTrue(Libcrypto.path.hasSuffix("/libcrypto.so.3"), Libcrypto.path)
        XCTAssertNil(Libcrypto.problem)
    }

    /// The comparisons that replaced CRYPTO_memcmp: equal only when every byte is.
    func testConstantTimeComparisons() {
        XCTAssertTrue(constantTimeEquals([], []))
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([0, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2]))
        let a = SecretBytes([9, 8, 7, 6])
        XCTAssertTrue(a.isEqual(to: SecretBytes([9, 8, 7, 6])))
        XCTAssertFalse(a.isEqual(to: SecretBytes([9, 8, 7, 5])))
        XCTAssertFalse(a.isEqual(to: SecretBytes([9, 8, 7])))
        XCTAssertTrue(SecretBytes(count: 0).isEqual(to: SecretBytes(count: 0)))
        var bytes: [UInt8] = [1, 2, 3]
        wipe(&bytes)
        XCTAssertTrue(bytes.isEmpty)
    }

    func testSecureRandomFillsFromTheKernel() {
        XCTAssertEqual(SecureRandom.bytes(0), [])
        let a = SecureRandom.bytes(64), b = SecureRandom.bytes(64)
        XCTAssertEqual(a.count, 64)
        XCTAssertNotEqual(a, b)
    }

    func testSHA256KnownAnswer() {
        XCTAssertEqual(SHA256.hash(Array("abc".utf8)), hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    }

    func testHMACKnownAnswerRFC4231Case2() {
        XCTAssertEqual(HMACSHA256.authenticate(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8)),
                       hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
    }

    func testScryptKnownAnswerRFC7914() throws {
        let key = try Scrypt.deriveKey(password: SecretBytes(Array("password".utf8)), salt: Array("NaCl".utf8),
                                       cost: .init(log2N: 10, r: 8, p: 16), byteCount: 64)
        XCTAssertEqual(key.copyBytes(), hex("""
            fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640
            """))
    }

    func testSignVerifyRoundTripAndRejection() throws {
        let key = try P256PrivateKey()
        let msg = Array("hello".utf8)
        let sig = try key.signature(for: msg)
        XCTAssertTrue(key.publicKey.isValidSignature(sig, for: msg))
        XCTAssertFalse(key.publicKey.isValidSignature(sig, for: Array("hellO".utf8)))
        let other = try P256PrivateKey()
        XCTAssertFalse(other.publicKey.isValidSignature(sig, for: msg))
        // The key survives its DER round trip.
        let restored = try P256PrivateKey(derRepresentation: key.derRepresentation)
        XCTAssertEqual(restored.publicKey, key.publicKey)
        XCTAssertTrue(key.publicKey.isValidSignature(try restored.signature(for: msg), for: msg))
        // And the public key its point round trip.
        XCTAssertEqual(try P256PublicKey(x: key.publicKey.x, y: key.publicKey.y), key.publicKey)
        XCTAssertTrue(key.publicKey.pemRepresentation.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
    }

    func testPointNotOnCurveIsRefused() throws {
        let key = try P256PrivateKey()
        var y = key.publicKey.y
        y[31] ^= 1
        XCTAssertThrowsError(try P256PublicKey(x: key.publicKey.x, y: y))
        XCTAssertThrowsError(try P256PublicKey(uncompressedPoint: [0x02] + key.publicKey.x))
    }

    func testDERStrictness() throws {
        let key = try P256PrivateKey()
        let sig = try key.signature(for: [1, 2, 3])
        let der = sig.derRepresentation
        XCTAssertThrowsError(try ECDSASignature(derRepresentation: der + [0])) // trailing
        XCTAssertThrowsError(try ECDSASignature(derRepresentation: Array(der.dropLast()))) // truncated
        // r = 0
        XCTAssertEqual(problem([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]),
                       .rOutOfRange)
        // s = n
        let n = ECDSASignature.order
        let sEqualsN: [UInt8] = [0x30, UInt8(3 + 2 + 33), 0x02, 0x01, 0x01, 0x02, 0x21, 0x00] + n
        XCTAssertEqual(problem(sEqualsN), .sOutOfRange)
        // negative integer
        XCTAssertThrowsError(try ECDSASignature(derRepresentation: [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]))
        // superfluous leading zero
        XCTAssertThrowsError(try ECDSASignature(derRepresentation: [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]))
        // raw round trip
        XCTAssertEqual(try ECDSASignature(rawRepresentation: sig.rawRepresentation), sig)
    }

    func testAESGCMRoundTripAndTamper() throws {
        let key = SecretBytes(SecureRandom.bytes(32))
        let nonce = SecureRandom.bytes(12)
        let sealed = try AESGCM.seal(SecretBytes(Array("secret".utf8)), key: key, nonce: nonce, authenticating: [9])
        XCTAssertEqual(try AESGCM.open(sealed, key: key, nonce: nonce, authenticating: [9]).copyBytes(), Array("secret".utf8))
        var bad = sealed; bad[0] ^= 1
        XCTAssertThrowsError(try AESGCM.open(bad, key: key, nonce: nonce, authenticating: [9]))
        XCTAssertThrowsError(try AESGCM.open(sealed, key: key, nonce: nonce, authenticating: [8]))
        XCTAssertThrowsError(try AESGCM.open(sealed, key: SecretBytes(SecureRandom.bytes(32)), nonce: nonce, authenticating: [9]))
        let empty = try AESGCM.seal(SecretBytes(count: 0), key: key, nonce: nonce, authenticating: [])
        XCTAssertEqual(try AESGCM.open(empty, key: key, nonce: nonce, authenticating: []).count, 0)
    }
}

func problem(_ der: [UInt8]) -> ECDSASignature.Problem? {
    do { _ = try ECDSASignature(derRepresentation: der); return nil } catch { return error }
}
