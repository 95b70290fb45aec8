import Policy

/// The three renderings of `PolicyKeys.all`. Keys keep the table's order; a heading starts
/// wherever the group changes, so a key added to the table always appears (under "Other
/// settings" until someone gives it a group here).
enum KeyDocs {
    static let templateMarker = "@POLICY_KEYS@"

    /// Presentation only: which heading a key is shown under.
    static let groups: [String: String] = {
        let table: [(String, [String])] = [
            ("Identity and storage", ["rp_id", "host_name", "host_id_file", "registry_dir", "state_dir"]),
            ("A registry in an LDAP directory", ["registry", "ldap_uri", "ldap_base", "ldap_bind", "ldap_bind_dn",
                                                 "ldap_password_file", "ldap_keytab", "ldap_krb5_principal", "ldap_krb5_conf",
                                                 "ldap_tls_cacert", "ldap_ipa_users_base", "ldap_ipa_domain", "registry_cache_dir",
                                                 "directory_program", "registry_refresh", "registry_timeout",
                                                 "registry_max_offline", "registry_retry", "registry_online"]),
            ("Host authenticator", ["helper", "helper_timeout", "authenticator", "tcti"]),
            ("PIN rules", ["pin_min_length", "pin_max_attempts", "pin_kdf_cost"]),
            ("Sessions that never get a passkey prompt", ["remote_sessions", "noninteractive_services"]),
            ("Offering a passkey after a password login", ["append", "append_skip_services", "append_snooze_days",
                                                           "append_max_offers", "min_uid", "rollout_percent"]),
            ("Cancelled PIN prompts", ["cancel_threshold", "cancel_snooze"]),
            ("Logging", ["debug"]),
        ]
        var map: [String: String] = [:]
        for (title, names) in table { for name in names { map[name] = title } }
        return map
    }()

    /// Consecutive runs of keys under one heading, in the table's order.
    static func sections() -> [(title: String, keys: [AnyPolicyKey])] {
        var result: [(title: String, keys: [AnyPolicyKey])] = []
        for key in PolicyKeys.all {
            let title = groups[key.name] ?? "Other settings"
            if result.last?.title == title {
                result[result.count - 1].keys.append(key)
            } else {
                result.append((title, [key]))
            }
        }
        return result
    }

    /// The summary as a sentence: capitalised, with a full stop.
    static func sentence(_ summary: String) -> String {
        guard let first = summary.first else { return summary }
        let body = first.uppercased() + summary.dropFirst()
        return body.hasSuffix(".") ? body : body + "."
    }

    // MARK: - Sample policy file

    static func sampleConf() -> String {
        var out = """
        # /etc/security/pam_passkey.conf: the policy of pam_passkey(8).
        # Every key is described in pam_passkey.conf(5).
        #
        # One "key = value" per line; "#" starts a comment. Every key below is
        # commented out and shows its default: a key that is not set keeps its
        # default. An unknown key or a bad value is logged and its default used.
        # The defaults are the safe choice.
        #
        # The file must be owned by root and writable by nobody else, or the
        # module steps aside and only the password works (`passkeyctl status`
        # checks it).

        """
        for section in sections() {
            out += "\n# ---- \(section.title) ----\n"
            for key in section.keys {
                out += "\n"
                for line in wrap(sentence(key.summary), width: 76) { out += "# \(line)\n" }
                var accepted = "Accepted: \(key.accepted)."
                if let note = key.defaultNote { accepted += " Default: \(note)." }
                for line in wrap(accepted, width: 76) { out += "# \(line)\n" }
                out += key.defaultText.isEmpty ? "#\(key.name) =\n" : "#\(key.name) = \(key.defaultText)\n"
            }
        }
        return out
    }

    /// Greedy word wrap; a word longer than the width gets a line of its own.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    // MARK: - Man page section

    static func roff() -> String {
        var out = ""
        for section in sections() {
            out += ".SS \(roffEscape(section.title))\n"
            for key in section.keys {
                out += ".TP\n"
                out += "\\fB\(roffEscape(key.name, code: true))\\fR\n"
                out += "\(roffLine(sentence(key.summary)))\n"
                out += "Accepted: \(roffEscape(key.accepted)).\n"
                if let note = key.defaultNote {
                    out += "Default: \\fI\(roffEscape(note))\\fR.\n"
                } else {
                    out += "Default: \\fB\(roffEscape(key.defaultText, code: true))\\fR.\n"
                }
            }
        }
        return out
    }

    /// Text safe on a roff text line: backslashes and minus signs spelled out (so `sudo-i`
    /// copies as typed), non-ASCII as named code points (groff then needs no input encoding).
    /// `code` also forbids hyphenation, for names and values a reader types.
    static func roffEscape(_ text: String, code: Bool = false) -> String {
        var out = code ? "\\%" : ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case _ where scalar.isASCII: out.unicodeScalars.append(scalar)
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            }
        }
        return out
    }

    /// A whole text line: a leading dot or quote would make it a request.
    static func roffLine(_ text: String) -> String {
        let escaped = roffEscape(text)
        return escaped.hasPrefix(".") || escaped.hasPrefix("'") ? "\\&" + escaped : escaped
    }

    // MARK: - README table

    static func markdown() -> String {
        var out = ""
        for (index, section) in sections().enumerated() {
            if index > 0 { out += "\n" }
            out += "#### \(section.title)\n\n"
            out += "| key | default | accepted | what it does |\n"
            out += "|---|---|---|---|\n"
            for key in section.keys {
                let shownDefault = key.defaultNote.map { "*\(markdownCell($0))*" } ?? "`\(markdownCell(key.defaultText))`"
                out += "| `\(key.name)` | \(shownDefault) | \(markdownCell(key.accepted)) | \(markdownCell(sentence(key.summary))) |\n"
            }
        }
        return out
    }

    static func markdownCell(_ text: String) -> String {
        text.replacing("|", with: "\\|")
    }

    // MARK: - Machine-readable list

    /// One line per key, tab-separated: name, default as written in the file, default note.
    /// For tests that check every rendering against the table.
    static func keyList() -> String {
        PolicyKeys.all.map { "\($0.name)\t\($0.defaultText)\t\($0.defaultNote ?? "")\n" }.joined()
    }
}
