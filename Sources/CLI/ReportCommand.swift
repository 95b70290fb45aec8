import HostState
import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import JSON
import Identifiers

enum ReportCommand {
    static let spec = CommandSpec(
        "report", synopsis: "[--json]",
        summary: "Show how passkeys are being adopted: from this host's history, the passkey logins, the password logins after the module stepped aside (by reason), the offers and their answers and the PIN lockouts; from the registry, how many users have active passkeys on 1, 2, or 3 or more hosts.",
        details: [
            "The host's figures count since its history began; \"unanswered\" offers got no answer (the application could not show the question). A record that cannot be read is named on standard error, left out of the figures, and makes the exit status 1.",
        ],
        options: [.flag("--json", "print the figures as JSON")],
        run: run)

    struct HostFigures {
        var users = 0
        var counters = HistoryCounters()
        var unanswered: Int { counters.offers - counters.accepted - counters.declined - counters.never }
        var fallbackTotal: Int { counters.fallbacks.values.reduce(0, +) }
    }

    struct RegistryFigures {
        var users = 0
        /// Index 0: users without an active passkey; 1, 2: on that many hosts; 3: on 3 or more.
        var byHosts = [0, 0, 0, 0]
    }

    static func run(_ inv: Invocation) throws(CLIError) {
        let site = try inv.site()
        var unreadable: [String] = []

        var host = HostFigures()
        let historyUsers: [UserName]
        do { historyUsers = try site.history.users() } catch { throw .failed("cannot read this host's history: \(error)") }
        for user in historyUsers {
            let h: UserHistory
            do { h = try site.history.history(for: user) } catch { unreadable.append("\(error)"); continue }
            host.users += 1
            let c = h.counters
            host.counters.passkeyLogins += c.passkeyLogins
            for (reason, n) in c.fallbacks { host.counters.fallbacks[reason, default: 0] += n }
            host.counters.offers += c.offers
            host.counters.accepted += c.accepted
            host.counters.declined += c.declined
            host.counters.never += c.never
            host.counters.pinLockouts += c.pinLockouts
        }

        var registry = RegistryFigures()
        let registryUsers: [UserName]
        do { registryUsers = try site.registry.users() } catch { throw .failed("cannot read the passkey registry: \(error)") }
        for user in registryUsers {
            let record: UserRecord
            do { record = try site.registry.record(for: user) } catch { unreadable.append("\(error)"); continue }
            registry.users += 1
            let hosts = Set(record.activeCredentials.map { $0.kind == .platform ? $0.hostID : "key:" + $0.id.text }).count
            registry.byHosts[min(hosts, 3)] += 1
        }

        if inv.json {
            Output.line(JSONValue.object([
                ("format", .int(1)),
                ("host", .object([
                    ("name", .string(site.host.hostName)),
                    ("users", .int(host.users)),
                    ("passkey_logins", .int(host.counters.passkeyLogins)),
                    ("password_logins_after_step_aside", .int(host.fallbackTotal)),
                    ("fallbacks", .object(host.counters.fallbacks.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                    ("offers", .int(host.counters.offers)),
                    ("accepted", .int(host.counters.accepted)),
                    ("declined", .int(host.counters.declined)),
                    ("never", .int(host.counters.never)),
                    ("unanswered", .int(host.unanswered)),
                    ("pin_lockouts", .int(host.counters.pinLockouts)),
                ])),
                ("registry", .object([
                    ("directory", .string(site.registry.location)),
                    ("users", .int(registry.users)),
                    ("without_active_passkey", .int(registry.byHosts[0])),
                    ("on_1_host", .int(registry.byHosts[1])),
                    ("on_2_hosts", .int(registry.byHosts[2])),
                    ("on_3_or_more_hosts", .int(registry.byHosts[3])),
                ])),
                ("unreadable", .array(unreadable.map { .string($0) })),
            ]).render())
        } else {
            var rows: [[String]] = [
                ["passkey logins", String(host.counters.passkeyLogins)],
                ["password logins after stepping aside", String(host.fallbackTotal)],
            ]
            for (reason, n) in host.counters.fallbacks.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                rows.append(["  " + reason, String(n)])
            }
            rows += [
                ["offers to create a passkey", String(host.counters.offers)],
                ["  accepted", String(host.counters.accepted)],
                ["  declined (n)", String(host.counters.declined)],
                ["  never", String(host.counters.never)],
                ["  unanswered", String(host.unanswered)],
                ["PIN lockouts", String(host.counters.pinLockouts)],
            ]
            Output.line("This host (\(site.host.hostName)): \(host.users) \(host.users == 1 ? "user" : "users") with history")
            Output.line(indented(table(["", ""], rows)))
            Output.line("")
            Output.line("Registry (\(site.registry.location)): \(registry.users) \(registry.users == 1 ? "user" : "users")")
            Output.line(indented(table(["", ""], [
                ["with active passkeys on 1 host", String(registry.byHosts[1])],
                ["on 2 hosts", String(registry.byHosts[2])],
                ["on 3 or more hosts", String(registry.byHosts[3])],
                ["without an active passkey", String(registry.byHosts[0])],
            ])))
        }
        if !unreadable.isEmpty {
            for u in unreadable { Output.warning(u) }
            let n = unreadable.count
            throw .failed("\(n) \(n == 1 ? "record could not be read and is" : "records could not be read and are") left out of the figures; fix them as the warnings say")
        }
    }

    /// The table without its (empty) header line, two spaces in.
    private static func indented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().map { "  " + $0 }.joined(separator: "\n")
    }
}
