#if canImport(Glibc)
import Glibc
#endif
import CBOREncoding
import Crypto
import Identifiers
import Intelligence
import JSON
import Registry
import RelyingParty
import WebAuthn

/// Registers a security-key credential made by another tool: libfido2's `fido2-cred -M`.
enum ImportCommand {
    static let spec = CommandSpec(
        "import", synopsis: "USER --fido2-cred FILE --client-data FILE [--label TEXT] [--json]",
        summary: "Register for USER a credential a FIDO2 security key made with fido2-cred -M (libfido2's tool), after verifying it as at enrollment.",
        details: [
            "--client-data is the clientDataJSON whose SHA-256 was fido2-cred's client data hash: {\"type\":\"webauthn.create\",\"challenge\":…,\"origin\":\"pam://RP_ID\"}, with RP_ID the policy's rp_id and any base64url challenge. fido2-cred must be given that rp_id, the user verification flag (-v) and the key's PIN.",
            "--fido2-cred is what fido2-cred -M wrote: the client data hash, the relying party, the attestation format, the authenticator data, the credential id, the signature and, for keys with an attestation certificate, the certificate, one per line. The credential is registered as a roaming passkey: it signs in on every host that shares the registry while the key is plugged in.",
        ],
        options: [
            .valued("--fido2-cred", "FILE", "the output of fido2-cred -M"),
            .valued("--client-data", "FILE", "the clientDataJSON whose hash fido2-cred signed"),
            .valued("--label", "TEXT", "a name for the passkey, shown by list"),
            .flag("--json", "print the new credential as JSON"),
        ],
        operands: ["USER"], run: run)

    static func run(_ inv: Invocation) throws(CLIError) {
        let user = try userName(inv.operands[0], command: "import")
        guard let credPath = inv.value("--fido2-cred"), let clientPath = inv.value("--client-data") else {
            throw .usage("import", "both --fido2-cred FILE and --client-data FILE are needed")
        }
        let label = try inv.label(command: "import")
        try inv.requireRoot()
        let site = try inv.site()
        try requireAccount(user)
        let clientDataJSON = try readInput(clientPath)
        let made = try Fido2CredOutput(text: String(decoding: try readInput(credPath), as: UTF8.self), path: credPath)
        guard made.clientDataHash == SHA256.hash(clientDataJSON) else {
            throw .failed("\(credPath) was made over another client data hash than the SHA-256 of \(clientPath); give fido2-cred the hash of this clientDataJSON")
        }
        guard made.rpID == site.relyingParty.rpID else {
            throw .failed("\(credPath) is for relying party \(printable(made.rpID)), not this policy's rp_id \(site.relyingParty.rpID); make it again with that rp_id")
        }
        switch site.relyingParty.importSecurityKeyCredential(user: user, attestationObject: made.attestationObject,
                                                           clientDataJSON: clientDataJSON, label: label) {
        case .created(let credential, let computers):
            if inv.json {
                Output.line(JSONValue.object([("format", .int(1)), ("credential", credential.json(user: user.rawValue)),
                                              ("hosts_with_passkeys", .int(computers))]).render())
            } else {
                Output.line("Registered the security key's passkey \(credential.id) for \(user).")
            }
        case .cancelled:
            throw .failed("nothing was registered for \(user)")
        case .failed(let why):
            throw .failed("nothing was registered for \(user): \(why)")
        }
    }

    /// The file's bytes (at most 64 KiB). Not a state file: what it says is verified.
    static func readInput(_ path: String) throws(CLIError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw .failed("cannot read \(printable(path)): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while out.count <= 65536 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .failed("cannot read \(printable(path)): \(String(cString: strerror(errno)))") }
            if n == 0 { return out }
            out += buffer[..<n]
        }
        throw .failed("\(printable(path)) is larger than 64 KiB; it is not what fido2-cred -M writes")
    }
}

/// What `fido2-cred -M` writes, one item per line, binary items in base64: the client data
/// hash, the relying party, the format, the authenticator data (as a CBOR byte string), the
/// credential id, the signature, and an attestation certificate when the key has one.
struct Fido2CredOutput {
    let clientDataHash: [UInt8]
    let rpID: String
    let attestationObject: [UInt8]

    init(text: String, path: String) throws(CLIError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        func bad(_ why: String) -> CLIError { .failed("\(printable(path)) is not fido2-cred -M output: \(why)") }
        guard lines.count == 6 || lines.count == 7 else { throw bad("it has \(lines.count) lines, not 6 or 7") }
        func bytes(_ i: Int, _ what: String) throws(CLIError) -> [UInt8] {
            guard let b = Self.base64(lines[i]) else { throw bad("line \(i + 1) (\(what)) is not base64") }
            return b
        }
        clientDataHash = try bytes(0, "client data hash")
        rpID = lines[1]
        let format = lines[2]
        guard case .byteString(let authData)? = try? CBOR.decode(try bytes(3, "authenticator data")) else {
            throw bad("line 4 (authenticator data) is not a CBOR byte string")
        }
        _ = try bytes(4, "credential id")
        let signature = try bytes(5, "signature")
        var statement: [CBOR: CBOR] = [:]
        switch format {
        case "packed":
            statement[.textString("alg")] = .int(-7)
            statement[.textString("sig")] = .byteString(signature)
            if lines.count == 7 { statement[.textString("x5c")] = .array([.byteString(try bytes(6, "certificate"))]) }
        case "none":
            break
        default:
            throw bad("attestation format \(printable(format)) is not packed or none")
        }
        attestationObject = CBOR.map([.textString("fmt"): .textString(format), .textString("attStmt"): .map(statement),
                                      .textString("authData"): .byteString(authData)]).encoded()
    }

    /// Standard base64 with padding, as fido2-cred writes it.
    static func base64(_ text: String) -> [UInt8]? {
        var url = ""
        for c in text.unicodeScalars {
            switch c {
            case "+": url.append("-")
            case "/": url.append("_")
            case "=": continue
            case "-", "_": return nil
            default: url.unicodeScalars.append(c)
            }
        }
        return Base64URL.decode(url)
    }
}
