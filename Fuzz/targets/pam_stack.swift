import PAMStack

/// Service files as the append step reads them, over any bytes: the input is a service file
/// and, after the first 0xFF byte, a file it may include (`x`). No crash in parsing, in
/// following includes or in the search; every line found is a line of its file, every control
/// has an action for each return code, and an unsafe verdict names lines of the chain.
private struct Files: StackSource {
    let files: [String: [UInt8]]
    func read(_ path: String) throws(StackProblem) -> [UInt8]? { files[path] }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPAMStack(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let cut = bytes.firstIndex(of: 0xFF) ?? bytes.endIndex
    let service = Array(bytes[..<cut])
    let included = cut < bytes.endIndex ? Array(bytes[(cut + 1)...]) : []
    let files = Files(files: ["/etc/pam.d/s": service, "/etc/pam.d/x": included, "/etc/pam.d/other": included])
    for (path, content) in files.files {
        guard let lines = try? ConfigFile.parse(content, path: path) else { continue }
        let count = content.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
        for line in lines {
            precondition(line.ref.number >= 1 && line.ref.number <= count, "line \(line.ref.number) of \(count)")
            if case .module(let control?, _, _) = line.kind { precondition(control.actions.count == ReturnCode.count) }
        }
    }
    // Modules named pam_* exist, others do not (they answer module_unknown).
    let catalog = ModuleCatalog { $0.hasPrefix("pam_") }
    guard let chain = try? AuthChain.load(service: "s", location: .system, source: files) else { return 0 }
    let refs = Set(chain.entries.compactMap { entry -> LineRef? in
        if case .call(let c) = entry.entry { return c.ref } else { return nil }
    })
    if case .unsafe(let path) = AppendSafety.check(chain, catalog: catalog) {
        precondition(refs.contains(path.appendLine), "the append line is not in the chain")
        precondition(refs.contains(path.culprit), "the culprit is not a line of the chain")
    }
    _ = OfferGuard.problem(service: "s", stackFile: nil, arguments: ["append"], source: files, catalog: catalog)
    return 0
}
