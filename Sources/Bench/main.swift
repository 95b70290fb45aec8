// passkey-bench: prints figures, never asserts on time. `passkey-bench [GROUP...]` runs the
// named groups (all when none is named). Build with -c release before reading the numbers.
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
var rows: [Figures] = []
for (name, make) in groups where wanted.isEmpty || wanted.contains(name) {
    // Each group starts on a quiet disk: what an earlier group wrote or deleted (the registry
    // group's 100,000 files) is flushed first, not during the next group's fsyncs.
    sync()
    for b in try make() { rows.append(try measure(b)) }
}
// Last: real libpam side by side with pam_permit and pam_unix; ends with the ratio line.
var pam: PAMReport? = nil
if wanted.isEmpty || wanted.contains("pam") {
    sync()
    let report = try pamBenchmarks(measuredSoFar: rows)
    rows += report.rows
    pam = report
}
printTable(rows)
for line in pam?.footer ?? [] { print(line) }
