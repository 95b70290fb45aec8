import COpenSSL

public enum SHA256 {
    public static let byteCount = 32

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: byteCount)
        var outLen: UInt32 = 0
        let ok = Array(data).withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &out, &outLen, EVP_sha256(), nil)
        }
        precondition(ok == 1 && outLen == 32, "EVP_Digest(SHA-256) failed")
        return out
    }
}

public enum HMACSHA256 {
    public static func authenticate(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var outLen: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count),
                     d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, &out, &outLen)
            }
        }
        precondition(result != nil && outLen == 32, "HMAC-SHA-256 failed")
        return out
    }
}

public enum SecureRandom {
    /// Cryptographically secure random bytes. Aborts rather than return weak randomness.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 {
            let ok = out.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) }
            precondition(ok == 1, "RAND_bytes failed")
        }
        return out
    }
}
