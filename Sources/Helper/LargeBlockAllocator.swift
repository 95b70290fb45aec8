#if canImport(Glibc)
import Glibc
#endif
import CLibcryptoLoader

/// OpenSSL's allocator for a process of our own (the helper): blocks of 1 MiB and more —
/// scrypt's working memory, 8 MiB at the default PIN cost — come from their own mapping,
/// aligned to 2 MiB and marked MADV_HUGEPAGE, so the kernel backs them with a handful of
/// huge pages instead of faulting in two thousand small ones, and scrypt's random reads
/// miss the TLB less. Where transparent huge pages are off the mapping behaves like malloc's.
/// Smaller blocks go to malloc.
///
/// Never call this from the PAM module: the allocator belongs to the process, and the module
/// runs inside someone else's.
///
/// The helper does not link libcrypto (a status request needs none of it, and its load was
/// most of a fresh helper's start): Sources/Crypto opens it on first use through the one
/// handle of Sources/CLibcryptoLoader, and the allocator goes in from that loader's "on
/// first open" hook, right after the dlopen and before any other libcrypto call.
public enum LargeBlockAllocator {
    /// Registers the allocator to be installed when libcrypto is opened. Must run before
    /// anything opens it (first thing in main); returns false, changing nothing, when it is
    /// too late.
    @discardableResult
    public static func install() -> Bool {
        pam_passkey_crypto_on_first_open(installOnOpen) == 1
    }
}

/// The hook: CRYPTO_set_mem_functions of the library just opened. It returns 0 only when
/// OpenSSL has allocated already, which nothing has had the handle to make it do; then
/// OpenSSL keeps malloc, and scrypt works as well, only with small pages.
private let installOnOpen: @convention(c) (UnsafeMutableRawPointer?) -> Void = { handle in
    _ = pam_passkey_crypto_set_mem_functions(handle, allocate, reallocate, release)
}

/// Every block starts with this header; the caller's bytes follow it, 16-byte aligned.
private let headerBytes = 16
private let largeBlock = 1 << 20
private let hugePage = 2 << 20
/// In the header's first word: a malloc'd block.
private let fromMalloc = 0

// Header: word 0 = the mapping's length (or `fromMalloc`), word 1 = the usable size.

private let allocate: @convention(c) (Int, UnsafePointer<CChar>?, Int32) -> UnsafeMutableRawPointer? = { size, _, _ in
    if size < largeBlock {
        guard let block = malloc(size + headerBytes) else { return nil }
        block.storeBytes(of: fromMalloc, as: Int.self)
        block.storeBytes(of: size, toByteOffset: MemoryLayout<Int>.size, as: Int.self)
        return block + headerBytes
    }
    // Room to align the start to a huge page; the mapping starts there (the slack is unmapped).
    let needed = (size + headerBytes + hugePage - 1) / hugePage * hugePage
    guard let raw = mmap(nil, needed + hugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
          raw != MAP_FAILED else { return nil }
    let address = Int(bitPattern: raw)
    let aligned = (address + hugePage - 1) / hugePage * hugePage
    if aligned > address { munmap(raw, aligned - address) }
    let tail = address + needed + hugePage - (aligned + needed)
    if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + needed), tail) }
    let block = UnsafeMutableRawPointer(bitPattern: aligned)!
    _ = madvise(block, needed, MADV_HUGEPAGE)  // only advice: ignored where THP is off
    block.storeBytes(of: needed, as: Int.self)
    block.storeBytes(of: size, toByteOffset: MemoryLayout<Int>.size, as: Int.self)
    return block + headerBytes
}

private let release: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32) -> Void = { pointer, _, _ in
    guard let pointer else { return }
    let block = pointer - headerBytes
    let mapped = block.load(as: Int.self)
    if mapped == fromMalloc { free(block) } else { munmap(block, mapped) }
}

private let reallocate: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafePointer<CChar>?, Int32) -> UnsafeMutableRawPointer? = { pointer, size, file, line in
    guard let pointer else { return allocate(size, file, line) }
    if size == 0 {
        release(pointer, file, line)
        return nil
    }
    let block = pointer - headerBytes
    let oldSize = block.load(fromByteOffset: MemoryLayout<Int>.size, as: Int.self)
    if block.load(as: Int.self) == fromMalloc && size < largeBlock {
        guard let moved = realloc(block, size + headerBytes) else { return nil }
        moved.storeBytes(of: size, toByteOffset: MemoryLayout<Int>.size, as: Int.self)
        return moved + headerBytes
    }
    guard let fresh = allocate(size, file, line) else { return nil }
    fresh.copyMemory(from: pointer, byteCount: min(oldSize, size))
    release(pointer, file, line)
    return fresh
}
