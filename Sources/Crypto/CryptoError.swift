import CLibcrypto

/// A failure inside libcrypto, or input it refused. The message names the operation and
/// OpenSSL's own reason, never key material.
public struct CryptoError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let reason: String

    public init(_ operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    /// Takes OpenSSL's error queue (so a later call does not report a stale error).
    static func openssl(_ operation: String) -> CryptoError {
        guard pam_passkey_crypto_available() != 0 else { return CryptoError(operation, reason: Libcrypto.unavailableReason) }
        var reason = "unknown OpenSSL error"
        var code = pam_passkey_ERR_get_error()
        if code != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            pam_passkey_ERR_error_string_n(code, &buf, buf.count)
            reason = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        while code != 0 { code = pam_passkey_ERR_get_error() }
        return CryptoError(operation, reason: reason)
    }

    public var description: String { "\(operation): \(reason)" }
}

/// libcrypto, which Sources/Crypto opens on first use (Sources/CLibcrypto/shim.h), never linked.
public enum Libcrypto {
    /// The file it is loaded from: an absolute path, fixed at build time.
    public static var path: String { String(cString: pam_passkey_crypto_path()) }

    /// nil when libcrypto is loaded (loading it now if it was not); otherwise why it cannot
    /// be, for the log. A ceremony asks this before it asks for a PIN: nothing it receives
    /// could be verified without the library.
    public static var problem: String? {
        pam_passkey_crypto_available() != 0 ? nil : unavailableReason
    }

    static var unavailableReason: String {
        let why = pam_passkey_crypto_problem().map { String(cString: $0) } ?? "\(path): cannot be loaded"
        return "libcrypto is not available (\(why))"
    }
}
