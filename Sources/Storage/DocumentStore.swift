#if canImport(Glibc)
import Glibc
#endif
import JSON
import Identifiers

/// A JSON document kept per user, versioned so that a file written by a newer pam_passkey is
/// refused rather than misread or rewritten. The registry's `UserRecord` and the host
/// history are documents.
public protocol VersionedDocument: Codable, Sendable, Equatable {
    /// The newest schema this code reads, and the one it writes.
    static var currentSchemaVersion: Int { get }
    /// What a user without a file has: unknown users and users with nothing stored look the same.
    static func empty(for user: UserName) -> Self
    var schemaVersion: Int { get }
    /// The user the document belongs to, as stored in it.
    var user: String { get }
}

/// One file per user, `DIRECTORY/NAME.json`, beside its lock `.NAME.json.lock`. Reading a
/// user opens that one file: the cost does not depend on how many users there are.
public struct DocumentStore<Document: VersionedDocument>: Sendable {
    /// What a missing store directory means.
    public enum MissingDirectory: Sendable, Equatable {
        /// An error: the directory is part of the installation (the registry).
        case isAnError
        /// Nobody has anything yet; the first update creates it with this mode (history).
        case isEmpty(createMode: mode_t)
    }

    public let directory: String
    public let fileMode: mode_t
    public let maxBytes: Int
    public let lockTimeout: Duration
    public let missingDirectory: MissingDirectory
    /// The documents hold key material: refused when group or others can read them
    /// (`SecretFiles`), and `fileMode` must give them no access.
    public let secret: Bool

    public init(directory: String, fileMode: mode_t, maxBytes: Int, lockTimeout: Duration,
                missingDirectory: MissingDirectory, secret: Bool = false) {
        precondition(!secret || fileMode & 0o077 == 0, "a secret document store must write files only their owner can read")
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.fileMode = fileMode
        self.maxBytes = maxBytes
        self.lockTimeout = lockTimeout
        self.missingDirectory = missingDirectory
        self.secret = secret
    }

    public func fileName(for user: UserName) -> String { user.rawValue + ".json" }
    public func path(for user: UserName) -> String { directory + "/" + fileName(for: user) }

    /// The user's document; `Document.empty` when the user has no file.
    public func read(_ user: UserName) throws(StorageError) -> Document {
        guard let dir = try openDirectory() else { return .empty(for: user) }
        guard let bytes = try dir.read(fileName(for: user), maxBytes: maxBytes, secret: secret) else { return .empty(for: user) }
        return try Self.decode(bytes, path: path(for: user), user: user)
    }

    /// Lock, read, let `body` change the document, write it back atomically, unlock. Nothing
    /// is written when `body` throws or leaves the document as it was. A file that cannot be
    /// read (malformed, newer schema, unsafe) fails the update and stays untouched.
    ///
    /// Throws `StorageError`, or whatever `body` throws.
    @discardableResult
    public func update<R>(_ user: UserName, _ body: (inout Document) throws -> R) throws -> R {
        let dir: SecureDirectory
        switch missingDirectory {
        case .isAnError: dir = try SecureDirectory.open(directory)
        case .isEmpty(let mode): dir = try SecureDirectory.create(directory, mode: mode, parents: false)
        }
        let name = fileName(for: user)
        let filePath = path(for: user)
        return try dir.withLock(name, timeout: lockTimeout) { locked in
            let old = try locked.read(maxBytes: maxBytes, secret: secret)
            var document = try old.map { bytes throws(StorageError) in try Self.decode(bytes, path: filePath, user: user) }
                ?? .empty(for: user)
            let result = try body(&document)
            guard document.user.utf8.elementsEqual(user.rawValue.utf8) else {
                throw StorageError.userMismatch(path: filePath, expected: user.rawValue, found: document.user)
            }
            // A user with nothing to store gets no file (as if never written).
            if old == nil && document == .empty(for: user) { return result }
            let new = try Self.encode(document, path: filePath)
            if new == old { return result }
            // Never write what the next read would refuse.
            if new.count > maxBytes { throw StorageError.tooLarge(path: filePath, size: new.count, limit: maxBytes) }
            try locked.replace(with: new, mode: fileMode)
            return result
        }
    }

    /// Every user with a file, in byte order; files whose names are not valid user names are
    /// skipped (they cannot be any user's record). This lists the directory: for reports, not
    /// for login.
    public func users() throws(StorageError) -> [UserName] {
        guard let dir = try openDirectory() else { return [] }
        return try dir.entries().compactMap { name in
            guard name.hasSuffix(".json") else { return nil }
            return try? UserName(validating: String(name.dropLast(5)))
        }.sorted()
    }

    func openDirectory() throws(StorageError) -> SecureDirectory? {
        do {
            return try SecureDirectory.open(directory)
        } catch .notFound(let missing) where missing == directory && missingDirectory != .isAnError {
            return nil
        }
    }

    // MARK: - Encoding

    public static func decode(_ bytes: [UInt8], path: String, user: UserName) throws(StorageError) -> Document {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .malformed(path: path, reason: "the document is not valid JSON: \(error)")
        }
        // The version first: a newer schema may not decode as this one at all.
        guard let versionValue = value[member: "schemaVersion"] else {
            throw .malformed(path: path, reason: "field \"schemaVersion\" is missing in the document")
        }
        guard case .number(let text) = versionValue, let version = Int(text) else {
            throw .malformed(path: path, reason: "schemaVersion is not a whole number")
        }
        guard (1...Document.currentSchemaVersion).contains(version) else {
            throw .unsupportedSchema(path: path, found: version, newestKnown: Document.currentSchemaVersion)
        }
        let document: Document
        do {
            document = try JSONCoding.decode(Document.self, from: value)
        } catch {
            throw .malformed(path: path, reason: describe(error))
        }
        guard document.user.utf8.elementsEqual(user.rawValue.utf8) else {
            throw .userMismatch(path: path, expected: user.rawValue, found: document.user)
        }
        return document
    }

    /// Sorted keys and indentation: a file an administrator can read, diff and edit.
    public static func encode(_ document: Document, path: String) throws(StorageError) -> [UInt8] {
        do {
            return Array(try JSONCoding.encode(document).render().utf8) + [UInt8(ascii: "\n")]
        } catch {
            throw .malformed(path: path, reason: "cannot be encoded: \(error)")
        }
    }
}

/// A decoding error as one line: where in the document, and what was wrong.
func describe(_ error: any Error) -> String {
    func at(_ path: [any CodingKey]) -> String {
        if path.isEmpty { return "the document" }
        return path.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            .drop { $0 == "." }.description
    }
    guard let e = error as? DecodingError else { return "\(error)" }
    switch e {
    case .keyNotFound(let key, let context):
        return "field \"\(key.stringValue)\" is missing in \(at(context.codingPath))"
    case .typeMismatch(_, let context):
        return "\(at(context.codingPath)): \(context.debugDescription)"
    case .valueNotFound(let type, let context):
        return "\(at(context.codingPath)) is null, expected \(type)"
    case .dataCorrupted(let context):
        let underlying = context.underlyingError.map { " (\($0))" } ?? ""
        return "\(at(context.codingPath)): \(context.debugDescription)\(underlying)"
    @unknown default:
        return "\(e)"
    }
}
