import Policy

/// The policy file parser over any text (Policy.load refuses what is not UTF-8 before it
/// parses): no crash, every warning names a line of the file, and no warning carries a
/// control character into syslog, where it could forge a line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    let (policy, warnings) = Policy.parse(text, source: "/fuzz/pam_passkey.conf")
    // Lines end at LF, as the parser counts them (a CRLF file's CR is trailing whitespace).
    let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
    for w in warnings {
        precondition(w.line >= 1 && w.line <= lines, "warning on line \(w.line) of \(lines)")
        precondition(!w.description.unicodeScalars.contains { $0.properties.generalCategory == .control }, "control character in a warning")
    }
    // Values that were accepted read back as their type.
    _ = (policy[.rpID], policy[.registryDir], policy[.pinMinLength], policy[.remoteSessions], policy[.appendSkipServices],
         policy[.helperTimeout], policy[.append], policy[.authenticator])
    return 0
}
