// passkey-fleet-sim [--users N] [--hosts M] [--days D] [--seed S] [--security-keys SHARE] [--set key=value]...
// Drives the real decision over a simulated fleet and prints its figures (FleetSimulation).
#if canImport(Glibc)
import Glibc
#endif
import FleetSimulation
import Policy

let usage = "usage: passkey-fleet-sim [--users N] [--hosts M] [--days D] [--seed S] [--security-keys SHARE] [--set key=value]..."

func fail(_ message: String) -> Never {
    let text = "passkey-fleet-sim: \(message)\n\(usage)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

func number(_ flag: String, _ value: String, atLeast minimum: Int) -> Int {
    guard let n = Int(value), n >= minimum else { fail("\(flag) must be a whole number of at least \(minimum)") }
    return n
}

var configuration = FleetConfiguration()
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    if flag == "--help" || flag == "-h" {
        print(usage)
        print("  --set applies a pam_passkey.conf key, e.g. --set remote_sessions=allow")
        print("  --security-keys 0.2: a fifth of the users own a FIDO2 security key, plugged in at 70% of their logins at a machine")
        exit(0)
    }
    guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
    switch flag {
    case "--users": configuration.users = number(flag, value, atLeast: 1)
    case "--hosts": configuration.hosts = number(flag, value, atLeast: 2)
    case "--days": configuration.days = number(flag, value, atLeast: 1)
    case "--seed":
        guard let seed = UInt64(value) else { fail("--seed must be a whole number from 0 to 2^64-1") }
        configuration.seed = seed
    case "--security-keys":
        guard let share = Double(value), share >= 0, share <= 1 else { fail("--security-keys must be a share from 0 to 1, e.g. 0.2") }
        configuration.securityKeyShare = share
    case "--set":
        guard let eq = value.firstIndex(of: "=") else { fail("--set wants key=value") }
        let key = String(value[..<eq]), text = String(value[value.index(after: eq)...])
        if !configuration.policy.set(key, text: text) { fail("\(key) = \(text): unknown key or value not accepted") }
        configuration.policy.source = "defaults with --set"
    default: fail("unknown option \(flag)")
    }
}

var t0 = timespec(), t1 = timespec()
clock_gettime(CLOCK_MONOTONIC, &t0)
let report = simulateFleet(configuration)
clock_gettime(CLOCK_MONOTONIC, &t1)
print(report.render())
let seconds = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) / 1e9
print("")
print("simulated in \(Int(seconds * 1000)) ms")
