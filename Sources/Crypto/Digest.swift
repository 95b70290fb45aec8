#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

public enum SHA256 {
    public static let byteCount = 32

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: byteCount)
        var outLen: UInt32 = 0
        let ok = Array(data).withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &out, &outLen, EVP_sha256(), nil)
        }
        // libcrypto can fail only for want of memory; the same digest then comes from the
        // Swift implementation instead of stopping the host process.
        guard ok == 1 && outLen == 32 else { return PortableSHA256.hash(data) }
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
        guard result != nil && outLen == 32 else { return PortableSHA256.authenticate(key: key, data: data) }
        return out
    }
}

/// glibc's getrandom(2) wrapper (sys/random.h, which the Glibc module does not include).
@_silgen_name("getrandom")
private func getrandom(_ buffer: UnsafeMutableRawPointer?, _ length: Int, _ flags: UInt32) -> Int

public enum SecureRandom {
    /// Cryptographically secure random bytes: OpenSSL's DRBG, and the kernel's getrandom(2)
    /// when that fails (it can only fail to allocate or to seed). No input reaches this. Only
    /// if the kernel itself has no randomness to give does it stop the process: weak
    /// randomness would be worse than none.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let ok = out.withUnsafeMutableBytes { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) }
        if ok == 1 { return out }
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, count - filled, 0) }
            if n > 0 { filled += n } else if n < 0 && errno == EINTR { continue } else {
                preconditionFailure("no randomness: RAND_bytes and getrandom(2) both failed (errno \(errno))")
            }
        }
        return out
    }
}
