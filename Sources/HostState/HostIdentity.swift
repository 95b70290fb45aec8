#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Storage

/// Who this host is, as the registry records it.
///
/// `hostID` is a keyed hash of the content of `host_id_file` (/etc/machine-id): stable for the
/// life of the installation, the same for every process on the host, and unlinkable to the
/// machine id itself. The machine id is a secret-ish value (systemd asks that it not be
/// exposed to the network) and the registry may be shared, so only the hash is ever written.
public struct HostIdentity: Sendable, Equatable {
    /// The HMAC key: fixed, so every pam_passkey derives the same id from the same machine;
    /// versioned, so a future derivation cannot collide with this one.
    public static let applicationKey = Array("pam_passkey host-id v1".utf8)
    /// A machine id file is 33 bytes; anything this large was not meant to be one.
    public static let maxFileBytes = 4096

    /// 32 lowercase hex digits (128 bits of the HMAC: plenty against collisions in a fleet).
    public let hostID: String
    /// What users see ("your passkeys are on host-a").
    public let hostName: String

    public init(hostID: String, hostName: String) {
        self.hostID = hostID
        self.hostName = hostName
    }

    /// Reads `hostIDFile` (policy `host_id_file`) with the root-file checks, and takes the name
    /// from `configuredName` (policy `host_name`) when it is not empty, else from the kernel.
    public static func load(hostIDFile: String, configuredName: String) throws(HostIdentityError) -> HostIdentity {
        let id = try hostID(file: hostIDFile)
        let name = configuredName.isEmpty ? (systemHostName() ?? "host-" + id.prefix(8)) : configuredName
        return HostIdentity(hostID: id, hostName: name)
    }

    /// The id of the machine id in `file`, read with the root-file checks; not read again
    /// (nor hashed) while the file is the one last read, in the same settled state.
    private static func hostID(file: String) throws(HostIdentityError) -> String {
        let id: String?
        do throws(FileMemoError<HostIdentityError>) {
            id = try lastMachineID.read(file, maxBytes: maxFileBytes) { (bytes: [UInt8]) throws(HostIdentityError) in
                let trimmed = trimASCIIWhitespace(bytes)
                if trimmed.isEmpty { throw .empty(path: file) }
                // systemd writes this during first boot, before the real id exists.
                if trimmed.elementsEqual("uninitialized".utf8) { throw .uninitialized(path: file) }
                return hostID(machineID: Array(trimmed))
            }
        } catch {
            switch error {
            case .storage(let e): throw .unsafe(e)
            case .derive(let e): throw e
            }
        }
        guard let id else { throw .missing(path: file) }
        return id
    }

    /// The last machine id file this process derived an id from.
    static let lastMachineID = FileMemo<String>()

    /// The id derived from a machine id (already trimmed). The same HMAC-SHA-256 as
    /// OpenSSL's, computed without it: every login derives this id, also one that only steps
    /// aside, and OpenSSL's first use in a process (loading its providers) cost more than the
    /// rest of such a login (see PortableSHA256).
    public static func hostID<C: Collection>(machineID: C) -> String where C.Element == UInt8 {
        let mac = PortableSHA256.authenticate(key: applicationKey, data: Array(machineID))
        return Base16.encode(Array(mac.prefix(16)))
    }

    /// The kernel's host name (gethostname), or nil when it is unset.
    public static func systemHostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty || name == "(none)" ? nil : name
    }

    static func trimASCIIWhitespace(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        var s = bytes[...]
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return s
    }
}


/// Why this host's identity could not be established. Without it the module cannot tell
/// this host's credentials from others', so it steps aside.
public enum HostIdentityError: Error, Equatable, Sendable, CustomStringConvertible {
    case missing(path: String)
    case empty(path: String)
    case uninitialized(path: String)
    /// The file exists but is refused (symlink, owner, mode, size) or unreadable.
    case unsafe(StorageError)

    static let fix = "fix: run systemd-machine-id-setup (or dbus-uuidgen --ensure=/etc/machine-id), or set "
        + "host_id_file to a root-owned file with a stable value unique to this host"

    public var description: String {
        switch self {
        case .missing(let p): return "host id file \(p) does not exist; \(Self.fix)"
        case .empty(let p): return "host id file \(p) is empty; \(Self.fix)"
        case .uninitialized(let p): return "host id file \(p) says \"uninitialized\" (first boot not finished); \(Self.fix)"
        case .unsafe(let e): return "host id file: \(e)"
        }
    }
}
