/// SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104) in Swift, without OpenSSL.
///
/// For the hashing a login does in the PAM application: the host id (HostIdentity), derived
/// on every login, also when the module only steps aside; the client data and the signed
/// bytes of an assertion (`SHA256`, P256PublicKey). The first EVP call in a process makes
/// OpenSSL load its providers and fill its method tables (about 5 million instructions,
/// measured with callgrind in a fresh login-like process: 44 % of the whole step-aside);
/// hashing 33 bytes here costs a few thousand. SHA-256 has no data-dependent branches or
/// table lookups, so this runs in constant time too; the helper's keyed uses (`HMACSHA256`)
/// stay with OpenSSL. The tests check this implementation against libcrypto
/// (LibcryptoReference) and against the FIPS 180 and RFC 4231 vectors.
public enum PortableSHA256 {
    public static let byteCount = 32
    static let blockSize = 64

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    private static let initial: [UInt32] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        // The message, a 0x80 byte, zeros, and the length in bits (big-endian), in whole blocks.
        let count = data.count
        let padded = (count + 9 + blockSize - 1) / blockSize * blockSize
        var message = [UInt8](repeating: 0, count: padded)
        let bitLength = UInt64(count) &* 8
        message.withUnsafeMutableBufferPointer { m in
            _ = m.initialize(from: data)
            m[count] = 0x80
            for j in 0..<8 { m[padded - 1 - j] = UInt8(truncatingIfNeeded: bitLength >> UInt64(8 * j)) }
        }
        var h = (initial[0], initial[1], initial[2], initial[3], initial[4], initial[5], initial[6], initial[7])
        message.withUnsafeBufferPointer { m in
            k.withUnsafeBufferPointer { k in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    for block in stride(from: 0, to: padded, by: blockSize) {
                        for t in 0..<16 {
                            let i = block + 4 * t
                            w[t] = UInt32(m[i]) << 24 | UInt32(m[i + 1]) << 16 | UInt32(m[i + 2]) << 8 | UInt32(m[i + 3])
                        }
                        for t in 16..<64 {
                            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                        }
                        var (a, b, c, d, e, f, g, hh) = h
                        for t in 0..<64 {
                            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                            let choice = (e & f) ^ (~e & g)
                            let t1 = hh &+ s1 &+ choice &+ k[t] &+ w[t]
                            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                            let majority = (a & b) ^ (a & c) ^ (b & c)
                            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ majority)
                        }
                        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
                    }
                }
            }
        }
        var digest = [UInt8](repeating: 0, count: byteCount)
        digest.withUnsafeMutableBufferPointer { out in
            for (i, word) in [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7].enumerated() {
                out[4 * i] = UInt8(truncatingIfNeeded: word >> 24)
                out[4 * i + 1] = UInt8(truncatingIfNeeded: word >> 16)
                out[4 * i + 2] = UInt8(truncatingIfNeeded: word >> 8)
                out[4 * i + 3] = UInt8(truncatingIfNeeded: word)
            }
        }
        return digest
    }

    /// HMAC-SHA-256 (RFC 2104): a key longer than a block is hashed first.
    public static func authenticate(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var block = key.count > blockSize ? hash(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = hash(block.map { $0 ^ 0x36 } + data)
        return hash(block.map { $0 ^ 0x5c } + inner)
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
}
