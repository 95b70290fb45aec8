#if canImport(Glibc)
import Glibc
#endif
import Authenticator
import Crypto
import HelperProtocol
import Policy

/// Serves one request on the channel.
struct HelperServer {
    let channel: FrameChannel
    let invocation: Invocation
    let policyPath: String

    /// How long the caller may take to send its request, and to answer a question (a person
    /// is typing a PIN; a caller that died closes the socket and ends this at once).
    static let requestTimeout = 30
    static let answerTimeout = 300

    /// Returns whether a reply was delivered.
    func run() -> Bool {
        let request: HelperRequest
        do {
            guard let frame = try channel.receive(timeoutSeconds: Self.requestTimeout) else { return false }
            request = try HelperRequest(decoding: frame)
        } catch let e as WireError {
            return reply(.failure(HelperFailure(.badRequest, e.description)), op: "?", user: nil)
        } catch {
            HelperLog.write(LOG_ERR, "no request: \(error)")
            return false
        }
        let op = request.operationName
        if let refusal = permissionProblem(request) {
            return reply(.failure(refusal), op: op, user: request.user)
        }
        let authenticator: HostAuthenticator
        do {
            authenticator = try AuthenticatorFactory.make(policyPath: policyPath)
        } catch {
            return reply(.failure(error), op: op, user: request.user)
        }
        let prompter = ChannelPrompter(channel: channel)
        let result: HelperReply
        do {
            switch request {
            case .status:
                result = .status(authenticator.health())
            case .probe(let user, let rp):
                let health = authenticator.health()
                result = .probe(health, health.isHealthy ? try authenticator.credentials(user: user, rpID: rp) : [])
            case .makeCredential(let r):
                result = .created(try authenticator.makeCredential(r, pins: prompter))
            case .getAssertion(let r):
                result = .assertion(try authenticator.getAssertion(r, pins: prompter))
            case .deleteCredential(let user, let id):
                try authenticator.deleteCredential(user: user, credentialID: id)
                result = .done
            case .unlock(let user, let id):
                try authenticator.unlock(user: user, credentialID: id)
                result = .done
            }
        } catch {
            result = .failure(error)
        }
        return reply(result, op: op, user: request.user)
    }

    /// The unix_chkpwd rule: a caller that is not root acts only for its own account, and
    /// only to use a passkey — never to create, delete or unlock one.
    func permissionProblem(_ request: HelperRequest) -> HelperFailure? {
        guard !invocation.callerIsRoot else { return nil }
        switch request {
        case .status:
            return nil
        case .probe, .getAssertion:
            guard let user = request.user, let caller = invocation.callerName(), user == caller else {
                return HelperFailure(.notPermitted, "a caller that is not root may only use its own account's passkeys")
            }
            return nil
        case .makeCredential, .deleteCredential, .unlock:
            return HelperFailure(.notPermitted, "creating, deleting or unlocking passkeys needs root")
        }
    }

    private func reply(_ reply: HelperReply, op: String, user: String?) -> Bool {
        let who = user.map { "user=\($0) " } ?? ""
        switch reply {
        case .failure(let f):
            HelperLog.write(f.code == .internalError || f.code == .unavailable ? LOG_ERR : LOG_NOTICE,
                            "\(op) \(who)failed: \(f.code.rawValue): \(f.message)")
        default:
            HelperLog.write(LOG_INFO, "\(op) \(who)ok")
        }
        do {
            try channel.send(HelperMessage.reply(reply).encoded())
            return true
        } catch {
            HelperLog.write(LOG_NOTICE, "\(op) \(who)reply not delivered: \(error)")
            return false
        }
    }
}

/// Asks the caller for PINs over the channel.
struct ChannelPrompter: PINPrompter {
    let channel: FrameChannel

    func answer(_ question: PINQuestion) throws(HelperFailure) -> SecretBytes? {
        do {
            try channel.send(HelperMessage.question(question).encoded())
            guard let frame = try channel.receiveSecret(timeoutSeconds: HelperServer.answerTimeout) else {
                throw HelperFailure(.cancelled, "the caller went away")
            }
            return try PINAnswer.decode(frame)
        } catch let e as HelperFailure {
            throw e
        } catch let e as WireError {
            throw HelperFailure(.badRequest, e.description)
        } catch {
            throw HelperFailure(.cancelled, "no answer from the caller: \(error)")
        }
    }
}

extension HelperRequest {
    var operationName: String {
        switch self {
        case .status: return "status"
        case .probe: return "probe"
        case .makeCredential(let r): return r.replacing == nil ? "make-credential" : "replace-credential"
        case .getAssertion: return "get-assertion"
        case .deleteCredential: return "delete-credential"
        case .unlock: return "unlock"
        }
    }
}

enum HelperLog {
    static func write(_ priority: Int32, _ text: String) {
        openlog("pam_passkey_helper", LOG_PID, LOG_AUTHPRIV)
        text.withCString { t in
            withVaList([t]) { vsyslog(priority, "%s", $0) }
        }
    }
}
