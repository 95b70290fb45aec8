import CBOREncoding
import Identifiers
import Crypto

/// CBOR forms of the messages. Short text keys; every frame is a map. Anything that does
/// not decode exactly as expected is a `WireError`, and the exchange ends.
///
///   request (caller → helper)   {"v": 1, "op": …, operation fields}
///   question (helper → caller)  {"ask": "pin" | "new_pin" | "confirm_pin", …}
///   answer (caller → helper)    {"pin": bytes} or {"cancel": true}   (encoded by hand, wiped)
///   reply (helper → caller)     {"reply": …, fields}
public struct WireError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "malformed helper message: \(message)" }
}

// MARK: - Field access

private struct Fields {
    let map: [CBOR: CBOR]

    init(_ payload: [UInt8]) throws(WireError) {
        let value: CBOR
        do { value = try CBOR.decode(payload) } catch { throw WireError("\(error)") }
        guard case .map(let m) = value else { throw WireError("not a map") }
        map = m
    }

    func text(_ key: String) throws(WireError) -> String {
        guard let v = map[.textString(key)]?.textValue else { throw WireError("\"\(key)\" missing or not text") }
        return v
    }

    func bytes(_ key: String, count: Int? = nil) throws(WireError) -> [UInt8] {
        guard let v = map[.textString(key)]?.bytesValue else { throw WireError("\"\(key)\" missing or not bytes") }
        if let count, v.count != count { throw WireError("\"\(key)\" must be \(count) bytes") }
        return v
    }

    func optionalBytes(_ key: String) throws(WireError) -> [UInt8]? {
        guard let v = map[.textString(key)] else { return nil }
        guard let b = v.bytesValue else { throw WireError("\"\(key)\" is not bytes") }
        return b
    }

    func int(_ key: String) throws(WireError) -> Int64 {
        guard let v = map[.textString(key)]?.intValue else { throw WireError("\"\(key)\" missing or not an integer") }
        return v
    }

    func bool(_ key: String) throws(WireError) -> Bool {
        guard let v = map[.textString(key)]?.boolValue else { throw WireError("\"\(key)\" missing or not a boolean") }
        return v
    }

    func optionalText(_ key: String) throws(WireError) -> String? {
        guard let v = map[.textString(key)] else { return nil }
        guard let t = v.textValue else { throw WireError("\"\(key)\" is not text") }
        return t
    }

    func byteArray(_ key: String, max: Int) throws(WireError) -> [[UInt8]] {
        guard let a = map[.textString(key)]?.arrayValue else { throw WireError("\"\(key)\" missing or not an array") }
        guard a.count <= max else { throw WireError("\"\(key)\" has more than \(max) entries") }
        var out: [[UInt8]] = []
        for item in a {
            guard let b = item.bytesValue else { throw WireError("\"\(key)\" holds a non-bytes entry") }
            out.append(b)
        }
        return out
    }
}

private func map(_ pairs: [(String, CBOR?)]) -> [UInt8] {
    var m: [CBOR: CBOR] = [:]
    for (k, v) in pairs { if let v { m[.textString(k)] = v } }
    return CBOR.map(m).encoded()
}

/// Bounds on names and ids, so a hostile peer cannot make us carry megabytes around.
enum Limits {
    static let userName = 256
    static let rpID = 256
    static let allowList = 64
}

private func checkUser(_ u: String) throws(WireError) -> UserName {
    guard u.utf8.count <= Limits.userName else { throw WireError("user name too long") }
    do { return try UserName(validating: u) } catch { throw WireError("\(error)") }
}

private func checkRP(_ r: String) throws(WireError) -> String {
    guard !r.isEmpty, r.utf8.count <= Limits.rpID else { throw WireError("rp id empty or too long") }
    return r
}

private func checkID(_ id: [UInt8]) throws(WireError) -> CredentialID {
    do { return try CredentialID(checking: id) } catch { throw WireError("\(error)") }
}

private func target(_ f: Fields) throws(WireError) -> CeremonyTarget {
    guard let word = try f.optionalText("target") else { return .host }
    guard let target = CeremonyTarget(rawValue: word) else { throw WireError("unknown authenticator \"\(word.prefix(32))\"") }
    return target
}

// MARK: - Requests

extension HelperRequest {
    public func encoded() -> [UInt8] {
        let v: (String, CBOR?) = ("v", .int(Int64(HelperProtocolVersion.current)))
        switch self {
        case .status:
            return map([v, ("op", "status")])
        case .probe(let user, let rp, let keys, let presence, let others):
            return map([v, ("op", "probe"), ("user", .text(user.rawValue)), ("rp", .text(rp)),
                        ("keys", keys.isEmpty ? nil : .array(keys.map { .bytes($0.bytes) })),
                        ("key_presence", presence ? .bool(true) : nil),
                        ("other_rps", others.isEmpty ? nil : .array(others.map { o in
                            .map([.textString("rp"): .textString(o.rpID), .textString("keys"): .array(o.credentials.map { .bytes($0.bytes) })])
                        }))])
        case .makeCredential(let r):
            return map([v, ("op", "make"), ("user", .text(r.user.rawValue)), ("rp", .text(r.rpID)), ("cdh", .bytes(r.clientDataHash)),
                        ("uh", .bytes(r.userHandle)), ("replace", r.replacing.map { .bytes($0.bytes) }),
                        ("target", r.target == .host ? nil : .text(r.target.rawValue))])
        case .getAssertion(let r):
            return map([v, ("op", "get"), ("user", .text(r.user.rawValue)), ("rp", .text(r.rpID)), ("cdh", .bytes(r.clientDataHash)),
                        ("allow", .array(r.allowCredentials.map { .bytes($0.bytes) })),
                        ("target", r.target == .host ? nil : .text(r.target.rawValue))])
        case .deleteCredential(let user, let id):
            return map([v, ("op", "delete"), ("user", .text(user.rawValue)), ("cred", .bytes(id.bytes))])
        case .unlock(let user, let id):
            return map([v, ("op", "unlock"), ("user", .text(user.rawValue)), ("cred", id.map { .bytes($0.bytes) })])
        }
    }

    public init(decoding payload: [UInt8]) throws(WireError) {
        let f = try Fields(payload)
        let version = try f.int("v")
        guard version == HelperProtocolVersion.current else {
            throw WireError("protocol version \(version) is not supported (this helper speaks \(HelperProtocolVersion.current))")
        }
        switch try f.text("op") {
        case "status":
            self = .status
        case "probe":
            var keys: [CredentialID] = []
            if f.map[.textString("keys")] != nil {
                for id in try f.byteArray("keys", max: Limits.allowList) { keys.append(try checkID(id)) }
            }
            let presence = f.map[.textString("key_presence")] != nil ? try f.bool("key_presence") : false
            var others: [SecurityKeyLookup] = []
            if let list = f.map[.textString("other_rps")] {
                guard let items = list.arrayValue, items.count <= 8 else { throw WireError("\"other_rps\" is not a short list") }
                for item in items {
                    guard case .map(let m) = item else { throw WireError("\"other_rps\" entry is not a map") }
                    let o = Fields(map: m)
                    var ids: [CredentialID] = []
                    for id in try o.byteArray("keys", max: Limits.allowList) { ids.append(try checkID(id)) }
                    others.append(SecurityKeyLookup(rpID: try checkRP(o.text("rp")), credentials: ids))
                }
            }
            self = .probe(user: try checkUser(f.text("user")), rpID: try checkRP(f.text("rp")), securityKeyCredentials: keys,
                          securityKeyPresence: presence, otherRelyingParties: others)
        case "make":
            let replacing = try f.optionalBytes("replace").map { (b: [UInt8]) throws(WireError) in try checkID(b) }
            let handle = try f.bytes("uh")
            guard handle.count <= 64 else { throw WireError("user handle longer than 64 bytes") }
            self = .makeCredential(MakeCredentialRequest(user: try checkUser(f.text("user")), rpID: try checkRP(f.text("rp")),
                                                         clientDataHash: try f.bytes("cdh", count: 32), userHandle: handle,
                                                         replacing: replacing, target: try target(f)))
        case "get":
            var allow: [CredentialID] = []
            for id in try f.byteArray("allow", max: Limits.allowList) { allow.append(try checkID(id)) }
            self = .getAssertion(GetAssertionRequest(user: try checkUser(f.text("user")), rpID: try checkRP(f.text("rp")),
                                                     clientDataHash: try f.bytes("cdh", count: 32), allowCredentials: allow,
                                                     target: try target(f)))
        case "delete":
            self = .deleteCredential(user: try checkUser(f.text("user")), credentialID: try checkID(f.bytes("cred")))
        case "unlock":
            let id = try f.optionalBytes("cred").map { (b: [UInt8]) throws(WireError) in try checkID(b) }
            self = .unlock(user: try checkUser(f.text("user")), credentialID: id)
        case let op:
            throw WireError("unknown operation \"\(op.prefix(32))\"")
        }
    }
}

// MARK: - Helper → caller: questions and replies

/// Everything the helper sends: a question (more frames follow) or the final reply.
public enum HelperMessage: Equatable, Sendable {
    case question(PINQuestion)
    case notice(HelperNotice)
    case reply(HelperReply)

    public func encoded() -> [UInt8] {
        switch self {
        case .question(.existing(let id, let left, let retry)):
            return map([("ask", "pin"), ("cred", .bytes(id.bytes)), ("left", .int(Int64(left))), ("retry", .bool(retry))])
        case .question(.new(let minLength, let problem)):
            return map([("ask", "new_pin"), ("min", .int(Int64(minLength))), ("problem", problem.map(CBOR.text))])
        case .question(.confirm):
            return map([("ask", "confirm_pin")])
        case .question(.securityKey(let left, let retry)):
            return map([("ask", "key_pin"), ("left", .int(Int64(left))), ("retry", .bool(retry))])
        case .notice(.touch(let seconds)):
            return map([("notice", "touch"), ("seconds", .int(Int64(seconds)))])
        case .reply(let reply):
            return reply.encodedFields()
        }
    }

    public init(decoding payload: [UInt8]) throws(WireError) {
        let f = try Fields(payload)
        if let ask = f.map[.textString("ask")] {
            switch ask.textValue {
            case "pin":
                self = .question(.existing(credentialID: try checkID(f.bytes("cred")), attemptsLeft: Int(clamping: try f.int("left")),
                                           retry: try f.bool("retry")))
            case "new_pin":
                self = .question(.new(minLength: Int(clamping: try f.int("min")), problem: try f.optionalText("problem")))
            case "confirm_pin":
                self = .question(.confirm)
            case "key_pin":
                self = .question(.securityKey(retriesLeft: Int(clamping: try f.int("left")), retry: try f.bool("retry")))
            default:
                throw WireError("unknown question")
            }
            return
        }
        if let notice = f.map[.textString("notice")] {
            guard notice.textValue == "touch" else { throw WireError("unknown notice") }
            self = .notice(.touch(seconds: Int(clamping: min(max(try f.int("seconds"), 0), 600))))
            return
        }
        self = .reply(try HelperReply(fields: f))
    }
}

extension HelperReply {
    fileprivate func encodedFields() -> [UInt8] {
        switch self {
        case .status(let reports):
            return map([("reply", "status"), ("reports", .array(reports.map(Self.encode)))])
        case .probe(let reports):
            return map([("reply", "probe"), ("reports", .array(reports.map(Self.encode)))])
        case .created(let c):
            return map([("reply", "created"), ("cred", .bytes(c.credentialID.bytes)), ("att", .bytes(c.attestationObject))])
        case .assertion(let a):
            return map([("reply", "assertion"), ("cred", .bytes(a.credentialID.bytes)), ("ad", .bytes(a.authenticatorData)),
                        ("sig", .bytes(a.signature)), ("uh", a.userHandle.map(CBOR.bytes))])
        case .done:
            return map([("reply", "done")])
        case .failure(let e):
            return map([("reply", "failure"), ("code", .text(e.code.rawValue)), ("message", .text(e.message)),
                        ("left", e.attemptsLeft.map { .int(Int64($0)) })])
        }
    }

    private static func encode(_ r: AuthenticatorReport) -> CBOR {
        let h = r.health
        let creds: [CBOR] = r.held.map { c in
            .map([.text("id"): .bytes(c.id.bytes), .text("rp"): .text(c.rpID), .text("created"): .int(c.created),
                  .text("locked"): .bool(c.locked), .text("left"): .int(Int64(c.attemptsLeft))])
        }
        var m: [CBOR: CBOR] = [.text("kind"): .text(h.kind.rawValue), .text("aaguid"): .bytes(h.aaguid),
                               .text("state"): .text(h.condition.code), .text("creds"): .array(creds)]
        if let problem = h.condition.problem { m[.text("problem")] = .text(problem) }
        if let detail = h.detail { m[.text("detail")] = .text(detail) }
        return .map(m)
    }

    fileprivate init(fields f: Fields) throws(WireError) {
        func reports() throws(WireError) -> [AuthenticatorReport] {
            guard let list = f.map[.textString("reports")]?.arrayValue, list.count <= 16 else {
                throw WireError("\"reports\" missing or too long")
            }
            var reports: [AuthenticatorReport] = []
            for item in list {
                guard case .map(let m) = item else { throw WireError("authenticator report is not a map") }
                reports.append(try Self.report(Fields(map: m)))
            }
            return reports
        }
        switch try f.text("reply") {
        case "status":
            self = .status(try reports())
        case "probe":
            self = .probe(try reports())
        case "created":
            self = .created(CreatedCredential(credentialID: try checkID(f.bytes("cred")), attestationObject: try f.bytes("att")))
        case "assertion":
            self = .assertion(Assertion(credentialID: try checkID(f.bytes("cred")), authenticatorData: try f.bytes("ad"),
                                        signature: try f.bytes("sig"), userHandle: try f.optionalBytes("uh")))
        case "done":
            self = .done
        case "failure":
            guard let code = HelperFailure.Code(rawValue: try f.text("code")) else { throw WireError("unknown failure code") }
            let left = f.map[.textString("left")]?.intValue.map { Int(clamping: $0) }
            self = .failure(HelperFailure(code, String(try f.text("message").prefix(512)), attemptsLeft: left))
        case let other:
            throw WireError("unknown reply \"\(other.prefix(32))\"")
        }
    }
}

extension Fields {
    init(map: [CBOR: CBOR]) { self.map = map }
}

// MARK: - Caller → helper: PIN answers, encoded by hand so no copy of the PIN outlives the frame

public enum PINAnswer {
    /// `{"pin": h'…'}` or `{"cancel": true}` as a wiped buffer.
    public static func encode(_ pin: SecretBytes?) -> SecretBytes {
        guard let pin, !pin.isEmpty else {
            return SecretBytes([0xA1, 0x66] + Array("cancel".utf8) + [0xF5])
        }
        // The callers bound PINs to PINProblem.maxBytes (63); anything that got past them as
        // well is no PIN, and no input may abort the process it runs in: a cancel.
        guard pin.count <= PINProblem.maxBytes else {
            return SecretBytes([0xA1, 0x66] + Array("cancel".utf8) + [0xF5])
        }
        let header: [UInt8] = [0xA1, 0x63] + Array("pin".utf8) + (pin.count < 24 ? [0x40 | UInt8(pin.count)] : [0x58, UInt8(pin.count)])
        let out = SecretBytes(count: header.count + pin.count)
        out.withUnsafeMutableBytes { o in
            for (i, b) in header.enumerated() { o[i] = b }
            pin.withUnsafeBytes { p in
                for i in 0..<p.count { o[header.count + i] = p[i] }
            }
        }
        return out
    }

    /// The PIN (nil = cancel). Refuses anything but the two exact forms above.
    public static func decode(_ frame: SecretBytes) throws(WireError) -> SecretBytes? {
        try frame.withUnsafeBytes { f in Result { () throws(WireError) -> SecretBytes? in
            let cancel: [UInt8] = [0xA1, 0x66] + Array("cancel".utf8) + [0xF5]
            if f.count == cancel.count, f.elementsEqual(cancel) { return nil }
            let prefix: [UInt8] = [0xA1, 0x63] + Array("pin".utf8)
            guard f.count > prefix.count + 1, f.prefix(prefix.count).elementsEqual(prefix) else { throw WireError("answer is neither a PIN nor a cancel") }
            var i = prefix.count
            let major = f[i]
            let length: Int
            if major >= 0x40 && major < 0x58 {
                length = Int(major - 0x40); i += 1
            } else if major == 0x58, f.count > i + 1 {
                length = Int(f[i + 1]); i += 2
                guard length >= 24 else { throw WireError("PIN length not minimally encoded") }
            } else {
                throw WireError("PIN is not a short byte string")
            }
            guard i + length == f.count else { throw WireError("PIN length does not match the frame") }
            return SecretBytes(UnsafeRawBufferPointer(rebasing: f[i..<(i + length)]))
        } }.get()
    }
}

extension HelperReply {
    fileprivate static func report(_ r: Fields) throws(WireError) -> AuthenticatorReport {
        guard let kind = AuthenticatorKind(rawValue: try r.text("kind")) else { throw WireError("unknown authenticator kind") }
        let problem = try r.optionalText("problem").map { String($0.prefix(512)) }
        guard let condition = AuthenticatorCondition(code: try r.text("state"), problem: problem) else {
            throw WireError("authenticator state and problem do not agree")
        }
        guard let list = r.map[.textString("creds")]?.arrayValue, list.count <= 256 else { throw WireError("\"creds\" missing or too long") }
        var held: [HeldCredential] = []
        for item in list {
            guard case .map(let m) = item else { throw WireError("credential entry is not a map") }
            let c = Fields(map: m)
            held.append(HeldCredential(id: try checkID(c.bytes("id")), rpID: try c.text("rp"), created: try c.int("created"),
                                       locked: try c.bool("locked"), attemptsLeft: Int(clamping: try c.int("left"))))
        }
        return AuthenticatorReport(health: AuthenticatorHealth(kind: kind, aaguid: try r.bytes("aaguid"), condition: condition,
                                                               detail: try r.optionalText("detail")),
                                   held: held)
    }
}
