#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Identifiers
import Policy
import Registry
import Storage

/// Why a run stopped: the directory (unreachable, refused the bind, an unreadable entry) or
/// this host (its policy, its password file, its cache).
struct DirectoryRunError: Error, CustomStringConvertible {
    let description: String
    /// An entry that does not make a record (the connection is fine): a copy of every user
    /// reports it and goes on with the others.
    var entryUnreadable = false
}

/// Who binds instead of this host: an administrator, for `export` and `import`.
struct AdministratorBind {
    let dn: String
    let passwordFile: String
}

/// This host's side of the directory, bound as this host: sends queued writes, reads records
/// into the cache. One connection per run.
final class DirectoryClient {
    let connection: LDAPConnection
    let base: String
    /// FreeIPA's users (ldap_ipa_users_base; empty: FreeIPA's security keys are not read) and
    /// the relying party id they were registered for (FreeIPAPassKeys.swift).
    let ipaUsersBase: String
    let ipaDomain: String?
    let queue: WriteQueue
    let cache: DocumentStore<UserRecord>
    let cacheDirectory: String
    let lockSeconds: Int64
    /// What was refused for good, one line each (logged; the entries are kept as .rejected-*).
    var rejected: [String] = []
    let bind: DirectoryBind
    /// ldap_bind = gssapi: the principal the bind uses (ldap_krb5_principal, or the keytab's first).
    private(set) var principal: String?

    init(policy: Policy, administrator: AdministratorBind? = nil) throws(DirectoryRunError) {
        let uri = policy[.ldapURI]
        base = policy[.ldapBase]
        ipaUsersBase = policy[.ldapIPAUsersBase]
        ipaDomain = policy[.ldapIPADomain].isEmpty ? FreeIPAPassKeys.domain(fromBase: policy[.ldapIPAUsersBase]) : policy[.ldapIPADomain]
        guard !uri.isEmpty else { throw DirectoryRunError(description: "ldap_uri is not set in the policy file") }
        guard !base.isEmpty else { throw DirectoryRunError(description: "ldap_base is not set in the policy file") }
        queue = WriteQueue(stateDirectory: policy[.stateDir])
        lockSeconds = Int64(max(1, policy[.registryTimeout]))
        cacheDirectory = policy[.registryCacheDir]
        cache = DocumentStore(directory: cacheDirectory, fileMode: 0o644, maxBytes: FileRegistry.maxFileBytes,
                              lockTimeout: .seconds(5), missingDirectory: .isEmpty(createMode: 0o755))
        // An administrator's bind (export, import) is simple, whatever the host's is.
        bind = administrator == nil ? policy[.ldapBind] : .simple
        // The keytab and krb5.conf are checked before any connection: a host that cannot
        // bind says why without waiting for the network.
        if bind == .gssapi { principal = try Kerberos.prepare(keytab: policy[.ldapKeytab], principal: policy[.ldapKrb5Principal],
                                                              krb5Conf: policy[.ldapKrb5Conf]) }
        do {
            connection = try LDAPConnection(uri: uri, timeoutSeconds: max(1, policy[.registryTimeout]),
                                            caCertFile: try MemoryFile.caCertificates(policy[.ldapTLSCACert], uri: uri))
            if let administrator {
                var password = try Self.password(administrator.passwordFile)
                defer { wipe(&password) }
                try connection.bindSimple(dn: administrator.dn, password: &password)
                return
            }
            switch bind {
            case .saslExternal:
                try connection.bindExternal()
            case .simple:
                var password = try Self.password(policy[.ldapPasswordFile])
                defer { wipe(&password) }
                try connection.bindSimple(dn: policy[.ldapBindDN], password: &password)
            case .gssapi:
                do {
                    try Kerberos.withDeadline(seconds: max(1, policy[.registryTimeout]), uri: uri, principal: principal ?? "",
                                              keytab: policy[.ldapKeytab], krb5Conf: policy[.ldapKrb5Conf]) { () throws(LDAPFailure) in
                        try connection.bindGSSAPI()
                    }
                } catch {
                    throw DirectoryRunError(description: "\(error); " + Kerberos.fix(code: error.code, diagnostic: error.detail,
                        principal: principal ?? "", krb5Conf: policy[.ldapKrb5Conf], keytab: policy[.ldapKeytab]))
                }
            }
        } catch let e as LDAPFailure {
            // libldap says no more when the TLS handshake fails (a certificate that does not
            // chain to the CA file, or does not name the host) than when nothing answers.
            let hint = MemoryFile.usesTLS(uri) && e.code == -1
                ? "; over ldaps:// this is also what a server certificate that does not chain to ldap_tls_cacert (\(policy[.ldapTLSCACert])) or does not name the host in ldap_uri looks like: check with openssl s_client -connect HOST:PORT -CAfile \(policy[.ldapTLSCACert]) -verify_hostname HOST"
                : ""
            throw DirectoryRunError(description: "\(e)" + hint)
        } catch let e as DirectoryRunError {
            throw e
        } catch {
            throw DirectoryRunError(description: "\(error)")
        }
    }

    /// As whom this host is bound, for `check` (passkeyctl status): the bind DN, SASL
    /// EXTERNAL, or the Kerberos principal; then, when the server says something else, the
    /// directory identity it mapped the bind to ("Who am I?").
    func boundAs(bindDN: String) -> String {
        let who: String
        switch bind {
        case .simple: who = bindDN
        case .saslExternal: who = "SASL EXTERNAL"
        case .gssapi: who = connection.saslUserName() ?? principal ?? "GSSAPI"
        }
        guard let identity = connection.whoAmI(), !identity.isEmpty, identity.lowercased() != who.lowercased() else { return who }
        return who + "; directory identity " + identity + (Kerberos.unmappedNote(identity).map { " (\($0))" } ?? "")
    }

    /// The host account's password: a root-only file (0600), one line.
    static func password(_ path: String) throws(DirectoryRunError) -> [UInt8] {
        guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else {
            throw DirectoryRunError(description: "password file \(path) is not an absolute path; fix: give its full path")
        }
        let dirPath = slash == path.startIndex ? "/" : String(path[..<slash])
        var bytes: [UInt8]
        do {
            guard let read = try SecureDirectory.open(dirPath).read(String(path[path.index(after: slash)...]), maxBytes: 4096, secret: true) else {
                throw DirectoryRunError(description: "ldap_password_file \(path) does not exist")
            }
            bytes = read
        } catch let e as DirectoryRunError {
            throw e
        } catch {
            throw DirectoryRunError(description: "ldap_password_file: \(error)")
        }
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        return bytes
    }

    // MARK: - Reading

    /// The user's entry and credentials, in one subtree search; an empty record when the
    /// directory has no entry for the user.
    func fetch(_ user: UserName) throws(DirectoryRunError) -> UserRecord {
        let entries: [LDAPEntry]
        do {
            entries = try connection.search(base: EntryMapping.userDN(user.rawValue, base: base), scope: .subtree,
                                            filter: "(objectClass=*)",
                                            attributes: EntryMapping.userAttributes + EntryMapping.credentialAttributes)
        } catch where error.code == LDAPFailure.noSuchObject {
            return UserRecord(user: user)
        } catch {
            throw DirectoryRunError(description: "\(error)")
        }
        do { return try EntryMapping.record(user: user, from: entries) } catch {
            throw DirectoryRunError(description: "\(error)", entryUnreadable: true)
        }
    }

    /// The user's security keys registered in FreeIPA (ipaPassKey on uid=USER under
    /// ldap_ipa_users_base), on this connection, as roaming credentials marked as FreeIPA's.
    /// A value that cannot be used is skipped with a log line naming the user and why; no
    /// FreeIPA entry, or no values, adds nothing. Only read: nothing is ever written there.
    private func addFreeIPAPassKeys(of user: UserName, to record: inout UserRecord) throws(DirectoryRunError) {
        let dn = FreeIPAPassKeys.userDN(user.rawValue, usersBase: ipaUsersBase)
        let entries: [LDAPEntry]
        do {
            entries = try connection.search(base: dn, scope: .base, filter: "(objectClass=*)", attributes: [FreeIPAPassKeys.attribute])
        } catch where error.code == LDAPFailure.noSuchObject {
            return
        } catch where !error.isConnection {
            // A refusal about FreeIPA's part alone (a malformed ldap_ipa_users_base, no access):
            // logged, and the registry's own record is still refreshed.
            log(LOG_WARNING, "user \"\(user.rawValue)\": FreeIPA's security keys not read: \(error)")
            return
        } catch {
            throw DirectoryRunError(description: "\(error)")
        }
        let values = entries.flatMap { $0.texts(FreeIPAPassKeys.attribute) }
        guard !values.isEmpty else { return }
        guard let rpID = ipaDomain else {
            log(LOG_WARNING, "user \"\(user.rawValue)\": \(values.count) FreeIPA ipaPassKey values not used: ldap_ipa_domain is not set and ldap_ipa_users_base has no dc= parts to derive it from")
            return
        }
        for (n, value) in values.enumerated() {
            do {
                let c = try FreeIPAPassKeys.credential(from: value, rpID: rpID)
                if !record.add(c) {
                    log(LOG_WARNING, "user \"\(user.rawValue)\": FreeIPA ipaPassKey value \(n + 1) of \(values.count) skipped: its credential id \(c.id.short) is already in the record (the registry's own, or an earlier value)")
                }
            } catch {
                log(LOG_WARNING, "user \"\(user.rawValue)\": FreeIPA ipaPassKey value \(n + 1) of \(values.count) skipped: \(error)")
            }
        }
    }

    /// Writes the directory's record of `user` (and, with ldap_ipa_users_base, the user's
    /// FreeIPA security keys) into the cache with the writes still queued for that user
    /// applied on top (the cache shows what this host did, sent or not), and the sync time
    /// beside it. Under the user's lock, which every writer of the cache takes.
    func refresh(_ user: UserName) throws(DirectoryRunError) {
        var fetched = try fetch(user)
        if !ipaUsersBase.isEmpty { try addFreeIPAPassKeys(of: user, to: &fetched) }
        do {
            try cache.update(user) { record in
                let previous = record
                record = fetched
                FreeIPAPassKeys.keepLocalUse(of: previous, in: &record)
                for e in try queue.entries().entries where e.write.user == user.rawValue { e.write.apply(to: &record) }
            }
            let dir = try SecureDirectory.create(cacheDirectory, mode: 0o755, parents: false)
            try dir.replace(DirectoryRegistry.syncFileName(user), with: Array("\(currentEpochSeconds())\n".utf8), mode: 0o644)
        } catch {
            throw DirectoryRunError(description: "cache \(cacheDirectory): \(error)")
        }
    }

    /// Every user the directory has.
    func users() throws(DirectoryRunError) -> [UserName] {
        do {
            return try connection.search(base: base, scope: .oneLevel, filter: "(objectClass=pamPasskeyUser)",
                                         attributes: ["pamPasskeyUserName"])
                .compactMap { $0.text("pamPasskeyUserName") }.compactMap { try? UserName(validating: $0) }
        } catch {
            throw DirectoryRunError(description: "\(error)")
        }
    }

    // MARK: - Writing

    /// Sends every queued write, oldest first, removing each the directory took. A write the
    /// directory refuses for good (access, schema) is set aside; a lost connection stops the
    /// run with the rest still queued.
    ///
    /// One sender at a time (the lock `.push.lock` in the queue directory): two runs sending
    /// the same offer would log it twice. A run waits for the lock as long as its caller lets
    /// it live (`registry_timeout`).
    func push() throws(DirectoryRunError) -> Int {
        let dir: SecureDirectory
        do { dir = try SecureDirectory.create(queue.directory, mode: 0o700, parents: false) } catch {
            throw DirectoryRunError(description: "queue: \(error)")
        }
        do {
            return try dir.withLock("push", timeout: .seconds(lockSeconds)) { _ in try pushLocked() }
        } catch let e as DirectoryRunError {
            throw e
        } catch {
            throw DirectoryRunError(description: "queue: \(error)")
        }
    }

    private func pushLocked() throws(DirectoryRunError) -> Int {
        let pending: [WriteQueue.Entry]
        do { pending = try queue.entries().entries } catch { throw DirectoryRunError(description: "queue: \(error)") }
        var sent = 0
        for entry in pending {
            do {
                try send(entry.write)
                try queue.remove(entry)
                sent += 1
            } catch let e as LDAPFailure where !e.isConnection {
                rejected.append("\(entry.name) (\(entry.write.kind.rawValue) for \(entry.write.user)): \(e)")
                try? queue.reject(entry)
            } catch let e as LDAPFailure {
                throw DirectoryRunError(description: "\(e)")
            } catch {
                throw DirectoryRunError(description: "queue \(queue.directory): \(error)")
            }
        }
        return sent
    }

    private func send(_ w: PendingWrite) throws(LDAPFailure) {
        let ids = w.credentialIDs ?? []
        switch w.kind {
        case .register:
            try ensureUser(w.user)
            if let c = w.credential {
                do { try connection.add(dn: EntryMapping.credentialDN(w.user, c.id, base: base), attributes: EntryMapping.credentialEntry(c)) } catch where error.code == LDAPFailure.alreadyExists {}
            }
            for id in ids { try revoke(w.user, id, at: w.time, by: "replaced on \(w.host)") }
        case .login:
            if let id = ids.first, let n = w.signCount { try recordLogin(w.user, id, signCount: n, at: w.time, host: w.host) }
        case .regression:
            guard let id = ids.first, let r = w.regression else { return }
            let dn = EntryMapping.credentialDN(w.user, id, base: base)
            try connection.modify(dn: dn, [
                .replace("pamPasskeyRegressionAt", EntryMapping.generalizedTime(r.time)), .replace("pamPasskeyRegressionHost", r.host),
                .replace("pamPasskeyRegressionStored", String(r.stored)), .replace("pamPasskeyRegressionReceived", String(r.received)),
            ])
            // The state follows for a credential of this host's; of a security key registered
            // elsewhere the access rules let this host write the record above but not the state
            // (the record is what makes the credential suspect when read back).
            do { try connection.modify(dn: dn, [.delete("pamPasskeyState", "active"), .add("pamPasskeyState", "suspect")]) } catch where error.code == LDAPFailure.noSuchAttribute || error.code == LDAPFailure.insufficientAccess {}
        case .revoke:
            for id in ids { try revoke(w.user, id, at: w.time, by: w.revokedBy ?? w.host) }
        case .offer:
            guard let answer = w.answer else { return }
            try ensureUser(w.user)
            let dn = EntryMapping.userDN(w.user, base: base)
            try connection.modify(dn: dn, [.add("pamPasskeyOffer",
                                                EntryMapping.offerValue(time: w.time, answer: answer, service: w.service ?? "", host: w.host))])
            if answer == .unanswered {
                // RFC 4525 increment: two hosts counting at once both count.
                do { try connection.modify(dn: dn, [LDAPChange(operation: .increment, attribute: "pamPasskeyUnansweredOffers", values: [Array("1".utf8)])]) } catch where !error.isConnection {
                    try connection.modify(dn: dn, [.add("pamPasskeyUnansweredOffers", "1")])
                }
            } else {
                var changes: [LDAPChange] = [.replace("pamPasskeyUnansweredOffers", "0")]
                if answer == .declined { changes.append(.replace("pamPasskeyLastDeclined", EntryMapping.generalizedTime(w.time))) }
                try connection.modify(dn: dn, changes)
            }
        }
    }

    private func ensureUser(_ user: String) throws(LDAPFailure) {
        do { try connection.add(dn: EntryMapping.userDN(user, base: base), attributes: EntryMapping.userEntry(user)) } catch where error.code == LDAPFailure.alreadyExists {}
    }

    private func credentialEntry(_ user: String, _ id: CredentialID, _ attributes: [String]) throws(LDAPFailure) -> LDAPEntry {
        let dn = EntryMapping.credentialDN(user, id, base: base)
        guard let e = try connection.search(base: dn, scope: .base, filter: "(objectClass=*)", attributes: attributes).first else {
            throw LDAPFailure(code: LDAPFailure.noSuchObject, operation: "search \(dn)", detail: "")
        }
        return e
    }

    /// The sign count as a compare-and-swap: `delete: old` + `add: new` in one modify fails
    /// with noSuchAttribute when another host moved it first; then read again and retry. The
    /// counter never moves backwards, so no update is lost and none is undone.
    private func recordLogin(_ user: String, _ id: CredentialID, signCount n: UInt32, at time: EpochSeconds, host: String) throws(LDAPFailure) {
        let dn = EntryMapping.credentialDN(user, id, base: base)
        var attempt = 0
        while true {
            let e = try credentialEntry(user, id, ["pamPasskeySignCount", "pamPasskeyLastUsedAt"])
            let current = e.text("pamPasskeySignCount") ?? "0"
            var changes: [LDAPChange] = []
            if let c = UInt32(current), n > c { changes += [.delete("pamPasskeySignCount", current), .add("pamPasskeySignCount", String(n))] }
            if EntryMapping.epoch(e.text("pamPasskeyLastUsedAt")).map({ time >= $0 }) ?? true {
                changes += [.replace("pamPasskeyLastUsedAt", EntryMapping.generalizedTime(time)), .replace("pamPasskeyLastUsedHost", host)]
            }
            if changes.isEmpty { return }
            do {
                try connection.modify(dn: dn, changes)
                return
            } catch where error.code == LDAPFailure.noSuchAttribute && attempt < 20 {
                attempt += 1
            }
        }
    }

    /// `delete: pamPasskeyState <old>` + `add: revoked`: the access rules let a host add
    /// "revoked" but never delete it, and the delete of the old value makes it a
    /// compare-and-swap too.
    private func revoke(_ user: String, _ id: CredentialID, at time: EpochSeconds, by who: String) throws(LDAPFailure) {
        let dn = EntryMapping.credentialDN(user, id, base: base)
        var attempt = 0
        while true {
            let e = try credentialEntry(user, id, ["pamPasskeyState", "pamPasskeyRevokedAt", "pamPasskeyRevokedBy"])
            let state = e.text("pamPasskeyState") ?? "active"
            if state == "revoked" { return }
            var changes: [LDAPChange] = [.delete("pamPasskeyState", state), .add("pamPasskeyState", "revoked")]
            if e.text("pamPasskeyRevokedAt") == nil { changes.append(.add("pamPasskeyRevokedAt", EntryMapping.generalizedTime(time))) }
            if e.text("pamPasskeyRevokedBy") == nil { changes.append(.add("pamPasskeyRevokedBy", who)) }
            do {
                try connection.modify(dn: dn, changes)
                return
            } catch where error.code == LDAPFailure.noSuchAttribute && attempt < 20 {
                attempt += 1
            }
        }
    }
}
