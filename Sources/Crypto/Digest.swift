#if canImport(Glibc)
import Glibc
#endif
import CLibcrypto

/// SHA-256 in Swift (PortableSHA256): hashing public data (client data, relying party ids)
/// should not be what loads libcrypto into the PAM application.
public enum SHA256 {
    public static let byteCount = 32

    public static func hash<C: Collection>(_ data: C) -> [UInt8] where C.Element == UInt8 {
        PortableSHA256.hash(data)
    }
}

public enum HMACSHA256 {
    public static func authenticate(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var outLen: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            data.withUnsafeBytes { d in
                pam_passkey_HMAC(pam_passkey_EVP_sha256(), k.baseAddress, Int32(k.count),
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
    /// Cryptographically secure random bytes from the kernel (getrandom(2), which blocks only
    /// until the kernel's generator is first seeded, at boot). Not OpenSSL's DRBG: a
    /// challenge should not be what loads libcrypto into the PAM application, and the
    /// kernel's generator is what that DRBG seeds itself from. No input reaches this. Only if
    /// the kernel itself has no randomness to give does it stop the process: weak randomness
    /// would be worse than none.
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = out.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, count - filled, 0) }
            if n > 0 { filled += n } else if n < 0 && errno == EINTR { continue } else {
                preconditionFailure("no randomness: getrandom(2) failed (errno \(errno))")
            }
        }
        return out
    }
}
