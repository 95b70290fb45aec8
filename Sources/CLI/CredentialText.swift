import Identifiers
import Intelligence
import Registry
import JSON

/// How passkeyctl shows a registry credential: one table row, or a JSON object whose keys
/// are stable (scripts read them) and in which an absent value is `null`.
extension CredentialRecord {
    /// "suspect": a signature with a counter that went backwards was refused (a replay or a
    /// cloned authenticator); revoke it if the user cannot explain it.
    var state: String { revoked ? "revoked" : signCountRegression != nil ? "suspect" : "active" }

    /// "2026-03-14 09:26" (UTC, as every time passkeyctl prints).
    static func time(_ seconds: Int64?) -> String {
        guard let seconds else { return "never" }
        let text = utcText(seconds)
        return text.hasSuffix(" UTC") ? String(text.dropLast(4)) : text
    }

    static let tableHeader = ["ID", "HOST", "KIND", "CREATED", "LAST USED", "SIGNS", "STATE", "LABEL"]

    var tableRow: [String] {
        // Another system's credential (FreeIPA's): HOST names that system, CREATED is unknown
        // (an ipaPassKey value carries no time), and the counter and last use are this host's.
        [id.text, hostName, kind.rawValue, isForeign ? "-" : Self.time(created.time), Self.time(lastUsed?.time), String(signCount),
         state, label]
    }

    /// With the registration as stored (attestationObject, clientDataJSON), so any WebAuthn
    /// library can verify it again.
    func json(user: String) -> JSONValue {
        .object([
            ("id", .string(id.text)),
            ("user", .string(user)),
            ("host_name", .string(hostName)),
            ("host_id", .string(hostID)),
            ("kind", .string(kind.rawValue)),
            ("state", .string(state)),
            ("label", .string(label)),
            ("created", .int(created.time)),
            ("created_on", .string(created.host)),
            ("last_used", .int(lastUsed?.time)),
            ("last_used_on", .string(lastUsed?.host)),
            ("sign_count", .int(Int64(signCount))),
            ("revoked_at", .int(revokedAt)),
            ("revoked_by", .string(revokedBy)),
            ("sign_count_regression", signCountRegression.map { r in
                .object([("time", .int(r.time)), ("host", .string(r.host)), ("stored", .int(Int64(r.stored))),
                         ("received", .int(Int64(r.received)))])
            } ?? .null),
            ("aaguid", .string(aaguid)),
            ("algorithm", .int(algorithm)),
            ("backup_eligible", .bool(backupEligible)),
            ("backed_up", .bool(backedUp)),
            ("transports", .array(transports.map { .string($0) })),
            ("public_key", .string(publicKey)),
            ("attestation_object", .string(attestationObject)),
            ("client_data_json", .string(clientDataJSON)),
            ("source", .string(source?.rawValue)),
            ("rp_id", .string(rpID)),
        ])
    }
}


