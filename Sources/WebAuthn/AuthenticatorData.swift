import Identifiers
import CBOREncoding
import Crypto

/// authenticatorData (WebAuthn §6.1): what the authenticator signs, besides the client data
/// hash. `rawBytes` keeps the exact bytes received or built, because the signature covers
/// them and not any re-encoding of the parsed fields.
public struct AuthenticatorData: Hashable, Sendable {
    static let fixedLength = 37

    public let rpIDHash: [UInt8]
    public let flags: AuthenticatorFlags
    public let signCount: UInt32
    public let attestedCredentialData: AttestedCredentialData?
    /// The extension outputs (a CBOR map), present exactly when the ED flag is set.
    public let extensions: CBOR?
    public let rawBytes: [UInt8]

    /// The serialised form; the same bytes as `rawBytes`.
    public var bytes: [UInt8] { rawBytes }

    /// Parses strictly: every byte must belong to a field the flags announce.
    public init(bytes: [UInt8]) throws(AuthenticatorDataError) {
        guard bytes.count >= Self.fixedLength else { throw .tooShort(bytes.count) }
        let flags = AuthenticatorFlags(rawValue: bytes[32])
        guard !flags.contains(.backedUp) || flags.contains(.backupEligible) else { throw .backedUpWithoutBackupEligible }
        var position = Self.fixedLength

        var credential: AttestedCredentialData? = nil
        if flags.contains(.attestedCredentialData) {
            guard bytes.count >= position + 18 else {
                throw bytes.count == position ? .attestedCredentialDataMissing : .attestedCredentialDataTruncated
            }
            let aaguid = Array(bytes[position..<(position + 16)])
            let idLength = Int(bytes[position + 16]) << 8 | Int(bytes[position + 17])
            position += 18
            guard idLength > 0 else { throw .credentialIDEmpty }
            guard idLength <= AttestedCredentialData.maximumCredentialIDLength else { throw .credentialIDTooLong(idLength) }
            guard bytes.count - position >= idLength else { throw .attestedCredentialDataTruncated }
            let credentialID = CredentialID(Array(bytes[position..<(position + idLength)]))
            position += idLength
            let key: CBOR
            let keyLength: Int
            do { (key, keyLength) = try CBOR.decodePrefix(bytes[position...]) } catch {
                throw .credentialPublicKey(.malformedCBOR(error))
            }
            position += keyLength
            let publicKey: COSEKey
            do { publicKey = try COSEKey(cbor: key) } catch { throw .credentialPublicKey(error) }
            credential = try AttestedCredentialData(aaguid: aaguid, credentialID: credentialID, credentialPublicKey: publicKey)
        }

        var extensions: CBOR? = nil
        if flags.contains(.extensionData) {
            guard position < bytes.count else { throw .extensionDataMissing }
            let item: CBOR
            let length: Int
            do { (item, length) = try CBOR.decodePrefix(bytes[position...]) } catch { throw .malformedExtensions(error) }
            guard case .map = item else { throw .extensionsNotAMap }
            position += length
            extensions = item
        }

        guard position == bytes.count else {
            throw .trailingBytes(offset: position, count: bytes.count - position, flags: flags)
        }
        self.rpIDHash = Array(bytes[0..<32])
        self.flags = flags
        self.signCount = UInt32(bytes[33]) << 24 | UInt32(bytes[34]) << 16 | UInt32(bytes[35]) << 8 | UInt32(bytes[36])
        self.attestedCredentialData = credential
        self.extensions = extensions
        self.rawBytes = bytes
    }

    /// Builds authenticatorData, as an authenticator does. The AT and ED flags follow from
    /// whether credential data and extensions are given, whatever `flags` says, so the
    /// result always parses.
    public init(rpIDHash: [UInt8], flags: AuthenticatorFlags, signCount: UInt32,
                attestedCredentialData: AttestedCredentialData? = nil, extensions: CBOR? = nil) throws(AuthenticatorDataError) {
        guard rpIDHash.count == 32 else { throw .rpIDHashLength(rpIDHash.count) }
        guard !flags.contains(.backedUp) || flags.contains(.backupEligible) else { throw .backedUpWithoutBackupEligible }
        if let extensions, extensions.mapValue == nil { throw .extensionsNotAMap }
        var flags = flags
        flags.remove([.attestedCredentialData, .extensionData])
        if attestedCredentialData != nil { flags.insert(.attestedCredentialData) }
        if extensions != nil { flags.insert(.extensionData) }

        var bytes = rpIDHash
        bytes.append(flags.rawValue)
        bytes += [UInt8(signCount >> 24), UInt8(signCount >> 16 & 0xFF), UInt8(signCount >> 8 & 0xFF), UInt8(signCount & 0xFF)]
        if let attestedCredentialData { bytes += attestedCredentialData.encoded }
        if let extensions { bytes += extensions.encoded() }

        self.rpIDHash = rpIDHash
        self.flags = flags
        self.signCount = signCount
        self.attestedCredentialData = attestedCredentialData
        self.extensions = extensions
        self.rawBytes = bytes
    }

    /// Builds authenticatorData for `rpID` (its SHA-256 is the rpIdHash).
    public init(rpID: String, flags: AuthenticatorFlags, signCount: UInt32,
                attestedCredentialData: AttestedCredentialData? = nil, extensions: CBOR? = nil) throws(AuthenticatorDataError) {
        try self.init(rpIDHash: SHA256.hash(Array(rpID.utf8)), flags: flags, signCount: signCount,
                      attestedCredentialData: attestedCredentialData, extensions: extensions)
    }
}

public enum AuthenticatorDataError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooShort(Int)
    case rpIDHashLength(Int)
    case aaguidLength(Int)
    case backedUpWithoutBackupEligible
    case attestedCredentialDataMissing
    case attestedCredentialDataTruncated
    case credentialIDEmpty
    case credentialIDTooLong(Int)
    case credentialPublicKey(COSEKeyError)
    case extensionDataMissing
    case malformedExtensions(CBORError)
    case extensionsNotAMap
    case trailingBytes(offset: Int, count: Int, flags: AuthenticatorFlags)

    public var description: String {
        switch self {
        case .tooShort(let n):
            return "authenticatorData is \(n) bytes, shorter than the 37 bytes of rpIdHash, flags and signCount"
        case .rpIDHashLength(let n): return "rpIdHash is \(n) bytes, expected 32"
        case .aaguidLength(let n): return "AAGUID is \(n) bytes, expected 16"
        case .backedUpWithoutBackupEligible:
            return "authenticatorData flags set BS (backed up) without BE (backup eligible)"
        case .attestedCredentialDataMissing:
            return "authenticatorData sets the AT flag but carries no attested credential data"
        case .attestedCredentialDataTruncated:
            return "attested credential data in authenticatorData ends before its credential id does"
        case .credentialIDEmpty:
            return "credential id is empty"
        case .credentialIDTooLong(let n):
            return "credential id is \(n) bytes, longer than the 1023 allowed"
        case .credentialPublicKey(let e): return e.description
        case .extensionDataMissing:
            return "authenticatorData sets the ED flag but carries no extensions"
        case .malformedExtensions(let e): return "authenticatorData extensions: \(e)"
        case .extensionsNotAMap: return "authenticatorData extensions are not a CBOR map"
        case .trailingBytes(let offset, let count, let flags):
            return "authenticatorData has \(count) byte(s) at offset \(offset) that no flag accounts for (flags: \(flags))"
        }
    }
}
