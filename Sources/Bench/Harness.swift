#if canImport(Glibc)
import Glibc
#endif

/// A named measurement. `body` runs once per iteration; setup belongs outside it.
struct Benchmark {
    let group: String
    let name: String
    let iterations: Int
    let body: () throws -> Void
    /// Instead of timing `body` whole: one iteration that times its own part (µs) and does
    /// the rest (setup, teardown) outside it.
    var part: (() throws -> Double)? = nil

    init(group: String, name: String, iterations: Int, body: @escaping () throws -> Void) {
        (self.group, self.name, self.iterations, self.body) = (group, name, iterations, body)
    }

    /// One whose iterations time their own part.
    static func timingPart(group: String, name: String, iterations: Int, _ part: @escaping () throws -> Double) -> Benchmark {
        var b = Benchmark(group: group, name: name, iterations: iterations) { _ = try part() }
        b.part = part
        return b
    }
}

/// Figures of one benchmark, in microseconds.
struct Figures {
    let name: String
    let iterations: Int
    let median: Double
    let p99: Double
    let mean: Double
}

func monotonicMicros() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
}

func measure(_ b: Benchmark) throws -> Figures {
    // Warm up: first calls pay for lazy initialisation and cold caches.
    for _ in 0..<min(10, max(1, b.iterations / 10)) { try b.body() }
    var samples: [Double] = []
    samples.reserveCapacity(b.iterations)
    for _ in 0..<b.iterations {
        if let part = b.part {
            samples.append(try part())
            continue
        }
        let t0 = monotonicMicros()
        try b.body()
        samples.append(monotonicMicros() - t0)
    }
    return figures(b.name, samples)
}

/// Median, p99 and mean of samples taken elsewhere (one per iteration).
func figures(_ name: String, _ unsorted: [Double]) -> Figures {
    let samples = unsorted.sorted()
    let p99 = samples[min(samples.count - 1, Int((Double(samples.count) * 0.99).rounded(.up)) - 1)]
    return Figures(name: name, iterations: samples.count, median: samples[samples.count / 2], p99: p99,
                   mean: samples.reduce(0, +) / Double(samples.count))
}

func format(_ v: Double) -> String {
    let s = String(Int((v * 10).rounded()))
    let padded = s.count < 2 ? "0" + s : s
    return String(padded.dropLast()) + "." + String(padded.last!)
}

func printTable(_ rows: [Figures]) {
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
    let width = max(44, (rows.map(\.name.count).max() ?? 0) + 1)
    print(pad("benchmark", width) + lpad("iterations", 11) + lpad("median µs", 13) + lpad("p99 µs", 13))
    for r in rows {
        print(pad(r.name, width) + lpad(String(r.iterations), 11) + lpad(format(r.median), 13) + lpad(format(r.p99), 13))
    }
}
