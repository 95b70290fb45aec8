#if canImport(Glibc)
import Glibc
#endif
import CLDAP
import Crypto
import Storage

/// ldap_bind = gssapi: the host's Kerberos identity, from its keytab, for a SASL GSSAPI bind.
///
/// This program clears its environment, so libkrb5 would read /etc/krb5.conf and no client
/// keytab. Before the bind it checks the two files as root's files (the keytab as a secret:
/// root-owned, 0600) and points MIT krb5 at them:
///   KRB5_CONFIG         ldap_krb5_conf (realm, KDCs, canonicalisation)
///   KRB5_CLIENT_KTNAME  MIT's client keytab, from which gss_init_sec_context gets initial
///                       credentials itself (for the keytab's first principal) when the
///                       credential cache has none. Not ldap_keytab's path: an anonymous
///                       in-memory file (memfd, reached as /proc/self/fd/N) holding the keys
///                       of the one principal that binds, copied from the bytes checked here,
///                       so libkrb5 reads what was checked and nothing else
///   KRB5CCNAME          MEMORY:…: those credentials live in this process only; no ticket is
///                       written to disk or shared with whoever started the program (root's
///                       default, FILE:/tmp/krb5cc_0, is shared by every run and by an admin's
///                       kinit, and a ticket found there is used before the keytab)
enum Kerberos {
    static let memoryCache = "MEMORY:pam_passkey_directory"
    static let maxKeytabBytes = 1 << 20

    /// Checks `keytab` and `krb5Conf`, sets the environment libkrb5 reads, and returns the
    /// principal that binds: `principal` when set (name@REALM, or name for any realm), else
    /// the keytab's first.
    static func prepare(keytab: String, principal wanted: String, krb5Conf: String) throws(DirectoryRunError) -> String {
        var bytes = try readKeytab(keytab)
        defer { wipe(&bytes) }
        guard bytes.count >= 2, bytes[0] == 5, bytes[1] == 1 || bytes[1] == 2, let all = entries(bytes) else {
            throw DirectoryRunError(description: "ldap_keytab \(keytab) is not a Kerberos keytab; fix: klist -k \(keytab) says what it is; "
                                    + "extract the host's key again (ipa-getkeytab, adcli update, kadmin ktadd)")
        }
        guard let first = all.first else {
            throw DirectoryRunError(description: "ldap_keytab \(keytab) holds no key; fix: extract the host's key into it "
                                    + "(ipa-getkeytab -p host/FQDN -k \(keytab), or kadmin ktadd -k \(keytab) host/FQDN)")
        }
        let principal: String
        if wanted.isEmpty {
            principal = first.principal
        } else if let match = all.first(where: { $0.principal == wanted || (!wanted.utf8.contains(UInt8(ascii: "@")) && $0.principal.hasPrefix(wanted + "@")) }) {
            principal = match.principal
        } else {
            var names: [String] = []
            for e in all where !names.contains(e.principal) { names.append(e.principal) }
            throw DirectoryRunError(description: "ldap_keytab \(keytab) has no key for ldap_krb5_principal \(wanted) (it holds "
                                    + names.joined(separator: ", ") + "); fix: extract that principal's key into it, or set ldap_krb5_principal to one of those")
        }
        let conf: [UInt8]?
        do throws(StorageError) { conf = try SecureFile.read(krb5Conf, maxBytes: maxKeytabBytes) } catch {
            throw DirectoryRunError(description: "ldap_krb5_conf: \(error)")
        }
        guard conf != nil else {
            throw DirectoryRunError(description: "ldap_krb5_conf \(krb5Conf) does not exist; fix: install the realm's krb5.conf "
                                    + "(ipa-client-install and realm join write /etc/krb5.conf) or set ldap_krb5_conf")
        }
        // The keytab libkrb5 reads: the version, then every entry of that principal (one per
        // key type and version), in their order.
        var chosen = Array(bytes[0..<2])
        chosen.reserveCapacity(bytes.count)   // never reallocated: no unwiped copy of a key left behind
        defer { wipe(&chosen) }
        for e in all where e.principal == principal { chosen += bytes[e.range] }
        let copy = try MemoryFile.holding(chosen, name: "pam_passkey_keytab", what: "ldap_keytab")
        // The descriptor stays open for the life of the process: libkrb5 opens the path anew.
        setenv("KRB5_CONFIG", krb5Conf, 1)
        setenv("KRB5_CLIENT_KTNAME", "FILE:" + copy, 1)
        setenv("KRB5CCNAME", memoryCache, 1)
        return principal
    }

    private static func readKeytab(_ path: String) throws(DirectoryRunError) -> [UInt8] {
        guard let slash = path.lastIndex(of: "/") else {
            throw DirectoryRunError(description: "ldap_keytab \(path) is not an absolute path; fix: configure the full path")
        }
        let dirPath = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let read: [UInt8]?
        do throws(StorageError) {
            read = try SecureDirectory.open(dirPath).read(name, maxBytes: maxKeytabBytes, secret: true)
        } catch .secretNotPrivate(let p, let mode) {
            throw DirectoryRunError(description: "ldap_keytab \(p) can be read by group or others (mode \(octal(mode))): "
                                    + "whoever reads it can bind to the directory as this host, so it is not used; fix: chmod 600 \(p)")
        } catch .notFound(let missing) {
            throw DirectoryRunError(description: "ldap_keytab \(path): \(missing) does not exist; fix: join the host to the realm or set ldap_keytab")
        } catch {
            throw DirectoryRunError(description: "ldap_keytab: \(error)")
        }
        guard let bytes = read else {
            throw DirectoryRunError(description: "ldap_keytab \(path) does not exist; fix: join the host to the realm "
                                    + "(ipa-client-install, realm join) or extract its key: kadmin ktadd -k \(path) host/FQDN")
        }
        return bytes
    }

    /// The entries of a keytab (format 0x0502, big-endian, MIT's and Heimdal's; or the old
    /// 0x0501 in host byte order), each as its principal (name/instance@REALM) and the range
    /// of its bytes, size field included; holes left by removed entries are skipped. Nil when
    /// the file is cut short or malformed.
    static func entries(_ b: [UInt8]) -> [(principal: String, range: Range<Int>)]? {
        guard b.count >= 2, b[0] == 5 else { return nil }
        let v2 = b[1] == 2
        var i = 2
        func u16() -> Int? {
            guard i + 2 <= b.count else { return nil }
            defer { i += 2 }
            return v2 ? Int(b[i]) << 8 | Int(b[i + 1]) : Int(b[i + 1]) << 8 | Int(b[i])
        }
        func i32() -> Int64? {
            guard i + 4 <= b.count else { return nil }
            defer { i += 4 }
            let big = UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
            return Int64(Int32(bitPattern: v2 ? big : big.byteSwapped))
        }
        func counted() -> String? {
            guard let n = u16(), i + n <= b.count else { return nil }
            defer { i += n }
            return String(decoding: b[i..<(i + n)], as: UTF8.self)
        }
        var found: [(principal: String, range: Range<Int>)] = []
        while i < b.count {
            let start = i
            guard let size = i32(), Int64(b.count - i) >= abs(size) else { return nil }
            let end = i + Int(abs(size))
            if size == 0 { break }   // MIT: the end of the entries
            if size < 0 {   // a hole left by a removed entry
                i = end
                continue
            }
            guard var count = u16() else { return nil }
            if !v2 { count -= 1 }   // version 1 counts the realm as a component
            guard count > 0, let realm = counted() else { return nil }
            var parts: [String] = []
            for _ in 0..<count {
                guard let part = counted() else { return nil }
                parts.append(part)
            }
            guard i <= end else { return nil }
            found.append((parts.joined(separator: "/") + "@" + realm, start..<end))
            i = end
        }
        return found
    }

    /// What to do about a failed GSSAPI bind, from libldap's result code and the diagnostic
    /// Cyrus SASL and GSSAPI gave (MIT's minor status text is in it).
    static func fix(code: Int32, diagnostic: String, principal: String, krb5Conf: String, keytab: String) -> String {
        let text = Array(diagnostic.lowercased().utf8)
        func has(_ words: String) -> Bool {
            let needle = Array(words.utf8)
            guard !needle.isEmpty, needle.count <= text.count else { return needle.isEmpty }
            return (0...(text.count - needle.count)).contains { text[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        if has("cannot contact any kdc") || has("cannot find kdc") || has("cannot resolve network address for kdc") {
            return "no KDC of the realm answered; fix: check that the realm's KDCs run and that ldap_krb5_conf \(krb5Conf) names them ([realms] kdc = …)"
        }
        if has("server") && has("not found in kerberos database") {
            return "the KDC has no principal for the directory server (ldap/HOST, HOST as ldap_uri names it); fix: name the server in "
                + "ldap_uri as its Kerberos principal does, or create ldap/HOST and give slapd its key"
        }
        if has("client") && has("not found in kerberos database") {
            return "the KDC does not know \(principal), the principal that binds (from ldap_keytab \(keytab)); fix: create it "
                + "(ipa host-add, or kadmin addprinc -randkey) and extract its key into the keytab again"
        }
        if has("preauthentication failed") || has("integrity check failed") || has("key version") {
            return "the key in ldap_keytab \(keytab) for \(principal) is not the KDC's (an old key version?); fix: extract it again "
                + "(ipa-getkeytab, adcli update, kadmin ktadd)"
        }
        if has("clock skew") {
            return "this host's clock and the KDC's differ too much; fix: run an NTP client (chrony, systemd-timesyncd)"
        }
        if has("default realm") || has("realm not local") || has("cannot find realm") {
            return "ldap_krb5_conf \(krb5Conf) does not describe the realm of \(principal); fix: set default_realm and its [realms] entry"
        }
        if has("no worthy mechs") || (code == LDAP_NOT_SUPPORTED && has("mechanism")) {
            return "Cyrus SASL has no GSSAPI plugin on this host; fix: apt install libsasl2-modules-gssapi-mit"
        }
        if code == 7 {   // authMethodNotSupported
            return "the directory does not offer SASL GSSAPI; fix: give slapd its ldap/HOST keytab (KRB5_KTNAME) and the GSSAPI SASL plugin"
        }
        if code > 0 {
            // The server answered: the failure is on its side (its keytab, its SASL setup).
            return "the directory server refused the Kerberos bind (the reason above is its own); fix: on the server, give slapd "
                + "a keytab with ldap/HOST for the HOST ldap_uri names (KRB5_KTNAME in its environment), set olcSaslHost to that "
                + "HOST, and read its log"
        }
        return "fix: check what klist -k \(keytab) lists and that ldap_krb5_conf \(krb5Conf) describes its realm"
    }

    /// Runs `bind` (the GSSAPI bind) under a deadline of its own, a quarter of a second
    /// before the caller's (`registry_timeout`, counted from the program's start): MIT krb5
    /// waits for a KDC that does not answer as long as its retries take, and nothing bounds
    /// that but a timer. At the deadline the program says what hung and exits 2, so even a
    /// run without a caller's deadline (an administrator's) ends in time, with a line to act on.
    static func withDeadline<T>(seconds: Int, uri: String, principal: String, keytab: String, krb5Conf: String,
                                _ bind: () throws(LDAPFailure) -> T) throws(LDAPFailure) -> T {
        let millis = max(500, seconds * 1000 - 250)
        let line = "directory \(uri): SASL GSSAPI bind: no answer within \(decimalSeconds(millis)) s (registry_timeout): "
            + "a KDC that ldap_krb5_conf \(krb5Conf) names did not answer, or the directory hung in the bind; fix: check that the KDC "
            + "answers (KRB5_CONFIG=\(krb5Conf) kinit -k -t \(keytab) \(principal)), then the directory"
        _ = pam_passkey_arm_deadline(line, millis)
        defer { pam_passkey_disarm_deadline() }
        return try bind()
    }

    /// Milliseconds as seconds with two decimals: 1750 → "1.75".
    private static func decimalSeconds(_ millis: Int) -> String {
        let hundredths = String(millis % 1000 / 10)
        return "\(millis / 1000)." + String(repeating: "0", count: 2 - hundredths.count) + hundredths
    }

    private static func octal(_ mode: UInt32) -> String {
        let s = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// A note on the directory identity the server mapped the principal to, when no
    /// olcAuthzRegexp mapped it to an entry (the access rules then give it nothing).
    static func unmappedNote(_ identity: String) -> String? {
        let id = identity.lowercased()
        guard id.hasSuffix(",cn=gssapi,cn=auth") else { return nil }
        return "no olcAuthzRegexp maps it to this host's account (cn=HOST,ou=hosts,…): the access rules give it nothing"
    }
}
