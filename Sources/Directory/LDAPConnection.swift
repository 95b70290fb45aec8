#if canImport(Glibc)
import Glibc
#endif
import CLDAP
import Crypto

/// What the directory answered, or why it did not: libldap's result code and text.
struct LDAPFailure: Error, CustomStringConvertible {
    let code: Int32
    let operation: String
    let detail: String

    /// The connection is gone or never came (server down, timeout, connect error): every
    /// later operation would fail the same way, so the run stops and the queue stays.
    var isConnection: Bool { code < 0 || code == 51 || code == 52 || code == 3 || code == 85 }

    var description: String {
        let text = String(cString: ldap_err2string(code))
        return "\(operation): \(text) (\(code))" + (detail.isEmpty ? "" : ": \(detail)")
    }

    static let noSuchAttribute: Int32 = 16
    static let noSuchObject: Int32 = 32
    static let alreadyExists: Int32 = 68
    static let typeOrValueExists: Int32 = 20
    static let insufficientAccess: Int32 = 50
}

/// One entry of a search: its DN and its attributes' values as bytes.
struct LDAPEntry {
    let dn: String
    let attributes: [String: [[UInt8]]]

    func values(_ name: String) -> [[UInt8]] {
        attributes.first { $0.key.lowercased() == name.lowercased() }?.value ?? []
    }

    func text(_ name: String) -> String? { values(name).first.map { String(decoding: $0, as: UTF8.self) } }
    func texts(_ name: String) -> [String] { values(name).map { String(decoding: $0, as: UTF8.self) } }
}

/// One change of a modify.
struct LDAPChange {
    enum Operation: Int32 { case add = 0, delete = 1, replace = 2, increment = 3 }
    let operation: Operation
    let attribute: String
    let values: [[UInt8]]

    static func add(_ a: String, _ v: String) -> LDAPChange { LDAPChange(operation: .add, attribute: a, values: [Array(v.utf8)]) }
    static func delete(_ a: String, _ v: String) -> LDAPChange { LDAPChange(operation: .delete, attribute: a, values: [Array(v.utf8)]) }
    static func replace(_ a: String, _ v: String) -> LDAPChange { LDAPChange(operation: .replace, attribute: a, values: [Array(v.utf8)]) }
}

/// A libldap handle with both timeouts set on it (never process-wide): without
/// LDAP_OPT_NETWORK_TIMEOUT and LDAP_OPT_TIMEOUT a synchronous call against a hung server
/// waits for ever. The caller also kills this program at its deadline.
final class LDAPConnection {
    private let ld: OpaquePointer

    init(uri: String, timeoutSeconds: Int, caCertFile: String) throws(LDAPFailure) {
        var handle: OpaquePointer?
        let rc = ldap_initialize(&handle, uri)
        guard rc == LDAP_SUCCESS, let handle else { throw LDAPFailure(code: rc, operation: "ldap_initialize \(uri)", detail: "") }
        ld = handle
        var version = Int32(LDAP_VERSION3)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        var demand = Int32(LDAP_OPT_X_TLS_DEMAND)
        ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout)
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout)
        ldap_set_option(ld, LDAP_OPT_REFERRALS, nil)   // LDAP_OPT_OFF
        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)
        _ = caCertFile.withCString { ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, $0) }
        var newContext: Int32 = 0
        ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &newContext)
    }

    deinit { ldap_unbind_ext_s(ld, nil, nil) }

    /// A simple bind; `password` is wiped by the caller.
    func bindSimple(dn: String, password: inout [UInt8]) throws(LDAPFailure) {
        let rc = password.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cred = berval(bv_len: ber_len_t(buffer.count), bv_val: UnsafeMutableRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self))
            return ldap_sasl_bind_s(ld, dn, nil, &cred, nil, nil, nil)
        }
        guard rc == LDAP_SUCCESS else { throw LDAPFailure(code: rc, operation: "simple bind as \(dn)", detail: diagnostic()) }
    }

    /// SASL EXTERNAL: the identity the server maps from the TLS client certificate or the
    /// ldapi peer credentials. The credential must be an empty value that is present (absent
    /// credentials make slapd answer "SASL bind in progress").
    func bindExternal() throws(LDAPFailure) {
        // bv_val must not be nil either: libldap leaves credentials with a nil value out of the
        // request, and slapd then asks for another step.
        var nothing: CChar = 0
        let rc = withUnsafeMutablePointer(to: &nothing) { value -> Int32 in
            var empty = berval(bv_len: 0, bv_val: value)
            return ldap_sasl_bind_s(ld, nil, "EXTERNAL", &empty, nil, nil, nil)
        }
        guard rc == LDAP_SUCCESS else { throw LDAPFailure(code: rc, operation: "SASL EXTERNAL bind", detail: diagnostic()) }
    }

    /// SASL GSSAPI: Kerberos through Cyrus SASL's GSSAPI plugin. The caller has set
    /// KRB5_CONFIG, KRB5_CLIENT_KTNAME (MIT's client keytab: with no credentials cached,
    /// gss_init_sec_context gets initial credentials for the keytab's first principal itself;
    /// Kerberos.prepare gives it a keytab holding only the principal that binds)
    /// and KRB5CCNAME=MEMORY:… (those credentials never reach a disk or another process).
    ///
    /// LDAP_OPT_X_SASL_NOCANON: the service principal is ldap/<the host named in ldap_uri>,
    /// not ldap/<what a reverse lookup of its address says> (libldap's default, which turned
    /// ldap://127.0.0.1/ into ldap/<this machine's name>). Any further canonicalisation is krb5.conf's
    /// (dns_canonicalize_hostname, rdns), as for every other Kerberos client on the host.
    func bindGSSAPI() throws(LDAPFailure) {
        var on = pam_passkey_ldap_opt_on
        _ = withUnsafeMutablePointer(to: &on) { ldap_set_option(ld, LDAP_OPT_X_SASL_NOCANON, $0) }
        let rc = ldap_sasl_interactive_bind_s(ld, nil, "GSSAPI", nil, nil, LDAP_SASL_QUIET, pam_passkey_sasl_defaults, nil)
        guard rc == LDAP_SUCCESS else { throw LDAPFailure(code: rc, operation: "SASL GSSAPI bind", detail: diagnostic()) }
    }

    /// The SASL user name of the bind: for GSSAPI the Kerberos principal (host/FQDN@REALM).
    func saslUserName() -> String? {
        var name: UnsafeMutablePointer<CChar>?
        guard ldap_get_option(ld, LDAP_OPT_X_SASL_USERNAME, &name) == LDAP_SUCCESS, let name else { return nil }
        defer { ldap_memfree(name) }
        return String(cString: name)
    }

    /// Who the directory says this connection is (RFC 4532 "Who am I?"), without the "dn:"
    /// prefix: the entry the server mapped the bind to, e.g. through olcAuthzRegexp. Nil when
    /// the server does not answer the operation.
    func whoAmI() -> String? {
        var identity: UnsafeMutablePointer<berval>?
        guard ldap_whoami_s(ld, &identity, nil, nil) == LDAP_SUCCESS, let identity else { return nil }
        defer { ber_bvfree(identity) }
        let bv = identity.pointee
        guard let value = bv.bv_val else { return "" }
        let text = String(decoding: UnsafeRawBufferPointer(start: value, count: Int(bv.bv_len)), as: UTF8.self)
        return text.hasPrefix("dn:") ? String(text.dropFirst(3)) : text
    }

    enum Scope: Int32 { case base = 0, oneLevel = 1, subtree = 2 }

    func search(base: String, scope: Scope, filter: String, attributes: [String]) throws(LDAPFailure) -> [LDAPEntry] {
        var names = attributes.map { strdup($0) } + [nil]
        defer { for n in names { free(n) } }
        var result: OpaquePointer?
        let rc = ldap_search_ext_s(ld, base, scope.rawValue, filter, &names, 0, nil, nil, nil, 0, &result)
        defer { if let result { ldap_msgfree(result) } }
        guard rc == LDAP_SUCCESS else { throw LDAPFailure(code: rc, operation: "search \(base)", detail: diagnostic()) }
        var entries: [LDAPEntry] = []
        var entry = ldap_first_entry(ld, result)
        while let e = entry {
            var dn = ""
            if let p = ldap_get_dn(ld, e) { dn = String(cString: p); ldap_memfree(p) }
            var attrs: [String: [[UInt8]]] = [:]
            var ber: OpaquePointer?
            var name = ldap_first_attribute(ld, e, &ber)
            while let n = name {
                let key = String(cString: n)
                if let values = ldap_get_values_len(ld, e, n) {
                    var list: [[UInt8]] = []
                    var i = 0
                    while let v = values[i] {
                        let bv = v.pointee
                        list.append(bv.bv_val.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(bv.bv_len))) } ?? [])
                        i += 1
                    }
                    ldap_value_free_len(values)
                    attrs[key] = list
                }
                ldap_memfree(n)
                name = ldap_next_attribute(ld, e, ber)
            }
            if let ber { ber_free(ber, 0) }
            entries.append(LDAPEntry(dn: dn, attributes: attrs))
            entry = ldap_next_entry(ld, e)
        }
        return entries
    }

    func add(dn: String, attributes: [(String, [[UInt8]])]) throws(LDAPFailure) {
        let rc = withMods(attributes.map { LDAPChange(operation: .add, attribute: $0.0, values: $0.1) }) { ldap_add_ext_s(ld, dn, $0, nil, nil) }
        guard rc == LDAP_SUCCESS else { throw LDAPFailure(code: rc, operation: "add \(dn)", detail: diagnostic()) }
    }

    func modify(dn: String, _ changes: [LDAPChange]) throws(LDAPFailure) {
        let rc = withMods(changes) { ldap_modify_ext_s(ld, dn, $0, nil, nil) }
        guard rc == LDAP_SUCCESS else { throw LDAPFailure(code: rc, operation: "modify \(dn)", detail: diagnostic()) }
    }

    /// The changes as libldap's NULL-terminated LDAPMod array of berval values, for `body`.
    private func withMods(_ changes: [LDAPChange], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<LDAPMod>?>) -> Int32) -> Int32 {
        var allocations: [UnsafeMutableRawPointer] = []
        defer { for a in allocations { free(a) } }
        var mods: [UnsafeMutablePointer<LDAPMod>?] = []
        // Out of memory: libldap's own code for it, as if the library had failed to allocate.
        let noMemory = Int32(-10)   // LDAP_NO_MEMORY
        func allocate<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T>? {
            guard let raw = malloc(max(count, 1) * MemoryLayout<T>.stride) else { return nil }
            allocations.append(raw)
            return raw.bindMemory(to: T.self, capacity: max(count, 1))
        }
        for change in changes {
            guard let values = allocate(UnsafeMutablePointer<berval>?.self, change.values.count + 1) else { return noMemory }
            for (i, v) in change.values.enumerated() {
                guard let data = allocate(CChar.self, v.count), let bv = allocate(berval.self, 1) else { return noMemory }
                v.withUnsafeBytes { if let b = $0.baseAddress { memcpy(data, b, v.count) } }
                bv.initialize(to: berval(bv_len: ber_len_t(v.count), bv_val: data))
                values[i] = bv
            }
            values[change.values.count] = nil
            guard let type = strdup(change.attribute) else { return noMemory }
            allocations.append(UnsafeMutableRawPointer(type))
            guard let mod = allocate(LDAPMod.self, 1) else { return noMemory }
            var m = LDAPMod()
            m.mod_op = change.operation.rawValue | Int32(LDAP_MOD_BVALUES)
            m.mod_type = type
            m.mod_vals.modv_bvals = values
            mod.initialize(to: m)
            mods.append(mod)
        }
        mods.append(nil)
        return mods.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map(body) ?? noMemory }
    }

    /// The server's diagnostic message for the last operation, if any.
    private func diagnostic() -> String {
        var message: UnsafeMutablePointer<CChar>?
        guard ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &message) == LDAP_SUCCESS, let message else { return "" }
        defer { ldap_memfree(message) }
        return String(cString: message)
    }
}
