import COpenSSL

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
        var reason = "unknown OpenSSL error"
        var code = ERR_get_error()
        if code != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            reason = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        while code != 0 { code = ERR_get_error() }
        return CryptoError(operation, reason: reason)
    }

    public var description: String { "\(operation): \(reason)" }
}
