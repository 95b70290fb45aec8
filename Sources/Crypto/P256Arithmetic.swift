/// ECDSA P-256 verification in Swift (FIPS 186-5 §6.4.2, SEC 1 §4.1.4), without OpenSSL.
///
/// Why: verifying an assertion is the only cryptography a passkey login does in the PAM
/// application (login, su, sudo, a screen locker), and libcrypto mapped into that process for
/// it was 3.98 MB of its memory and about a millisecond of a first login (issue 17).
/// Signing, sealing, key derivation and X.509 stay with OpenSSL, in the helper or in an
/// enrollment with a security key; what is here only checks a signature against a public key.
///
/// Everything it handles is public (the registry's key, the authenticator's signature, the
/// signed bytes), so it is not written to run in constant time. It is written to be checked:
/// - residues modulo p and n in Montgomery form, four 64-bit limbs, one multiplication
///   (CIOS); the constants derived from the modulus are computed, not written down;
/// - points in projective coordinates with the complete addition formulas of Renes, Costello
///   and Batina (2016, algorithm 4, a = −3): one formula for every pair of points, the
///   doubling and the point at infinity included, so there is no special case to get wrong;
/// - u1·G + u2·Q by one pass over the bits of both scalars (Shamir's trick).
/// The unit tests compare it with libcrypto over 150 keys and about 1,200 signatures, valid
/// and altered (`testSwiftVerifierAgreesWithLibcrypto`), and the fuzz target `p256_verify` does
/// the same with inputs it chooses.
enum P256Arithmetic {
    /// A 256-bit unsigned integer: four 64-bit limbs, w0 the least significant.
    struct Limbs: Equatable {
        var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

        init(_ w0: UInt64, _ w1: UInt64, _ w2: UInt64, _ w3: UInt64) { self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3 }

        /// From 32 big-endian bytes.
        init<C: RandomAccessCollection>(bigEndian bytes: C) where C.Element == UInt8, C.Index == Int {
            func limb(_ index: Int) -> UInt64 {
                var v: UInt64 = 0
                for k in 0..<8 { v = v << 8 | UInt64(bytes[bytes.startIndex + (3 - index) * 8 + k]) }
                return v
            }
            self.init(limb(0), limb(1), limb(2), limb(3))
        }

        subscript(limb: Int) -> UInt64 {
            switch limb { case 0: w0; case 1: w1; case 2: w2; default: w3 }
        }

        var bigEndianBytes: [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            for limb in 0..<4 {
                for k in 0..<8 { out[(3 - limb) * 8 + k] = UInt8(truncatingIfNeeded: self[limb] >> (56 - 8 * UInt64(k))) }
            }
            return out
        }

        var isZero: Bool { w0 | w1 | w2 | w3 == 0 }

        /// self < other, as integers.
        func isLess(than other: Limbs) -> Bool {
            if w3 != other.w3 { return w3 < other.w3 }
            if w2 != other.w2 { return w2 < other.w2 }
            if w1 != other.w1 { return w1 < other.w1 }
            return w0 < other.w0
        }

        /// self + other; the carry out of the top limb.
        @inline(__always)
        func adding(_ other: Limbs) -> (Limbs, carry: Bool) {
            let (s0, c0) = Self.add(w0, other.w0, 0)
            let (s1, c1) = Self.add(w1, other.w1, c0)
            let (s2, c2) = Self.add(w2, other.w2, c1)
            let (s3, c3) = Self.add(w3, other.w3, c2)
            return (Limbs(s0, s1, s2, s3), c3 != 0)
        }

        /// self − other; whether it borrowed (other > self).
        @inline(__always)
        func subtracting(_ other: Limbs) -> (Limbs, borrow: Bool) {
            let (d0, b0) = Self.subtract(w0, other.w0, 0)
            let (d1, b1) = Self.subtract(w1, other.w1, b0)
            let (d2, b2) = Self.subtract(w2, other.w2, b1)
            let (d3, b3) = Self.subtract(w3, other.w3, b2)
            return (Limbs(d0, d1, d2, d3), b3 != 0)
        }

        /// a + b + carry (0 or 1): the sum and the carry out.
        @inline(__always)
        static func add(_ a: UInt64, _ b: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
            let (s1, o1) = a.addingReportingOverflow(b)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            return (s2, (o1 ? 1 : 0) | (o2 ? 1 : 0))
        }

        /// a − b − borrow (0 or 1): the difference and the borrow out.
        @inline(__always)
        static func subtract(_ a: UInt64, _ b: UInt64, _ borrow: UInt64) -> (UInt64, UInt64) {
            let (d1, o1) = a.subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            return (d2, (o1 ? 1 : 0) | (o2 ? 1 : 0))
        }

        func bit(_ i: Int) -> Bool { (self[i >> 6] >> UInt64(i & 63)) & 1 == 1 }
    }

    /// Arithmetic modulo an odd 256-bit modulus m > 2^255, on residues in Montgomery form
    /// (x·R mod m, R = 2^256). Every operand is below m, and every result is.
    struct Field {
        let m: Limbs
        /// −m⁻¹ mod 2^64.
        let mPrime: UInt64
        /// R² mod m: what `enter` multiplies by.
        let rSquared: Limbs
        /// 1 in Montgomery form (R mod m).
        let one: Limbs

        init(modulus m: Limbs) {
            self.m = m
            // Newton's iteration doubles the correct low bits of an inverse each step; m is odd,
            // so m is its own inverse modulo 8 (3 bits): five steps give 96 ≥ 64.
            var inverse = m.w0
            for _ in 0..<5 { inverse = inverse &* (2 &- m.w0 &* inverse) }
            mPrime = 0 &- inverse
            // R mod m = R − m, since m < R < 2m; then doubled 256 times: R·2^256 = R² mod m.
            let r = Limbs(0, 0, 0, 0).subtracting(m).0
            one = r
            var x = r
            for _ in 0..<256 {
                let (sum, carry) = x.adding(x)
                let (reduced, borrow) = sum.subtracting(m)
                x = carry || !borrow ? reduced : sum
            }
            rSquared = x
        }

        @inline(__always)
        func add(_ a: Limbs, _ b: Limbs) -> Limbs {
            let (sum, carry) = a.adding(b)
            let (reduced, borrow) = sum.subtracting(m)
            return carry || !borrow ? reduced : sum
        }

        @inline(__always)
        func subtract(_ a: Limbs, _ b: Limbs) -> Limbs {
            let (difference, borrow) = a.subtracting(b)
            return borrow ? difference.adding(m).0 : difference
        }

        /// a·b·R⁻¹ mod m (coarsely integrated operand scanning).
        @inline(__always)
        func multiply(_ a: Limbs, _ b: Limbs) -> Limbs {
            var t = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            round(a, b.w0, &t)
            round(a, b.w1, &t)
            round(a, b.w2, &t)
            round(a, b.w3, &t)
            // t < 2m: one subtraction at most.
            let result = Limbs(t.0, t.1, t.2, t.3)
            let (reduced, borrow) = result.subtracting(m)
            return t.4 != 0 || !borrow ? reduced : result
        }

        /// One limb of b: t = (t + a·bi + q·m) / 2^64, q chosen to make the division exact.
        @inline(__always)
        private func round(_ a: Limbs, _ bi: UInt64, _ t: inout (UInt64, UInt64, UInt64, UInt64, UInt64)) {
            var (c, s0) = Self.multiplyAdd(a.w0, bi, t.0, 0)
            var s1: UInt64, s2: UInt64, s3: UInt64
            (c, s1) = Self.multiplyAdd(a.w1, bi, t.1, c)
            (c, s2) = Self.multiplyAdd(a.w2, bi, t.2, c)
            (c, s3) = Self.multiplyAdd(a.w3, bi, t.3, c)
            let (s4, c4) = Limbs.add(t.4, c, 0)
            let q = s0 &* mPrime
            (c, s0) = Self.multiplyAdd(q, m.w0, s0, 0)
            (c, t.0) = Self.multiplyAdd(q, m.w1, s1, c)
            (c, t.1) = Self.multiplyAdd(q, m.w2, s2, c)
            (c, t.2) = Self.multiplyAdd(q, m.w3, s3, c)
            let (s5, c5) = Limbs.add(s4, c, 0)
            t.3 = s5
            t.4 = c4 + c5
        }

        /// (hi, lo) of a·b + c + d, which cannot overflow 128 bits.
        @inline(__always)
        static func multiplyAdd(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> (UInt64, UInt64) {
            let (hi, lo) = a.multipliedFullWidth(by: b)
            let (l1, o1) = lo.addingReportingOverflow(c)
            let (l2, o2) = l1.addingReportingOverflow(d)
            return (hi &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0), l2)
        }

        /// x (below m) into Montgomery form.
        func enter(_ x: Limbs) -> Limbs { multiply(x, rSquared) }
        /// Out of Montgomery form.
        func leave(_ x: Limbs) -> Limbs { multiply(x, Limbs(1, 0, 0, 0)) }

        /// a⁻¹ by Fermat's little theorem (a^(m−2); m is prime), 0 for 0.
        func inverse(_ a: Limbs) -> Limbs {
            let exponent = m.subtracting(Limbs(2, 0, 0, 0)).0
            var result = one
            for i in (0..<256).reversed() {
                result = multiply(result, result)
                if exponent.bit(i) { result = multiply(result, a) }
            }
            return result
        }
    }

    static let p = Limbs(0xFFFF_FFFF_FFFF_FFFF, 0x0000_0000_FFFF_FFFF, 0x0000_0000_0000_0000, 0xFFFF_FFFF_0000_0001)
    static let n = Limbs(0xF3B9_CAC2_FC63_2551, 0xBCE6_FAAD_A717_9E84, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_0000_0000)
    static let b = Limbs(0x3BCE_3C3E_27D2_604B, 0x651D_06B0_CC53_B0F6, 0xB3EB_BD55_7698_86BC, 0x5AC6_35D8_AA3A_93E7)
    static let gx = Limbs(0xF4A1_3945_D898_C296, 0x7703_7D81_2DEB_33A0, 0xF8BC_E6E5_63A4_40F2, 0x6B17_D1F2_E12C_4247)
    static let gy = Limbs(0xCBB6_4068_37BF_51F5, 0x2BCE_3357_6B31_5ECE, 0x8EE7_EB4A_7C0F_9E16, 0x4FE3_42E2_FE1A_7F9B)

    static let fieldP = Field(modulus: p)
    static let fieldN = Field(modulus: n)

    /// A point in projective coordinates (X : Y : Z), each in Montgomery form modulo p; the
    /// point at infinity is (0 : 1 : 0).
    struct Point {
        var x: Limbs, y: Limbs, z: Limbs

        static var infinity: Point { Point(x: Limbs(0, 0, 0, 0), y: fieldP.one, z: Limbs(0, 0, 0, 0)) }

        /// An affine point (x, y), already checked to be on the curve, as integers below p.
        init(affineX: Limbs, affineY: Limbs) {
            x = fieldP.enter(affineX)
            y = fieldP.enter(affineY)
            z = fieldP.one
        }

        init(x: Limbs, y: Limbs, z: Limbs) { self.x = x; self.y = y; self.z = z }

        /// P + Q for any two points (Renes–Costello–Batina algorithm 4, a = −3; 12
        /// multiplications, 2 by b).
        func adding(_ q: Point) -> Point {
            let f = fieldP, bm = bMontgomery
            var t0 = f.multiply(x, q.x)
            var t1 = f.multiply(y, q.y)
            var t2 = f.multiply(z, q.z)
            var t3 = f.add(x, y)
            var t4 = f.add(q.x, q.y)
            t3 = f.multiply(t3, t4)
            t4 = f.add(t0, t1)
            t3 = f.subtract(t3, t4)
            t4 = f.add(y, z)
            var x3 = f.add(q.y, q.z)
            t4 = f.multiply(t4, x3)
            x3 = f.add(t1, t2)
            t4 = f.subtract(t4, x3)
            x3 = f.add(x, z)
            var y3 = f.add(q.x, q.z)
            x3 = f.multiply(x3, y3)
            y3 = f.add(t0, t2)
            y3 = f.subtract(x3, y3)
            var z3 = f.multiply(bm, t2)
            x3 = f.subtract(y3, z3)
            z3 = f.add(x3, x3)
            x3 = f.add(x3, z3)
            z3 = f.subtract(t1, x3)
            x3 = f.add(t1, x3)
            y3 = f.multiply(bm, y3)
            t1 = f.add(t2, t2)
            t2 = f.add(t1, t2)
            y3 = f.subtract(y3, t2)
            y3 = f.subtract(y3, t0)
            t1 = f.add(y3, y3)
            y3 = f.add(t1, y3)
            t1 = f.add(t0, t0)
            t0 = f.add(t1, t0)
            t0 = f.subtract(t0, t2)
            t1 = f.multiply(t4, y3)
            t2 = f.multiply(t0, y3)
            y3 = f.multiply(x3, z3)
            y3 = f.add(y3, t2)
            x3 = f.multiply(t3, x3)
            x3 = f.subtract(x3, t1)
            z3 = f.multiply(t4, z3)
            t1 = f.multiply(t3, t0)
            z3 = f.add(z3, t1)
            return Point(x: x3, y: y3, z: z3)
        }

        /// The affine x coordinate as an integer below p; nil for the point at infinity.
        var affineX: Limbs? {
            guard !z.isZero else { return nil }
            return fieldP.leave(fieldP.multiply(x, fieldP.inverse(z)))
        }

        /// The affine coordinates as integers below p; nil for the point at infinity.
        var affine: (x: Limbs, y: Limbs)? {
            guard !z.isZero else { return nil }
            let zInverse = fieldP.inverse(z)
            return (fieldP.leave(fieldP.multiply(x, zInverse)), fieldP.leave(fieldP.multiply(y, zInverse)))
        }
    }

    static let bMontgomery = fieldP.enter(b)
    static let generator = Point(affineX: gx, affineY: gy)

    /// Whether (x, y) is a point of the curve: both below p and y² = x³ − 3x + b (mod p).
    /// P-256's cofactor is 1, so every such point is in the group of order n.
    static func isOnCurve(x: Limbs, y: Limbs) -> Bool {
        guard x.isLess(than: p), y.isLess(than: p) else { return false }
        let f = fieldP
        let xm = f.enter(x), ym = f.enter(y)
        let lhs = f.multiply(ym, ym)
        let x3 = f.multiply(f.multiply(xm, xm), xm)
        let threeX = f.add(f.add(xm, xm), xm)
        let rhs = f.add(f.subtract(x3, threeX), bMontgomery)
        return lhs == rhs
    }

    /// u1·G + u2·Q, the scalars as plain integers below n.
    static func combination(_ u1: Limbs, _ u2: Limbs, _ q: Point) -> Point {
        let table = [Point.infinity, generator, q, generator.adding(q)]
        var r = Point.infinity
        for i in (0..<256).reversed() {
            r = r.adding(r)
            let index = (u1.bit(i) ? 1 : 0) | (u2.bit(i) ? 2 : 0)
            if index != 0 { r = r.adding(table[index]) }
        }
        return r
    }

    /// ECDSA verification: r and s already checked to be in [1, n−1] (ECDSASignature), the key
    /// checked to be on the curve (P256PublicKey), `digest` the 32 bytes of SHA-256.
    static func verify(digest: [UInt8], r: [UInt8], s: [UInt8], keyX: Limbs, keyY: Limbs) -> Bool {
        guard digest.count == 32, r.count == 32, s.count == 32 else { return false }
        let rInt = Limbs(bigEndian: r), sInt = Limbs(bigEndian: s)
        guard !rInt.isZero, rInt.isLess(than: n), !sInt.isZero, sInt.isLess(than: n) else { return false }
        // e: the digest as an integer, reduced modulo n (it is below 2^256 < 2n).
        var e = Limbs(bigEndian: digest)
        if !e.isLess(than: n) { e = e.subtracting(n).0 }
        let f = fieldN
        let w = f.inverse(f.enter(sInt))
        let u1 = f.leave(f.multiply(f.enter(e), w))
        let u2 = f.leave(f.multiply(f.enter(rInt), w))
        guard let x = combination(u1, u2, Point(affineX: keyX, affineY: keyY)).affineX else { return false }
        // x is below p; x mod n is x or x − n.
        let v = x.isLess(than: n) ? x : x.subtracting(n).0
        return v == rInt
    }
}
