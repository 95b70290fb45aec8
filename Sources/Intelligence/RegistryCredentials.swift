import Registry

// The registry's records as the decision sees them.

extension CredentialSignal {
    /// Host names come from the shared registry, so whoever can write it chooses them; they
    /// are shown to users ("Your passkey is on …") and written to syslog. Only printable text
    /// passes, and at most 64 characters of it.
    public static func displayName(_ name: String) -> String {
        let printable = name.unicodeScalars.filter { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: return false
            default: return true
            }
        }
        let text = String(String.UnicodeScalarView(printable)).trimmingWhitespace()
        if text.isEmpty { return "an unnamed computer" }
        return text.count > 64 ? String(text.prefix(63)) + "…" : text
    }

    public init(record r: CredentialRecord) {
        self.init(id: r.id, kind: r.kind == .platform ? .platform : .roaming,
                  hostID: r.kind == .platform ? r.hostID : nil, hostName: r.kind == .platform ? Self.displayName(r.hostName) : nil,
                  backupEligible: r.backupEligible, backedUp: r.backedUp, aaguid: r.aaguid, transports: r.transports,
                  revoked: r.revoked, signCount: r.signCount, created: r.created.time, lastUsed: r.lastUsed?.time,
                  registeredIn: r.source?.displayName)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
