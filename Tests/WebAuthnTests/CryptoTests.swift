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
    }

    /// The Swift verifier (P256Arithmetic) against libcrypto's: for keys and signatures made
    /// by libcrypto, the valid signature and every kind of alteration get the same answer from
    /// both, and the valid one is accepted.
    func testSwiftVerifierAgreesWithLibcrypto() throws {
        var accepted = 0, refused = 0
        for round in 0..<150 {
            let key = try P256PrivateKey()
            let message = SecureRandom.bytes(round % 70)
            let signature = try key.signature(for: message)
            let point = key.publicKey.uncompressedPoint
            func agree(_ sig: ECDSASignature, _ msg: [UInt8], _ why: String) {
                let swift = key.publicKey.isValidSignature(sig, for: msg)
                let openssl = LibcryptoReference.verifyECDSA(uncompressedPoint: point, signatureDER: sig.derRepresentation, message: msg)
                XCTAssertEqual(swift, openssl, "\(why): key \(point), signature \(sig.derRepresentation), message \(msg)")
                if swift { accepted += 1 } else { refused += 1 }
            }
            XCTAssertTrue(key.publicKey.isValidSignature(signature, for: message))
            agree(signature, message, "valid")
            // One bit of the message, of r, of s.
            var altered = message + [0]
            altered[Int.random(in: 0..<altered.count)] ^= UInt8(1) << UInt8.random(in: 0..<8)
            agree(signature, altered, "message altered")
            for part in 0..<2 {
                var raw = signature.rawRepresentation
                raw[part * 32 + Int.random(in: 0..<32)] ^= UInt8(1) << UInt8.random(in: 0..<8)
                if let sig = try? ECDSASignature(rawRepresentation: raw) { agree(sig, message, "r or s altered") }
            }
            // s replaced by n − s: also a valid signature (ECDSA's malleability), accepted by both.
            let negated = try ECDSASignature(rawRepresentation: signature.r + subtract(ECDSASignature.order, signature.s))
            agree(negated, message, "s negated")
            // Another key's signature on the same message.
            agree(try P256PrivateKey().signature(for: message), message, "another key")
            // r and s swapped, r and s equal.
            if let sig = try? ECDSASignature(rawRepresentation: signature.s + signature.r) { agree(sig, message, "swapped") }
            if let sig = try? ECDSASignature(rawRepresentation: signature.r + signature.r) { agree(sig, message, "s = r") }
        }
        XCTAssertEqual(accepted, 300, "the valid and the negated signatures, and no other")
        XCTAssertGreaterThan(refused, 700)
    }

    /// Edge values of r and s that are in range: 1 and n − 1 (the extremes ECDSASignature lets
    /// through), refused by both verifiers for a real key.
    func testSwiftVerifierRefusesExtremeScalars() throws {
        let key = try P256PrivateKey()
        let one = [UInt8](repeating: 0, count: 31) + [1]
        let nMinusOne = subtract(ECDSASignature.order, one)
        for (r, s) in [(one, one), (one, nMinusOne), (nMinusOne, one), (nMinusOne, nMinusOne)] {
            let sig = try ECDSASignature(rawRepresentation: r + s)
            XCTAssertFalse(key.publicKey.isValidSignature(sig, for: [1, 2, 3]))
            XCTAssertFalse(LibcryptoReference.verifyECDSA(uncompressedPoint: key.publicKey.uncompressedPoint,
                                                 signatureDER: sig.derRepresentation, message: [1, 2, 3]))
        }
    }

    /// The curve's own constants: the generator is on the curve, n·G is the point at infinity
    /// ((n − 1)·G + G), and the Montgomery constants derived for p and n invert the modulus.
    func testP256ConstantsAndFieldArithmetic() {
        typealias A = P256Arithmetic
        XCTAssertTrue(A.isOnCurve(x: A.gx, y: A.gy))
        XCTAssertFalse(A.isOnCurve(x: A.gx, y: A.gx))
        XCTAssertFalse(A.isOnCurve(x: A.p, y: A.gy), "a coordinate equal to p")
        for field in [A.fieldP, A.fieldN] {
            XCTAssertEqual(field.m.w0 &* (0 &- field.mPrime), 1)
            let x = A.Limbs(0x1234_5678_9ABC_DEF0, 42, 7, 0x0FED_CBA9_8765_4321)
            XCTAssertEqual(field.leave(field.enter(x)), x)
            XCTAssertEqual(field.leave(field.multiply(field.enter(x), field.inverse(field.enter(x)))), A.Limbs(1, 0, 0, 0))
            let mMinusOne = field.m.subtracting(A.Limbs(1, 0, 0, 0)).0
            // (m − 1)² = 1 (mod m), and (m − 1) + 1 = 0.
            XCTAssertEqual(field.leave(field.multiply(field.enter(mMinusOne), field.enter(mMinusOne))), A.Limbs(1, 0, 0, 0))
            XCTAssertTrue(field.add(field.enter(mMinusOne), field.one).isZero)
            XCTAssertEqual(field.subtract(A.Limbs(0, 0, 0, 0), field.one), field.enter(mMinusOne))
        }
        let nMinusOne = A.n.subtracting(A.Limbs(1, 0, 0, 0)).0
        let minusG = A.combination(nMinusOne, A.Limbs(0, 0, 0, 0), A.generator)
        XCTAssertEqual(minusG.affine?.x, A.gx)
        XCTAssertEqual(minusG.affine?.y, A.p.subtracting(A.gy).0)
        XCTAssertNil(minusG.adding(A.generator).affine, "n·G is the point at infinity")
        XCTAssertNil(A.combination(A.Limbs(0, 0, 0, 0), A.Limbs(0, 0, 0, 0), A.generator).affine)
        // 2·G by doubling and G + G through the table agree.
        XCTAssertEqual(A.generator.adding(A.generator).affine?.x, A.combination(A.Limbs(2, 0, 0, 0), A.Limbs(0, 0, 0, 0), A.generator).affine?.x)
        XCTAssertEqual(A.combination(A.Limbs(1, 0, 0, 0), A.Limbs(1, 0, 0, 0), A.generator).affine?.x,
                       A.combination(A.Limbs(2, 0, 0, 0), A.Limbs(0, 0, 0, 0), A.generator).affine?.x)
    }

    /// A public key libcrypto made, taken apart and put together again in Swift: the same
    /// point, and one whose coordinates are not below p is refused.
    func testPublicKeyFromLibcryptoIsOnTheSwiftCurve() throws {
        for _ in 0..<50 {
            let key = try P256PrivateKey()
            XCTAssertEqual(try P256PublicKey(spki: key.publicKey.spkiDER), key.publicKey)
        }
        let pBytes = P256Arithmetic.p.bigEndianBytes
        XCTAssertEqual(pBytes.prefix(4), [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertThrowsError(try P256PublicKey(x: pBytes, y: P256Arithmetic.gy.bigEndianBytes))
        // x + p, y: the same residue as a valid point, refused because it is not below p.
        XCTAssertThrowsError(try P256PublicKey(x: [UInt8](repeating: 0xFF, count: 32), y: P256Arithmetic.gy.bigEndianBytes))
        XCTAssertNoThrow(try P256PublicKey(x: P256Arithmetic.gx.bigEndianBytes, y: P256Arithmetic.gy.bigEndianBytes))
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

/// a − b for 32-byte big-endian integers, a ≥ b.
func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var borrow = 0
    for i in (0..<32).reversed() {
        var d = Int(a[i]) - Int(b[i]) - borrow
        borrow = d < 0 ? 1 : 0
        if d < 0 { d += 256 }
        out[i] = UInt8(d)
    }
    return out
}
