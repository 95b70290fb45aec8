import Identifiers
import HostState
import Intelligence
import Registry
import Policy

/// One decision as the module makes it: decideLogin, then decideAppend, for a user with a
/// few credentials and some offer history.
func intelligenceBenchmarks() throws -> [Benchmark] {
    let start: Int64 = 1_767_225_600
    let here = HostSignal(id: "b27d5c3e90a14f6e", name: "host-b")
    let credentials = [
        CredentialSignal(id: try CredentialID(base64url: "pQm3xY0b8Kc2vN7tR1sW4g"), hostID: "4f1c9e0a7b", hostName: "host-a", created: start - 90 * 86_400, lastUsed: start - 86_400),
        CredentialSignal(id: try CredentialID(base64url: "Zk8sD2fJ5qL0wE9rT6yU3g"), hostID: "c85e0f6d21", hostName: "host-c", created: start - 60 * 86_400, lastUsed: start - 7 * 86_400),
        CredentialSignal(id: try CredentialID(base64url: "a9Xc4Vb7Nm1Qw3Er5Ty8Uw"), hostID: "d01b7a9c44", hostName: "host-d", revoked: true, created: start - 200 * 86_400),
        CredentialSignal(id: try CredentialID(base64url: "H2j4K6l8Z0x1C3v5B7n9MQ"), kind: .roaming, hostID: nil, hostName: nil, transports: ["usb", "nfc"], created: start - 30 * 86_400),
    ]
    var history = History()
    history.recordOffer(answer: .declined, service: "login", hostName: "host-c", at: start - 20 * 86_400)
    history.recordOffer(answer: .unanswered, service: "gdm-password", hostName: "host-a", at: start - 5 * 86_400)
    let session = SessionSignal(service: "gdm-password", tty: ":0")

    // Every rule read, the rollout hash included: passkeys elsewhere, offer to create.
    let elsewhere = Signals(user: "alice", uid: 1000, credentials: credentials, host: here,
                            authenticator: .healthy(holding: []), session: session, history: history, now: start)
    var rollout = Policy()
    rollout.set("rollout_percent", text: "90")
    // A passkey login: this host holds one of the user's credentials.
    var local = elsewhere
    local.credentials.append(CredentialSignal(id: try CredentialID(base64url: "Wq1e2R3t4Y5u6I7o8P9a0A"), hostID: here.id, hostName: here.name, created: start - 10 * 86_400))
    local.authenticator = .healthy(holding: [HeldCredentialSignal(id: try CredentialID(base64url: "Wq1e2R3t4Y5u6I7o8P9a0A"))])
    let defaults = Policy()

    return [
        Benchmark(group: "intelligence", name: "decision: elsewhere → offer (rollout 90%)", iterations: 20_000) {
            let login = decideLogin(elsewhere, policy: rollout)
            let append = decideAppend(elsewhere, policy: rollout)
            precondition(login.code == "credentials_elsewhere" && append == .offer(.create))
        },
        Benchmark(group: "intelligence", name: "decision: held here → passkey", iterations: 20_000) {
            let login = decideLogin(local, policy: defaults)
            let append = decideAppend(local, policy: defaults)
            precondition(login.name == "passkey" && append == .noOffer(.credentialHere))
        },
        Benchmark(group: "intelligence", name: "explain: text + JSON", iterations: 2_000) {
            let e = explain(elsewhere, policy: rollout)
            precondition(!e.text.isEmpty && !e.json.isEmpty)
        },
    ]
}
