#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Identifiers
import Registry
import Storage

// passkeyctl registry export | import: a files registry (one JSON record per user) into the
// directory, and the directory's records back into a files registry — what a fleet does once
// when it moves its registry onto the directory it runs, or off it. Both copy every field of
// every record (the mapping of EntryMapping, both ways) and keep the order of credentials and
// offers, so a record that went into the directory and back is the same file, byte for byte.
//
// Neither overwrites: export adds only what the directory lacks (a user entry already there
// gets the credentials and offers it is missing; counters already there stay), and import
// writes only users the files registry does not have, or has the same. Both can be run again
// after an interruption and finish the job.

/// What a transfer did, user by user.
struct TransferReport {
    var users = 0
    var credentials = 0
    var offers = 0
    /// Users the other side already had exactly (import) or had an entry for (export: merged).
    var alreadyThere: [String] = []
    /// Users that could not be copied, with why: the run fails and names them.
    var refused: [String] = []

    func summary(verb: String, from: String, into: String) -> String {
        var text = "\(verb) \(users) users (\(credentials) credentials, \(offers) offers) from \(from) into \(into)"
        if !alreadyThere.isEmpty { text += "; \(alreadyThere.count) already there" }
        if !refused.isEmpty {
            let shown = refused.prefix(5).joined(separator: "; ")
            text += "; \(refused.count) refused: \(shown)" + (refused.count > 5 ? "; …" : "")
        }
        return text
    }
}

extension DirectoryClient {
    /// A files registry's records, stored as FileRegistry stores them.
    private static func filesRegistry(_ directory: String) -> DocumentStore<UserRecord> {
        DocumentStore(directory: directory, fileMode: 0o644, maxBytes: FileRegistry.maxFileBytes, lockTimeout: .seconds(5),
                      missingDirectory: .isAnError)
    }

    /// The files registry in `registryDirectory` into the directory.
    func export(from registryDirectory: String) throws(DirectoryRunError) -> TransferReport {
        let store = Self.filesRegistry(registryDirectory)
        let users: [UserName]
        do { users = try store.users() } catch { throw DirectoryRunError(description: "registry \(registryDirectory): \(error)") }
        var report = TransferReport()
        for user in users {
            let record: UserRecord
            do { record = try store.read(user) } catch {
                report.refused.append("\(user): \(error)")
                continue
            }
            do {
                let (merged, offers) = try exportUser(record)
                let credentials = try exportCredentials(record)
                report.users += 1
                report.offers += offers
                report.credentials += credentials
                if merged { report.alreadyThere.append(user.rawValue) }
            } catch where !error.isConnection {
                report.refused.append("\(user): \(error)")
            } catch {
                throw DirectoryRunError(description: "\(error) (export stopped at \(user); run it again to finish)")
            }
        }
        return report
    }

    /// The user's entry with the offer log; for an entry already there, the offers it lacks.
    /// Returns whether the entry was there, and how many offers were added.
    private func exportUser(_ record: UserRecord) throws(LDAPFailure) -> (merged: Bool, offers: Int) {
        let dn = EntryMapping.userDN(record.user, base: base)
        let offers = EntryMapping.offerValues(record)
        var attributes = EntryMapping.userEntry(record.user)
        if let log = record.offers {
            attributes.append(("pamPasskeyOffer", offers.map { Array($0.utf8) }))
            attributes.append(("pamPasskeyUnansweredOffers", [Array(String(log.unansweredInARow).utf8)]))
            if let declined = log.lastDeclined {
                attributes.append(("pamPasskeyLastDeclined", [Array(EntryMapping.generalizedTime(declined).utf8)]))
            }
        }
        do {
            try connection.add(dn: dn, attributes: attributes.filter { !$0.1.isEmpty })
            return (false, offers.count)
        } catch where error.code == LDAPFailure.alreadyExists {}
        // The entry is there (an earlier, interrupted export, or hosts already use the
        // directory): add each offer it does not have. The values are the same each run, so
        // one already there is refused as such and counted once.
        var added = 0
        for value in offers {
            do {
                try connection.modify(dn: dn, [.add("pamPasskeyOffer", value)])
                added += 1
            } catch where error.code == LDAPFailure.typeOrValueExists {}
        }
        return (true, added)
    }

    /// The credentials the directory lacks, in the record's order. Returns how many were added.
    private func exportCredentials(_ record: UserRecord) throws(LDAPFailure) -> Int {
        var added = 0
        for c in record.credentials {
            do {
                try connection.add(dn: EntryMapping.credentialDN(record.user, c.id, base: base), attributes: EntryMapping.credentialEntry(c))
                added += 1
            } catch where error.code == LDAPFailure.alreadyExists {}
        }
        return added
    }

    /// Every user the directory has into the files registry in `registryDirectory`.
    func importAll(into registryDirectory: String) throws(DirectoryRunError) -> TransferReport {
        let store = Self.filesRegistry(registryDirectory)
        do { _ = try SecureDirectory.open(registryDirectory) } catch {
            throw DirectoryRunError(description: "registry \(registryDirectory): \(error) (create it first: install -d -m 0755 -o root -g root \(registryDirectory))")
        }
        var report = TransferReport()
        for user in try users() {
            let fetched: UserRecord
            do { fetched = try fetch(user) } catch let e where e.entryUnreadable {
                report.refused.append("\(user): \(e)")
                continue
            }
            do {
                let outcome = try store.update(user) { (record: inout UserRecord) throws(TransferConflict) -> Bool in
                    if record == fetched { return true }
                    guard record == UserRecord.empty(for: user) else { throw TransferConflict() }
                    record = fetched
                    return false
                }
                if outcome { report.alreadyThere.append(user.rawValue) }
                report.users += 1
                report.credentials += fetched.credentials.count
                report.offers += fetched.offers?.recent.count ?? 0
            } catch is TransferConflict {
                report.refused.append("\(store.path(for: user)) exists and differs from the directory's record; move it aside to import it")
            } catch {
                report.refused.append("\(user): \(error)")
            }
        }
        return report
    }
}

private struct TransferConflict: Error {}
