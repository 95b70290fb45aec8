/// The `auth` lines of one service in the order libpam runs them, with `include`,
/// `substack` and `@include` followed: what pam_authenticate walks and pam_setcred walks
/// again (libpam/pam_handlers.c, with Debian's patch 031_pam_include, which adds `@include`
/// and makes every include name without a path a file of /etc/pam.d).
public struct AuthChain: Sendable {
    /// A line libpam calls.
    public struct Call: Sendable {
        public let ref: LineRef
        public let control: Control
        /// The module as written (a path, or a name in libpam's module directory); nil when
        /// the line has none.
        public let module: String?
        public let arguments: [String]
        /// libpam installed the line as one that always answers `perm_denied`: a type it
        /// does not know, or no control or no module.
        public let alwaysFails: Bool

        /// The module's file name, `pam_unix.so` for `/lib/…/pam_unix.so`.
        public var moduleName: String? {
            module.flatMap { $0.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) }
        }

        /// A pam_passkey.so line with the `append` argument: the step that offers a passkey.
        public var isAppendStep: Bool { !alwaysFails && moduleName == "pam_passkey.so" && arguments.contains("append") }
    }

    public enum Entry: Sendable {
        case call(Call)
        /// `auth substack name`: libpam skips the line itself; the file's lines follow one
        /// level deeper, and `done`, `die` and jumps inside stay inside.
        case substack(LineRef)
    }

    /// The lines, each with its substack depth (0 for the service's own level).
    public let entries: [(level: Int, entry: Entry)]
    /// The file the service's auth lines come from: the service file, or `other`.
    public let file: String

    public var appendLines: [LineRef] {
        entries.compactMap { if case .call(let c) = $0.entry, c.isAppendStep { return c.ref } else { return nil } }
    }

    /// libpam gives up on substacks nested this deep.
    static let maxLevel = 16
    static let maxFiles = 64
    static let maxEntries = 4096

    /// The chain libpam builds for `service`: the auth lines of its file, or those of
    /// `other` when there is no such file or it has no auth lines.
    public static func load(service: String, location: StackLocation, source: any StackSource) throws(StackProblem) -> AuthChain {
        let utf8 = Array(service.utf8)
        if utf8.isEmpty || utf8.contains(UInt8(ascii: "/")) || utf8.contains(0) || service == "." || service == ".." {
            throw StackProblem("the service name \"\(service)\" does not name a file in \(location.directories.joined(separator: " or "))")
        }
        var builder = Builder(location: location, source: source)
        let isOther = asciiLowercased(service) == "other"
        var own: [(Int, Entry)] = []
        var ownFile: String? = nil
        if let (path, bytes) = try builder.find(service) {
            ownFile = path
            let lines = try builder.expand(try ConfigFile.parse(bytes, path: path), level: 0, visiting: [path])
            if !isOther { own = lines }
        }
        let (otherEntries, otherFile) = try builder.other()
        var fallback = otherEntries
        // Asked for the service `other`, libpam reads the file twice, both times as `other`.
        if isOther { fallback += fallback }
        if !own.isEmpty, let ownFile { return AuthChain(entries: own, file: ownFile) }
        if let otherFile { return AuthChain(entries: fallback, file: otherFile) }
        if let ownFile { return AuthChain(entries: [], file: ownFile) }
        throw StackProblem("neither \(service) nor other exists in \(location.directories.joined(separator: " or "))")
    }

    /// The chain of a service that has no auth lines of its own: `other`'s.
    public static func loadOther(location: StackLocation, source: any StackSource) throws(StackProblem) -> AuthChain {
        var builder = Builder(location: location, source: source)
        let (entries, file) = try builder.other()
        guard let file else { throw StackProblem("other does not exist in \(location.directories.joined(separator: " or "))") }
        return AuthChain(entries: entries, file: file)
    }

    struct Builder {
        let location: StackLocation
        let source: any StackSource
        var files = 0
        var count = 0

        /// The first of the location's directories that has `name`, and its content.
        mutating func find(_ name: String) throws(StackProblem) -> (String, [UInt8])? {
            let candidates = name.hasPrefix("/") ? [name] : location.directories.map { join($0, name) }
            for path in candidates {
                if let bytes = try source.read(path) {
                    files += 1
                    if files > AuthChain.maxFiles { throw StackProblem("\(path): more than \(AuthChain.maxFiles) files are included") }
                    return (path, bytes)
                }
            }
            return nil
        }

        /// `other`'s auth lines and its file, if there is one.
        mutating func other() throws(StackProblem) -> ([(Int, Entry)], String?) {
            guard let (path, bytes) = try find("other") else { return ([], nil) }
            return (try expand(try ConfigFile.parse(bytes, path: path), level: 0, visiting: [path]), path)
        }

        mutating func expand(_ lines: [ConfigLine], level: Int, visiting: [String]) throws(StackProblem) -> [(Int, Entry)] {
            var result: [(Int, Entry)] = []
            for line in lines {
                let place = "\(line.ref) (\(line.ref.text))"
                switch line.kind {
                case .atInclude(let name):
                    guard let name else { throw StackProblem("\(place): @include names no file") }
                    let path = name.hasPrefix("/") ? name : join(location.includeDirectory, name)
                    guard let (found, bytes) = try find(path) else {
                        throw StackProblem("\(place): \(path) does not exist, so libpam refuses the whole stack")
                    }
                    result += try included(found, bytes, from: place, level: level, visiting: visiting)
                case .include(let name, let substack):
                    // A type libpam does not know counts as auth.
                    guard line.type ?? "auth" == "auth" else { continue }
                    guard let name else { throw StackProblem("\(place): \(substack ? "substack" : "include") names no file") }
                    let path = name.hasPrefix("/") ? name : join(location.includeDirectory, name)
                    guard let (found, bytes) = try find(path) else {
                        throw StackProblem("\(place): \(path) does not exist, so every login through this line fails")
                    }
                    let inner = substack ? level + 1 : level
                    if inner >= AuthChain.maxLevel { throw StackProblem("\(place): substacks nested \(inner) deep; libpam stops at \(AuthChain.maxLevel)") }
                    if substack { result.append((level, .substack(line.ref))) }
                    result += try included(found, bytes, from: place, level: inner, visiting: visiting)
                case .module(let control, let path, let arguments):
                    guard line.type ?? "auth" == "auth" else { continue }
                    let alwaysFails = line.type == nil || control == nil || path == nil
                    result.append((level, .call(Call(ref: line.ref, control: control ?? .allBad, module: path,
                                                     arguments: arguments, alwaysFails: alwaysFails))))
                }
                count += 1
                if count > AuthChain.maxEntries { throw StackProblem("\(place): the stack has more than \(AuthChain.maxEntries) lines") }
            }
            return result
        }

        mutating func included(_ path: String, _ bytes: [UInt8], from place: String, level: Int,
                               visiting: [String]) throws(StackProblem) -> [(Int, Entry)] {
            if visiting.contains(path) { throw StackProblem("\(place): includes \(path) again, inside itself") }
            return try expand(try ConfigFile.parse(bytes, path: path), level: level, visiting: visiting + [path])
        }
    }
}
