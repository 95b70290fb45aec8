import Crypto
import Identifiers
import Registry
import WebAuthn

// FreeIPA's security keys, read (never written) from the user's entry: objectClass
// ipaPasskeyUser, attribute ipapasskey (2.16.840.1.113730.3.8.23.27, caseExactMatch, a
// Directory String), one value per key as SSSD's passkey_child prints it at registration and
// `ipa user-add-passkey` stores it:
//
//   passkey:<credential id>,<public key>[,<user id>]
//
// the credential id in standard base64 (with + / and padding), the public key as the base64
// of its DER SubjectPublicKeyInfo (i2d_PUBKEY: the body of a PEM "PUBLIC KEY"; ES256 P-256,
// RS256 or EdDSA as passkey_child --type chose), and the optional user id in base64 (FreeIPA
// accepts it; passkey_child does not write it). The keys are registered for the IPA domain as
// relying party id (passkey_child --domain, which `ipa` gives api.env.domain).

enum FreeIPAPassKeys {
    static let attribute = "ipaPassKey"
    static let objectClass = "ipaPasskeyUser"

    /// One value that could not be used, and why (logged; the other values still count).
    struct Skipped: Error, CustomStringConvertible {
        let why: String
        var description: String { why }
    }

    /// The DN of `user`'s FreeIPA entry: uid=USER under `usersBase`.
    static func userDN(_ user: String, usersBase: String) -> String { "uid=\(EntryMapping.rdnValue(user)),\(usersBase)" }

    /// The IPA domain from a base's dc= parts ("cn=users,cn=accounts,dc=example,dc=com" →
    /// "example.com"): how FreeIPA names its suffix after the domain at installation. Nil when
    /// the base has no dc= part.
    static func domain(fromBase base: String) -> String? {
        let parts = base.split(separator: ",").map { $0.trimmingSpaces() }
        let dcs = parts.compactMap { p -> String? in
            guard p.count > 3, p.prefix(3).lowercased() == "dc=" else { return nil }
            return String(p.dropFirst(3)).lowercased()
        }
        return dcs.isEmpty ? nil : dcs.joined(separator: ".")
    }

    /// The value as a roaming credential of the registry, marked as FreeIPA's, for `rpID`.
    static func credential(from value: String, rpID: String) throws(Skipped) -> CredentialRecord {
        let prefix = "passkey:"
        guard value.utf8.count > prefix.utf8.count, String(value.prefix(prefix.count)).lowercased() == prefix else {
            throw Skipped(why: "it does not start with \"passkey:\"")
        }
        let fields = value.dropFirst(prefix.count).split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 2 || fields.count == 3 else {
            throw Skipped(why: "it has \(fields.count) comma-separated fields, not 2 (credential id, public key) or 3 (and a user id)")
        }
        guard let idBytes = standardBase64(fields[0]) else { throw Skipped(why: "the credential id is not base64") }
        let id: CredentialID
        do { id = try CredentialID(checking: idBytes) } catch { throw Skipped(why: "the credential id: \(error)") }
        guard let der = standardBase64(fields[1]) else { throw Skipped(why: "the public key is not base64") }
        if fields.count == 3, !fields[2].isEmpty, standardBase64(fields[2]) == nil {
            throw Skipped(why: "the user id is not base64")
        }
        let key: P256PublicKey
        do { key = try P256PublicKey(spki: der) } catch { throw Skipped(why: unsupportedKey(der)) }
        return CredentialRecord(
            id: id, publicKey: Base64URL.encode(COSEKey(publicKey: key).encoded), algorithm: Int(COSEKey.es256), kind: .roaming,
            hostID: "", hostName: CredentialSource.freeipa.displayName, aaguid: "00000000-0000-0000-0000-000000000000",
            created: HostEvent(time: 0, host: ""), label: "FreeIPA security key", attestationObject: "", clientDataJSON: "",
            source: .freeipa, rpID: rpID)
    }

    /// What this host recorded about another system's credentials (their counter, last use
    /// and a refused counter: DirectoryRegistry keeps those in the cache and never queues
    /// them), carried from the previous cached record into a freshly read one, so a refresh
    /// neither forgets this host's clone check nor sends anything to FreeIPA.
    static func keepLocalUse(of previous: UserRecord, in record: inout UserRecord) {
        for old in previous.credentials where old.isForeign {
            record.modify(id: old.id) { c in
                guard c.source == old.source else { return }
                c.signCount = max(c.signCount, old.signCount)
                c.lastUsed = old.lastUsed
                c.signCountRegression = old.signCountRegression
            }
        }
    }

    /// Why a public key that is not an uncompressed P-256 SubjectPublicKeyInfo cannot be used:
    /// named by its algorithm's object identifier when it has one we know.
    static func unsupportedKey(_ der: [UInt8]) -> String {
        let rsa: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]   // 1.2.840.113549.1.1.1
        let ed25519: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x70]                                    // 1.3.101.112
        let ecPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]        // 1.2.840.10045.2.1
        let head = Array(der.prefix(32))
        if contains(head, rsa) { return "its public key is RSA (RS256), which pam_passkey does not verify (ES256 only)" }
        if contains(head, ed25519) { return "its public key is Ed25519 (EdDSA), which pam_passkey does not verify (ES256 only)" }
        if contains(head, ecPublicKey) { return "its public key is not an uncompressed P-256 point (ES256 only)" }
        return "its public key is not a DER SubjectPublicKeyInfo"
    }

    private static func contains(_ bytes: [UInt8], _ part: [UInt8]) -> Bool {
        guard bytes.count >= part.count else { return false }
        return (0...(bytes.count - part.count)).contains { Array(bytes[$0..<($0 + part.count)]) == part }
    }

    /// RFC 4648 base64 (+ and /), padded or not; nil for anything else (a base64url value,
    /// spaces, padding in the middle, non-zero unused bits).
    static func standardBase64<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var chars = Array(text.utf8)
        var padding = 0
        while chars.last == UInt8(ascii: "=") { chars.removeLast(); padding += 1 }
        guard !chars.isEmpty, padding <= 2, padding == 0 || (chars.count + padding) % 4 == 0 else { return nil }
        var url: [UInt8] = []
        url.reserveCapacity(chars.count)
        for c in chars {
            switch c {
            case UInt8(ascii: "+"): url.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): url.append(UInt8(ascii: "_"))
            case UInt8(ascii: "-"), UInt8(ascii: "_"): return nil
            default: url.append(c)
            }
        }
        return Base64URL.decode(String(decoding: url, as: UTF8.self))
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
