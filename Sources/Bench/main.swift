// passkey-bench: prints figures, never asserts on time. `passkey-bench [GROUP...]` runs the
// named groups (all when none is named; a name that is no group is an error). Build with -c
// release before reading the numbers.
#if canImport(Glibc)
import Glibc
#endif

/// Every benchmark group; each lives in its own file beside this one.
let groups: [(String, () throws -> [Benchmark])] = [
    ("crypto", cryptoBenchmarks),
    ("registry", registryBenchmarks),
    ("intelligence", intelligenceBenchmarks),
    ("helper", helperBenchmarks),
    ("webauthn", webAuthnBenchmarks),
    ("tpm", tpmBenchmarks),
]

let wanted = Set(CommandLine.arguments.dropFirst())
let known = Set(groups.map(\.0) + ["pam", "directory"])
for name in wanted.subtracting(known).sorted() {
    let line = "passkey-bench: no group named \"\(name)\" (groups: \(groups.map(\.0).joined(separator: " ")) pam directory)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

/// Every group asked for, in order; the table, then the groups' last lines.
@MainActor func runGroups() throws {
    var rows: [Figures] = []
    for (name, make) in groups where wanted.isEmpty || wanted.contains(name) {
        // Each group starts on a quiet disk: what an earlier group wrote or deleted (the registry
        // group's 100,000 files) is flushed first, not during the next group's fsyncs.
        sync()
        for b in try make() { rows.append(try measure(b)) }
    }
    // Then real libpam side by side with pam_permit and pam_unix, ending with the ratio line;
    // then logins over the directory backend (slapd), ending with the directory line.
    var footer: [String] = []
    if wanted.isEmpty || wanted.contains("pam") {
        sync()
        let report = try pamBenchmarks(measuredSoFar: rows)
        rows += report.rows
        footer += report.footer
    }
    if wanted.isEmpty || wanted.contains("directory") {
        sync()
        let report = try directoryBenchmarks()
        rows += report.rows
        footer += report.footer
    }
    printTable(rows)
    for line in footer { print(line) }
}

// A group that cannot run says why and what to do, and the bench exits non-zero: no figures
// rather than wrong ones. Each group has removed what it set up by the time the error is here.
do { try runGroups() } catch {
    let line = "passkey-bench: \(error)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
