/// An ECDSA P-256 signature, kept in its DER form (what WebAuthn carries), with the strict
/// checks a verifier should make before it hands bytes to libcrypto: canonical DER, one
/// SEQUENCE of two positive minimal INTEGERs, each in [1, n-1], nothing after.
public struct ECDSASignature: Equatable, Sendable {
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case notDER(String)
        case rOutOfRange
        case sOutOfRange

        public var description: String {
            switch self {
            case .notDER(let why): return "signature is not a canonical DER ECDSA signature (\(why))"
            case .rOutOfRange: return "signature value r is zero or not below the P-256 group order"
            case .sOutOfRange: return "signature value s is zero or not below the P-256 group order"
            }
        }
    }

    /// The P-256 group order n, big-endian.
    static let order: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ]

    public let derRepresentation: [UInt8]
    /// r and s as 32-byte big-endian integers.
    public let r: [UInt8]
    public let s: [UInt8]

    /// Parses and checks a DER signature.
    public init(derRepresentation der: [UInt8]) throws(Problem) {
        var i = 0
        func byte() throws(Problem) -> UInt8 {
            guard i < der.count else { throw .notDER("truncated") }
            defer { i += 1 }
            return der[i]
        }
        guard try byte() == 0x30 else { throw .notDER("does not start with a SEQUENCE") }
        let seqLen = Int(try byte())
        guard seqLen < 0x80 else { throw .notDER("SEQUENCE length is not in short form") }
        guard i + seqLen == der.count else { throw .notDER("SEQUENCE length does not match the signature size") }
        func integer() throws(Problem) -> [UInt8] {
            guard try byte() == 0x02 else { throw .notDER("expected an INTEGER") }
            let len = Int(try byte())
            guard len >= 1, len <= 33 else { throw .notDER("INTEGER length \(len) is not between 1 and 33") }
            guard i + len <= der.count else { throw .notDER("INTEGER runs past the end") }
            let content = Array(der[i..<(i + len)])
            i += len
            if content[0] & 0x80 != 0 { throw .notDER("INTEGER is negative") }
            if len > 1, content[0] == 0, content[1] & 0x80 == 0 { throw .notDER("INTEGER has a superfluous leading zero") }
            let magnitude = content.drop { $0 == 0 }
            guard magnitude.count <= 32 else { throw .notDER("INTEGER is wider than 256 bits") }
            return [UInt8](repeating: 0, count: 32 - magnitude.count) + magnitude
        }
        let r = try integer()
        let s = try integer()
        guard i == der.count else { throw .notDER("trailing bytes") }
        guard Self.inRange(r) else { throw .rOutOfRange }
        guard Self.inRange(s) else { throw .sOutOfRange }
        self.derRepresentation = der
        self.r = r
        self.s = s
    }

    /// From the raw `r ‖ s` form (64 bytes) that TPMs and some authenticators return.
    public init(rawRepresentation raw: [UInt8]) throws(Problem) {
        guard raw.count == 64 else { throw .notDER("raw signature is \(raw.count) bytes, expected 64") }
        func encode(_ v: ArraySlice<UInt8>) -> [UInt8] {
            var m = Array(v.drop { $0 == 0 })
            if m.isEmpty { m = [0] }
            if m[0] & 0x80 != 0 { m.insert(0, at: 0) }
            return [0x02, UInt8(m.count)] + m
        }
        let body = encode(raw[0..<32]) + encode(raw[32..<64])
        try self.init(derRepresentation: [0x30, UInt8(body.count)] + body)
    }

    public var rawRepresentation: [UInt8] { r + s }

    static func inRange(_ v: [UInt8]) -> Bool {
        guard v.contains(where: { $0 != 0 }) else { return false }
        for (a, b) in zip(v, order) where a != b { return a < b }
        return false  // equal to n
    }
}
