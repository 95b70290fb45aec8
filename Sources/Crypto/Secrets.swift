/// glibc's explicit_bzero(3): a memset the compiler may not remove as a dead store.
@_silgen_name("explicit_bzero")
private func explicit_bzero(_ buffer: UnsafeMutableRawPointer?, _ length: Int)

/// Whether `count` bytes at `a` and `b` are equal, looking at every byte whatever it finds
/// (no early exit), so the time taken does not say where two values differ.
@inline(never)
func bytesEqualInConstantTime(_ a: UnsafeRawPointer?, _ b: UnsafeRawPointer?, _ count: Int) -> Bool {
    guard count > 0, let a, let b else { return count == 0 }
    var difference: UInt8 = 0
    for i in 0..<count {
        difference |= a.load(fromByteOffset: i, as: UInt8.self) ^ b.load(fromByteOffset: i, as: UInt8.self)
    }
    return difference == 0
}

/// Bytes that must not outlive their use: PINs, derived keys, private keys.
/// Held in memory this class allocated and wiped with explicit_bzero(3) on release, so no
/// copy-on-write array keeps a stray copy. Never printed.
public final class SecretBytes: CustomStringConvertible, @unchecked Sendable {
    private let buffer: UnsafeMutableRawBufferPointer

    public init(count: Int) {
        buffer = .allocate(byteCount: Swift.max(count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        self.count = count
    }

    /// Copies `bytes`; the caller should wipe its own copy (see `wipe(_:)`).
    public convenience init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        self.init(count: bytes.count)
        var i = 0
        for b in bytes { buffer[i] = b; i += 1 }
    }

    public let count: Int

    public var isEmpty: Bool { count == 0 }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// An ordinary array copy, for APIs that need one. Wipe it with `wipe(_:)` after use.
    public func copyBytes() -> [UInt8] { withUnsafeBytes { Array($0) } }

    /// Constant-time comparison.
    public func isEqual(to other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in bytesEqualInConstantTime(a.baseAddress, b.baseAddress, count) } }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }

    deinit {
        explicit_bzero(buffer.baseAddress, buffer.count)
        buffer.deallocate()
    }
}

/// Overwrites an array's storage in place.
public func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { explicit_bzero($0.baseAddress, $0.count) }
    bytes.removeAll()
}

/// Compares without an early exit, so timing does not reveal where two values differ.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in bytesEqualInConstantTime(pa.baseAddress, pb.baseAddress, a.count) } }
}
