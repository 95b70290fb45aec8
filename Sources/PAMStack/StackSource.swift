import Storage

/// Where service files come from: the file system, read with the checks every file the
/// module opens as root gets, or (in tests) a dictionary.
public protocol StackSource {
    /// The file's bytes, or nil when there is no such file. Throws when the file exists but
    /// cannot be trusted or read.
    func read(_ path: String) throws(StackProblem) -> [UInt8]?
}

/// Files read through `SecureFile`: reached from `/` without following symbolic links, each
/// directory and the file owned by root and not writable by group or others.
public struct SecureStackSource: StackSource {
    public static let maxFileBytes = 1 << 20

    public init() {}

    public func read(_ path: String) throws(StackProblem) -> [UInt8]? {
        do {
            return try SecureFile.read(path, maxBytes: Self.maxFileBytes)
        } catch .notFound {
            return nil
        } catch {
            throw StackProblem("\(error)")
        }
    }
}

/// Where libpam looks for the files of one service.
public struct StackLocation: Sendable, Equatable {
    /// Searched in order for the service file and `other`: /etc/pam.d then /usr/lib/pam.d,
    /// or only the directory an application gave pam_start_confdir.
    public let directories: [String]
    /// Where `include`, `substack` and `@include` find a file named without a path. Debian's
    /// libpam (patch 031_pam_include) looks in /etc/pam.d alone, whatever directory the
    /// application gave; upstream libpam would search `directories`.
    public let includeDirectory: String

    public init(directories: [String], includeDirectory: String) {
        self.directories = directories
        self.includeDirectory = includeDirectory
    }

    /// What libpam reads for an application that calls pam_start.
    public static let system = StackLocation(directories: ["/etc/pam.d", "/usr/lib/pam.d"], includeDirectory: "/etc/pam.d")

    /// What libpam reads for an application that calls pam_start_confdir with `directory`.
    public static func confdir(_ directory: String) -> StackLocation {
        StackLocation(directories: [directory], includeDirectory: "/etc/pam.d")
    }

    /// A directory inspected as if it were /etc/pam.d (passkeyctl status --pam-dir).
    public static func inspected(_ directory: String) -> StackLocation {
        directory == "/etc/pam.d" ? system : StackLocation(directories: [directory], includeDirectory: directory)
    }
}

func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
