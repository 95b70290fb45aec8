import CBOREncoding
import Crypto

/// A credential public key as COSE_Key (RFC 9052/9053): EC2, P-256, ES256 — the one kind
/// this project creates and accepts. Anything else is refused with the reason, so an
/// administrator reading the log knows a credential was unsupported rather than forged.
public struct COSEKey: Hashable, Sendable {
    /// COSE algorithm ES256 (ECDSA with SHA-256).
    public static let es256: Int64 = -7
    static let ec2KeyType: Int64 = 2
    static let p256Curve: Int64 = 1

    // COSE_Key labels.
    static let ktyLabel: CBOR = 1
    static let algLabel: CBOR = 3
    static let crvLabel: CBOR = -1
    static let xLabel: CBOR = -2
    static let yLabel: CBOR = -3

    /// Affine coordinates, 32 bytes each, big-endian.
    public let x: [UInt8]
    public let y: [UInt8]

    /// Always ES256; kept as a property so callers compare it with what an attestation
    /// statement claims.
    public var algorithm: Int64 { Self.es256 }

    /// Checks sizes only; whether the point lies on the curve is `publicKey()`'s job.
    public init(x: [UInt8], y: [UInt8]) throws(COSEKeyError) {
        guard x.count == 32 else { throw .coordinateLength(name: "x", count: x.count) }
        guard y.count == 32 else { throw .coordinateLength(name: "y", count: y.count) }
        self.x = x
        self.y = y
    }

    public init(publicKey: P256PublicKey) {
        self.x = publicKey.x
        self.y = publicKey.y
    }

    /// From a decoded COSE_Key map. The algorithm is checked first, so a credential of
    /// another kind (RS256, EdDSA) is reported by the algorithm its authenticator chose.
    /// Parameters other than kty, alg, crv, x and y are ignored (COSE allows e.g. kid).
    public init(cbor: CBOR) throws(COSEKeyError) {
        guard case .map = cbor else { throw .notAMap }
        func integer(_ label: CBOR, _ name: String) throws(COSEKeyError) -> Int64 {
            guard let value = cbor[label] else { throw .missingParameter(name) }
            guard let n = value.intValue else { throw .parameterWrongType(name, expected: "integer") }
            return n
        }
        func bytes(_ label: CBOR, _ name: String) throws(COSEKeyError) -> [UInt8] {
            guard let value = cbor[label] else { throw .missingParameter(name) }
            guard let b = value.bytesValue else { throw .parameterWrongType(name, expected: "byte string") }
            return b
        }
        let alg = try integer(Self.algLabel, "alg")
        guard alg == Self.es256 else { throw .unsupportedAlgorithm(alg) }
        let kty = try integer(Self.ktyLabel, "kty")
        guard kty == Self.ec2KeyType else { throw .unsupportedKeyType(kty) }
        let crv = try integer(Self.crvLabel, "crv")
        guard crv == Self.p256Curve else { throw .unsupportedCurve(crv) }
        try self.init(x: try bytes(Self.xLabel, "x"), y: try bytes(Self.yLabel, "y"))
    }

    /// From the encoded COSE_Key, which must be one CBOR item and nothing more.
    public init(encoded: [UInt8]) throws(COSEKeyError) {
        let item: CBOR
        do { item = try CBOR.decode(encoded) } catch { throw .malformedCBOR(error) }
        try self.init(cbor: item)
    }

    public var cbor: CBOR {
        [Self.ktyLabel: .int(Self.ec2KeyType), Self.algLabel: .int(Self.es256), Self.crvLabel: .int(Self.p256Curve),
         Self.xLabel: .byteString(x), Self.yLabel: .byteString(y)]
    }

    /// The canonical encoding (labels 1, 3, -1, -2, -3, in that order).
    public var encoded: [UInt8] { cbor.encoded() }

    /// The key for libcrypto; fails when the point is not on P-256.
    public func publicKey() throws(COSEKeyError) -> P256PublicKey {
        do { return try P256PublicKey(x: x, y: y) } catch { throw .invalidPoint(error.reason) }
    }
}

public enum COSEKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedCBOR(CBORError)
    case notAMap
    case missingParameter(String)
    case parameterWrongType(String, expected: String)
    case unsupportedAlgorithm(Int64)
    case unsupportedKeyType(Int64)
    case unsupportedCurve(Int64)
    case coordinateLength(name: String, count: Int)
    case invalidPoint(String)

    public var description: String {
        switch self {
        case .malformedCBOR(let e): return "credential public key is not valid CBOR: \(e)"
        case .notAMap: return "credential public key is not a COSE_Key map"
        case .missingParameter(let name): return "credential public key has no \(name) parameter"
        case .parameterWrongType(let name, let expected): return "credential public key parameter \(name) is not a \(expected)"
        case .unsupportedAlgorithm(let alg):
            return "credential public key algorithm \(alg)\(Self.algorithmName(alg)) is not supported; only ES256 (-7) is"
        case .unsupportedKeyType(let kty): return "credential public key type (kty) \(kty) is not supported; only EC2 (2) is"
        case .unsupportedCurve(let crv): return "credential public key curve \(crv) is not supported; only P-256 (1) is"
        case .coordinateLength(let name, let count): return "credential public key coordinate \(name) is \(count) bytes, expected 32"
        case .invalidPoint(let why): return "credential public key is not a valid P-256 point (\(why))"
        }
    }

    private static func algorithmName(_ alg: Int64) -> String {
        switch alg {
        case -8: return " (EdDSA)"
        case -35: return " (ES384)"
        case -36: return " (ES512)"
        case -257: return " (RS256)"
        case -37: return " (PS256)"
        default: return ""
        }
    }
}
