/// The question the append step asks before it may offer: can its line run at pam_setcred
/// after pam_authenticate failed, in the stack of the service it runs in?
public enum OfferGuard {
    /// Nil when no path to an append line ends in a failed authentication. Otherwise why an
    /// offer could follow one, or why that cannot be known (the stack cannot be read, the
    /// module's own line is not in it), naming the file and line and the fix.
    ///
    /// - `service`: PAM_SERVICE.
    /// - `stackFile`: the module's `stack=` argument, the service file an application with
    ///   its own PAM directory (pam_start_confdir) read; nil for /etc/pam.d.
    /// - `arguments`: the module's own arguments, which one of the append lines must have.
    public static func problem(service: String, stackFile: String?, arguments: [String],
                               source: any StackSource = SecureStackSource(), catalog: ModuleCatalog = .system) -> String? {
        let location: StackLocation
        if let stackFile {
            guard stackFile.hasPrefix("/"), let slash = stackFile.utf8.lastIndex(of: UInt8(ascii: "/")) else {
                return "stack=\(stackFile) is not an absolute path"
            }
            let directory = String(stackFile[..<slash])
            location = .confdir(directory.isEmpty ? "/" : directory)
        } else {
            location = .system
        }
        let chain: AuthChain
        do {
            chain = try AuthChain.load(service: service, location: location, source: source)
        } catch {
            return "cannot follow the auth stack of \(service): \(error)"
        }
        if let stackFile, chain.file != stackFile {
            return "stack=\(stackFile) is not the file libpam reads for the service \(service) (\(chain.file)); name that file"
        }
        let ownLines = chain.entries.compactMap { entry -> AuthChain.Call? in
            if case .call(let c) = entry.entry, c.isAppendStep, c.arguments == arguments { return c }
            return nil
        }
        guard !ownLines.isEmpty else {
            let hint = stackFile == nil ? "; an application with its own PAM directory (pam_start_confdir) needs stack=PATH on the line" : ""
            return "the auth stack of \(service) (\(chain.file)) has no pam_passkey.so line with these arguments (\(arguments.joined(separator: " ")))\(hint)"
        }
        switch AppendSafety.check(chain, catalog: catalog) {
        case .safe: return nil
        case .noAppendLine: return "the auth stack of \(service) (\(chain.file)) has no append line"
        case .unsafe(let path): return path.description
        }
    }
}
