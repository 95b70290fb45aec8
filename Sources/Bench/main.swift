// passkey-bench: prints figures, never asserts on time. `passkey-bench [GROUP...]` runs the
// named groups (all when none is named). Build with -c release before reading the numbers.

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
    for b in try make() { rows.append(try measure(b)) }
}
printTable(rows)
