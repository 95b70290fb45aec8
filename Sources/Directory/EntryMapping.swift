#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Identifiers
import Registry
import Storage

// The registry's records as directory entries, under the schema of Packaging/ldap
// (Packaging/ldap/README has the table; Tests/Integration/ldaprecords.py is the same mapping
// in Python, which the tests use to check this one against the real slapd).

enum EntryMapping {
    static let userAttributes = ["objectClass", "pamPasskeyUserName", "pamPasskeyOffer", "pamPasskeyUnansweredOffers",
                                 "pamPasskeyLastDeclined"]
    static let credentialAttributes = [
        "pamPasskeyCredentialID", "pamPasskeyPublicKey", "pamPasskeyAlgorithm", "pamPasskeyKind", "pamPasskeyHostID",
        "pamPasskeyHostName", "pamPasskeyAAGUID", "pamPasskeyBackupEligible", "pamPasskeyBackedUp", "pamPasskeyTransport",
        "pamPasskeySignCount", "pamPasskeyCreatedAt", "pamPasskeyCreatedHost", "pamPasskeyLastUsedAt", "pamPasskeyLastUsedHost",
        "pamPasskeyLabel", "pamPasskeyState", "pamPasskeyRevokedAt", "pamPasskeyRevokedBy", "pamPasskeyRegressionAt",
        "pamPasskeyRegressionHost", "pamPasskeyRegressionStored", "pamPasskeyRegressionReceived",
        "pamPasskeyAttestationObject", "pamPasskeyClientDataJSON",
    ]

    // MARK: - Names

    /// RFC 4514: the specials escaped with a backslash, a leading space or # and a trailing space too.
    static func rdnValue(_ value: String) -> String {
        var out = ""
        for c in value { out += ",+\"\\<>;=".contains(c) ? "\\" + String(c) : String(c) }
        if out.hasPrefix(" ") || out.hasPrefix("#") { out = "\\" + out }
        if out.hasSuffix(" ") && !out.hasSuffix("\\ ") { out = String(out.dropLast()) + "\\ " }
        return out
    }

    static func userDN(_ user: String, base: String) -> String { "pamPasskeyUserName=\(rdnValue(user)),\(base)" }

    /// Credential ids are base64url: no character of theirs needs escaping.
    static func credentialDN(_ user: String, _ id: CredentialID, base: String) -> String {
        "pamPasskeyCredentialID=\(id.text),\(userDN(user, base: base))"
    }

    // MARK: - Values

    /// EpochSeconds as GeneralizedTime: UTC, whole seconds.
    static func generalizedTime(_ t: EpochSeconds) -> String {
        var time = time_t(t)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = String(parts.tm_year + 1900)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + two(parts.tm_mon + 1) + two(parts.tm_mday)
            + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "Z"
    }

    static func epoch(_ text: String?) -> EpochSeconds? {
        guard let text else { return nil }
        let d = Array(text.utf8)
        guard d.count == 15, d[14] == UInt8(ascii: "Z"), d[..<14].allSatisfy({ (48...57).contains($0) }) else { return nil }
        func n(_ r: Range<Int>) -> Int32 { d[r].reduce(0) { $0 * 10 + Int32($1 - 48) } }
        var parts = tm()
        parts.tm_year = n(0..<4) - 1900
        parts.tm_mon = n(4..<6) - 1
        parts.tm_mday = n(6..<8)
        parts.tm_hour = n(8..<10)
        parts.tm_min = n(10..<12)
        parts.tm_sec = n(12..<14)
        return EpochSeconds(timegm(&parts))
    }

    /// RFC 3986 percent-encoding of every byte but the unreserved characters.
    static func percentEncoded(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func percentDecoded(_ s: Substring) -> String {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 65...70: c - 55
            case 97...102: c - 87
            default: nil
            }
        }
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let h = hexValue(b[i + 1]), let l = hexValue(b[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// TIME ANSWER ID SERVICE HOST: the id keeps two otherwise equal offers two values. A
    /// host recording an offer draws it at random.
    static func offerValue(time: EpochSeconds, answer: OfferAnswer, service: String, host: String) -> String {
        offerValue(time: time, answer: answer, service: service, host: host, token: SecureRandom.bytes(8))
    }

    static func offerValue(time: EpochSeconds, answer: OfferAnswer, service: String, host: String, token: [UInt8]) -> String {
        let hex = Array("0123456789abcdef")
        let id = String(token.prefix(8).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
        return "\(generalizedTime(time)) \(answer.rawValue) \(id) \(percentEncoded(service)) \(percentEncoded(host))"
    }

    /// A record's offer log as values, in its order, with ids derived from the user, the
    /// offer's place in the log and the offer itself: exporting the same record again gives
    /// the same values, which the directory then already has.
    static func offerValues(_ record: UserRecord) -> [String] {
        (record.offers?.recent ?? []).enumerated().map { i, o in
            let seed = "\(record.user)\n\(i)\n\(o.time)\n\(o.answer.rawValue)\n\(o.service)\n\(o.hostName)"
            return offerValue(time: o.time, answer: o.answer, service: o.service, host: o.hostName, token: SHA256.hash(Array(seed.utf8)))
        }
    }

    static func offer(from value: String) -> OfferRecord? {
        let f = value.split(separator: " ", omittingEmptySubsequences: false)
        guard f.count == 5, let t = epoch(String(f[0])), let answer = OfferAnswer(rawValue: String(f[1])) else { return nil }
        return OfferRecord(time: t, hostName: percentDecoded(f[4]), service: percentDecoded(f[3]), answer: answer)
    }

    static func state(_ c: CredentialRecord) -> String {
        c.revoked ? "revoked" : c.signCountRegression != nil ? "suspect" : "active"
    }

    // MARK: - Record -> entries

    static func userEntry(_ user: String) -> [(String, [[UInt8]])] {
        [("objectClass", [Array("pamPasskeyUser".utf8)]), ("pamPasskeyUserName", [Array(user.utf8)])]
    }

    static func credentialEntry(_ c: CredentialRecord) -> [(String, [[UInt8]])] {
        func t(_ s: String) -> [[UInt8]] { s.isEmpty ? [] : [Array(s.utf8)] }
        func b(_ s: String) -> [[UInt8]] { s.isEmpty ? [] : [Base64URL.decode(s) ?? []] }
        var attrs: [(String, [[UInt8]])] = [
            ("objectClass", t("pamPasskeyCredential")),
            ("pamPasskeyCredentialID", t(c.id.text)),
            ("pamPasskeyPublicKey", b(c.publicKey)),
            ("pamPasskeyAlgorithm", t(String(c.algorithm))),
            ("pamPasskeyKind", t(c.kind.rawValue)),
            ("pamPasskeyHostID", t(c.hostID)),
            ("pamPasskeyHostName", t(c.hostName)),
            ("pamPasskeyAAGUID", t(c.aaguid)),
            ("pamPasskeyBackupEligible", t(c.backupEligible ? "TRUE" : "FALSE")),
            ("pamPasskeyBackedUp", t(c.backedUp ? "TRUE" : "FALSE")),
            ("pamPasskeyTransport", c.transports.filter { !$0.isEmpty }.map { Array($0.utf8) }),
            ("pamPasskeySignCount", t(String(c.signCount))),
            ("pamPasskeyCreatedAt", t(generalizedTime(c.created.time))),
            ("pamPasskeyCreatedHost", t(c.created.host)),
            ("pamPasskeyLabel", t(c.label)),
            ("pamPasskeyState", t(state(c))),
            ("pamPasskeyAttestationObject", b(c.attestationObject)),
            ("pamPasskeyClientDataJSON", b(c.clientDataJSON)),
        ]
        if let u = c.lastUsed {
            attrs += [("pamPasskeyLastUsedAt", t(generalizedTime(u.time))), ("pamPasskeyLastUsedHost", t(u.host))]
        }
        if let at = c.revokedAt { attrs.append(("pamPasskeyRevokedAt", t(generalizedTime(at)))) }
        if let by = c.revokedBy { attrs.append(("pamPasskeyRevokedBy", t(by))) }
        if let r = c.signCountRegression {
            attrs += [("pamPasskeyRegressionAt", t(generalizedTime(r.time))), ("pamPasskeyRegressionHost", t(r.host)),
                      ("pamPasskeyRegressionStored", t(String(r.stored))), ("pamPasskeyRegressionReceived", t(String(r.received)))]
        }
        return attrs.filter { !$0.1.isEmpty }
    }

    // MARK: - Entries -> record

    struct Unreadable: Error, CustomStringConvertible {
        let dn: String
        let why: String
        var description: String { "entry \(dn): \(why)" }
    }

    /// One subtree search under the user's entry as the registry's record. A credential entry
    /// that does not make a usable record is an error naming it: it could never match a
    /// signature, and a record silently missing it would say "no passkey" where there is one.
    static func record(user: UserName, from entries: [LDAPEntry]) throws(Unreadable) -> UserRecord {
        var record = UserRecord(user: user)
        for e in entries where e.texts("objectClass").contains(where: { $0.lowercased() == "pamPasskeyUser".lowercased() }) {
            // In time order; offers of the same second in the directory's order (the order
            // they were added in), so a log that went into the directory comes back the same.
            let offers = e.texts("pamPasskeyOffer").compactMap(offer(from:)).enumerated()
                .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
            if !offers.isEmpty || e.text("pamPasskeyUnansweredOffers") != nil {
                record.offers = OfferLog(recent: offers, unansweredInARow: Int(e.text("pamPasskeyUnansweredOffers") ?? "0") ?? 0,
                                         lastDeclined: epoch(e.text("pamPasskeyLastDeclined")))
            }
        }
        var credentials: [CredentialRecord] = []
        for e in entries where e.texts("objectClass").contains(where: { $0.lowercased() == "pamPasskeyCredential".lowercased() }) {
            credentials.append(try credential(from: e))
        }
        // The registry's order (UserRecord.add): by creation time, then id. The directory's
        // own order is not that (slapd returns the children of an entry by their RDN).
        record.credentials = credentials.sorted(by: UserRecord.registryOrder)
        return record
    }

    static func credential(from e: LDAPEntry) throws(Unreadable) -> CredentialRecord {
        func need(_ name: String) throws(Unreadable) -> String {
            guard let v = e.text(name) else { throw Unreadable(dn: e.dn, why: "\(name) is missing") }
            return v
        }
        func binary(_ name: String) -> String { e.values(name).first.map { Base64URL.encode($0) } ?? "" }
        let id: CredentialID
        do { id = try CredentialID(base64url: try need("pamPasskeyCredentialID")) } catch let error as Unreadable {
            throw error
        } catch {
            throw Unreadable(dn: e.dn, why: "\(error)")
        }
        guard let algorithm = Int(try need("pamPasskeyAlgorithm")) else { throw Unreadable(dn: e.dn, why: "pamPasskeyAlgorithm is not a number") }
        guard let kind = CredentialRecord.Kind(rawValue: try need("pamPasskeyKind")) else {
            throw Unreadable(dn: e.dn, why: "pamPasskeyKind is neither platform nor roaming")
        }
        guard let signCount = UInt32(try need("pamPasskeySignCount")) else {
            throw Unreadable(dn: e.dn, why: "pamPasskeySignCount is not a counter (0 to 4294967295)")
        }
        guard let created = epoch(try need("pamPasskeyCreatedAt")) else { throw Unreadable(dn: e.dn, why: "pamPasskeyCreatedAt is not a time") }
        let state = try need("pamPasskeyState")
        var c = CredentialRecord(id: id, publicKey: binary("pamPasskeyPublicKey"), algorithm: algorithm, kind: kind,
                                 hostID: try need("pamPasskeyHostID"), hostName: try need("pamPasskeyHostName"),
                                 aaguid: try need("pamPasskeyAAGUID"),
                                 backupEligible: e.text("pamPasskeyBackupEligible") == "TRUE",
                                 backedUp: e.text("pamPasskeyBackedUp") == "TRUE",
                                 transports: e.texts("pamPasskeyTransport"), signCount: signCount,
                                 created: HostEvent(time: created, host: e.text("pamPasskeyCreatedHost") ?? ""),
                                 label: e.text("pamPasskeyLabel") ?? "", revoked: state == "revoked",
                                 revokedAt: epoch(e.text("pamPasskeyRevokedAt")), revokedBy: e.text("pamPasskeyRevokedBy"),
                                 attestationObject: binary("pamPasskeyAttestationObject"),
                                 clientDataJSON: binary("pamPasskeyClientDataJSON"))
        if c.publicKey.isEmpty { throw Unreadable(dn: e.dn, why: "pamPasskeyPublicKey is missing") }
        if let t = epoch(e.text("pamPasskeyLastUsedAt")) { c.lastUsed = HostEvent(time: t, host: e.text("pamPasskeyLastUsedHost") ?? "") }
        if let t = epoch(e.text("pamPasskeyRegressionAt")) {
            c.signCountRegression = SignCountRegression(time: t, host: e.text("pamPasskeyRegressionHost") ?? "",
                                                        stored: UInt32(e.text("pamPasskeyRegressionStored") ?? "") ?? 0,
                                                        received: UInt32(e.text("pamPasskeyRegressionReceived") ?? "") ?? 0)
        }
        return c
    }
}
