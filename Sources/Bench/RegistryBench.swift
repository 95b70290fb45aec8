#if canImport(Glibc)
import Glibc
#endif
import Registry
import Storage
import Identifiers

/// A registry of `count` users in a fresh directory under /var/tmp (on disk, like
/// /var/lib), removed when the benchmarks that use it are gone.
final class BenchRegistry {
    let directory: String
    let registry: FileRegistry
    let probe: UserName
    let count: Int

    init(users count: Int) throws {
        self.count = count
        var pattern = Array("/var/tmp/passkey-bench-registry.XXXXXX".utf8CString)
        guard let made = mkdtemp(&pattern) else { fatalError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        try SecureDirectory.create(directory, mode: 0o755)
        registry = FileRegistry(directory: directory)
        probe = try UserName(validating: "user\(count / 2)")

        // Setup writes plain files (no fsync, no lock): only reading is measured, and 100,000
        // fsynced atomic writes would take minutes. One real update first, as the template.
        let first = try UserName(validating: "user0")
        try registry.update(user: first) { record in
            record.add(CredentialRecord(
                id: try CredentialID(base64url: "AAECAwQFBgcICQoLDA0ODw"), publicKey: "pQECAyYgASFYIH8", kind: .platform,
                hostID: "3299671781ac4348cb7a1411b5750995", hostName: "host-a",
                aaguid: "00000000-0000-0000-0000-000000000000", transports: ["internal"],
                created: HostEvent(time: 1_700_000_000, host: "host-a"), label: "bench",
                attestationObject: String(repeating: "o2NmbXRkbm9uZQ", count: 40), clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0"))
        }
        let template = try registry.record(for: first)
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(dir) }
        for i in 1..<count {
            let user = try UserName(validating: "user\(i)")
            var record = template
            record.user = user.rawValue
            let bytes = try DocumentStore<UserRecord>.encode(record, path: directory)
            let fd = openat(dir, user.rawValue + ".json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            precondition(fd >= 0, "create in \(directory): \(String(cString: strerror(errno)))")
            precondition(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
            close(fd)
        }
    }

    deinit {
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0, let listing = fdopendir(dir) {
            while let entry = readdir(listing) {
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { unlinkat(dirfd(listing), name, 0) }
            }
            closedir(listing)
        }
        rmdir(directory)
    }
}

func registryBenchmarks() throws -> [Benchmark] {
    let small = try BenchRegistry(users: 10)
    let large = try BenchRegistry(users: 100_000)
    let appendTarget = try UserName(validating: "newcomer")
    var n = 0
    return [
        registryReadBenchmark(small),
        Benchmark(group: "registry", name: "read one user, registry of 100,000 users", iterations: 20000) {
            let record = try large.registry.record(for: large.probe)
            precondition(record.credentials.count == 1)
        },
        Benchmark(group: "registry", name: "read a user with no record (100,000)", iterations: 20000) {
            let record = try large.registry.record(for: appendTarget)
            precondition(record.credentials.isEmpty)
        },
        // Lock, read, modify, write, fsync, rename, fsync the directory: the append step's cost.
        Benchmark(group: "registry", name: "update one user (fsync), 100,000 users", iterations: 200) {
            n += 1
            let id = "bench-\(n)"
            try large.registry.update(user: large.probe) { record in
                record.modify(id: record.credentials[0].id) { $0.label = id }
            }
        },
    ]
}

/// The read a login makes: one user's record from a small registry.
func registryReadBenchmark(_ small: BenchRegistry) -> Benchmark {
    Benchmark(group: "registry", name: "read one user, registry of \(small.count) users", iterations: 20000) {
        let record = try small.registry.record(for: small.probe)
        precondition(record.credentials.count == 1)
    }
}
