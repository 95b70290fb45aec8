import Identifiers
import Intelligence
import Storage

/// What the PAM application hands the module from whoever is at the other end: the user name
/// (PAM_USER) and the remote host (PAM_RHOST; with `UseDNS yes` sshd passes a name from the
/// client's reverse DNS). No crash; a name accepted as a user name can only ever name a file
/// inside its store's directory; nothing written to syslog about it carries a control
/// character.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSessionInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let name = try UserName(validating: text)
        let bytes = Array(name.rawValue.utf8)
        precondition(!bytes.isEmpty && bytes.count <= UserName.maxBytes && bytes.first != UInt8(ascii: "."))
        precondition(!bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0), "a path separator or NUL in a user name")
    } catch {
        precondition(!error.description.unicodeScalars.contains { $0.properties.generalCategory == .control },
                     "a control character in the refusal, which is logged")
    }
    let escaped = escapedForLog(text)
    // Scalars, not Characters: a combining mark after the opening quote joins its grapheme.
    precondition(escaped.unicodeScalars.first == "\"" && escaped.unicodeScalars.last == "\"")
    precondition(!escaped.unicodeScalars.contains { [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) },
                 "escapedForLog let an unprintable character through")
    _ = isRemote(rhost: text, localHostName: "host-a")
    precondition(isRemote(rhost: text, localHostName: "host-a") == isRemote(rhost: text.uppercased(), localHostName: "host-a")
                 || text.uppercased().lowercased() != text.lowercased(), "PAM_RHOST is case-sensitive")
    return 0
}
