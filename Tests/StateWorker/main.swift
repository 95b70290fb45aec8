// passkey-state-worker: a separate process that writes state the way the module does, so
// StateTests can run many at once and kill them mid-write. Not installed.
//
//   passkey-state-worker append REGISTRY USER COUNT TAG   add COUNT credentials TAG-0…, one update each
//   passkey-state-worker logins STATE_DIR USER COUNT       record COUNT passkey logins, one update each
//   passkey-state-worker replace REGISTRY USER NEXT_JSON   replace USER's record with the one in NEXT_JSON
//   passkey-state-worker read REGISTRY USER UID            become UID (a screen locker's user), read USER's record,
//                                                          print how many credentials it has (no waiting)
//
// Each waits for one byte on stdin after printing "ready", so a test can start them together
// (or know when to start the clock before killing one).
#if canImport(Glibc)
import WebAuthn
import Glibc
#endif
import FoundationEssentials
import HostState
import Registry
import Storage
import Identifiers

func fail(_ message: String) -> Never {
    let line = Array("passkey-state-worker: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func waitForGo() {
    _ = write(1, "ready\n", 6)
    var byte: UInt8 = 0
    while read(0, &byte, 1) < 0 && errno == EINTR {}
}

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 3, let user = try? UserName(validating: args[2]) else {
    fail("usage: append REGISTRY USER COUNT TAG | logins STATE_DIR USER COUNT | replace REGISTRY USER NEXT_JSON")
}
// Generous: these tests are about losing nothing under contention, not about the timeout.
let timeout = Duration.seconds(120)

do {
    switch args[0] {
    case "append":
        guard args.count == 5, let count = Int(args[3]) else { fail("append REGISTRY USER COUNT TAG") }
        let registry = FileRegistry(directory: args[1], lockTimeout: timeout)
        waitForGo()
        for i in 0..<count {
            let id = "\(args[4])-\(i)"
            _ = try registry.update(user: user) { record in
                record.add(CredentialRecord(
                    id: CredentialID(Array(id.utf8)), publicKey: Base64URL.encode(Array(id.utf8)), kind: .platform, hostID: args[4],
                    hostName: "worker \(getpid())", aaguid: "00000000-0000-0000-0000-000000000000",
                    transports: ["internal"], created: HostEvent(time: currentEpochSeconds(), host: "worker"),
                    label: id, attestationObject: "o2NmbXRkbm9uZQ", clientDataJSON: "e30"))
            }
        }
    case "logins":
        guard args.count == 4, let count = Int(args[3]) else { fail("logins STATE_DIR USER COUNT") }
        let history = HistoryStore(stateDirectory: args[1], lockTimeout: timeout)
        waitForGo()
        for _ in 0..<count {
            try history.update(user: user) { $0.recordPasskeyLogin(at: currentEpochSeconds()) }
        }
    case "replace":
        guard args.count == 4 else { fail("replace REGISTRY USER NEXT_JSON") }
        let registry = FileRegistry(directory: args[1], lockTimeout: timeout)
        guard let bytes = try SecureFile.read(args[3], maxBytes: FileRegistry.maxFileBytes) else { fail("no \(args[3])") }
        let next = try JSONDecoder().decode(UserRecord.self, from: Data(bytes))
        waitForGo()
        try registry.update(user: user) { $0 = next }
    case "read":
        guard args.count == 4, let uid = UInt32(args[3]) else { fail("read REGISTRY USER UID") }
        guard setgroups(0, nil) == 0, setgid(uid) == 0, setuid(uid) == 0, getuid() == uid else { fail("cannot become uid \(uid)") }
        let record = try FileRegistry(directory: args[1], lockTimeout: timeout).record(for: user)
        let line = Array("\(record.credentials.count)\n".utf8)
        _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    default:
        fail("unknown command \(args[0])")
    }
} catch {
    fail("\(error)")
}
