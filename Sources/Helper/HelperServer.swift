#if canImport(Glibc)
import Glibc
#endif
import Authenticator
import CSpawn
import Crypto
import HelperProtocol
import Identifiers
import Policy
import Storage

/// Serves requests on the channel, one after the other, until the caller closes it: the
/// module probes and then signs in with one process. Anything malformed ends the exchange.
struct HelperServer {
    let channel: FrameChannel
    let invocation: Invocation
    let policyPath: String

    /// How long the caller may take to send a request, and to answer a question (a person
    /// is typing a PIN; a caller that died closes the socket and ends this at once).
    static let requestTimeout = 30
    static let answerTimeout = 300
    /// More than any caller needs (probe, then a ceremony, then perhaps a clean-up).
    static let maxRequests = 8

    /// Returns whether every request got its reply.
    func run() -> Bool {
        var authenticator = Backends.notBuilt
        let afterReply = AfterReply()
        for served in 0..<Self.maxRequests {
            let request: HelperRequest
            do {
                // The caller closing the connection is the normal end, after its last request.
                guard let frame = try channel.receive(timeoutSeconds: Self.requestTimeout) else { return served > 0 }
                request = try HelperRequest(decoding: frame)
            } catch let e as WireError {
                _ = reply(.failure(HelperFailure(.badRequest, e.description)), op: "?", user: nil)
                return false
            } catch {
                HelperLog.write(LOG_ERR, "no request: \(error)")
                return false
            }
            // One walk per directory for the request: the policy file's directories, the state
            // directory and the keyrings under it are opened (O_NOFOLLOW) and checked once, as
            // the module does for a PAM call. Nothing is kept for the next request.
            let answer = SecureDirectory.sharingWalks { () -> HelperReply in
                if case .notBuilt = authenticator {
                    do throws(HelperFailure) { authenticator = .built(try AuthenticatorFactory.make(policyPath: policyPath, afterReply: afterReply)) } catch {
                        authenticator = .failed(error)
                    }
                }
                return serve(request, authenticator)
            }
            let sent = reply(answer, op: request.operationName, user: request.user)
            // The caller has its answer; now the bookkeeping that need not delay it (done even
            // when the reply could not be sent).
            for f in afterReply.run() {
                HelperLog.write(LOG_WARNING, "\(request.operationName) \(request.user.map { "user=\($0) " } ?? "")after the reply: \(f.code.rawValue): \(f.message)")
            }
            guard sent else { return false }
        }
        return true
    }

    /// The backends, built at the first request (from the policy read then). Not a
    /// `Result<Authenticators, HelperFailure>?`: that generic type's metadata is made at run
    /// time, ~120 k instructions before a fresh helper's first reply.
    private enum Backends {
        case notBuilt
        case built(Authenticators)
        case failed(HelperFailure)
    }

    private func serve(_ request: HelperRequest, _ backend: Backends) -> HelperReply {
        if let refusal = permissionProblem(request) { return .failure(refusal) }
        let authenticator: HostAuthenticator, keys: SecurityKeys
        switch backend {
        case .built(let a): (authenticator, keys) = (a.host, a.securityKeys)
        case .failed(let f): return .failure(f)
        case .notBuilt: return .failure(HelperFailure(.internalError, "no authenticator was built"))
        }
        let prompter = ChannelPrompter(channel: channel)
        do throws(HelperFailure) {
            switch request {
            case .status:
                return .status([AuthenticatorReport(health: authenticator.health())])
            case .probe(let user, let rp, let roaming, let presence, let others):
                let health = authenticator.health()
                return .probe([AuthenticatorReport(health: health,
                                                   held: health.isHealthy ? try authenticator.credentials(user: user, rpID: rp) : [])]
                              + keys.reports(looking: [SecurityKeyLookup(rpID: rp, credentials: roaming)] + others, presence: presence))
            case .makeCredential(let r):
                switch r.target {
                case .host:
                    if let missing = cryptographyProblem() { return .failure(missing) }
                    return .created(try authenticator.makeCredential(r, pins: prompter))
                case .securityKey: return .created(try keys.makeCredential(r, pins: prompter))
                }
            case .getAssertion(let r):
                // A caller that is not root cannot write the registry or the host history:
                // what the module records for root is recorded here, the counter this
                // signature carries before it is handed over (an assertion whose use is not
                // on disk is not a login).
                let recorder = invocation.callerIsRoot ? nil : UseRecorder(policyPath: policyPath)
                if case .host = r.target, let missing = cryptographyProblem() { return .failure(missing) }
                do throws(HelperFailure) {
                    let assertion = switch r.target {
                    case .host: try authenticator.getAssertion(r, pins: prompter)
                    case .securityKey: try keys.getAssertion(r, pins: prompter)
                    }
                    try recorder?.record(r, assertion)
                    return .assertion(assertion)
                } catch {
                    recorder?.recordFailure(error, user: r.user, credentialID: prompter.askedFor.value)
                    throw error
                }
            case .deleteCredential(let user, let id):
                try authenticator.deleteCredential(user: user, credentialID: id)
                return .done
            case .unlock(let user, let id):
                try authenticator.unlock(user: user, credentialID: id)
                return .done
            }
        } catch {
            return .failure(error)
        }
    }

    /// libcrypto is opened on first use (Sources/CLibcryptoLoader), so it may be missing here
    /// while status still answers: a passkey on this computer is neither made nor used without
    /// it, and that is said before any PIN is asked for (a PIN that could not be checked must
    /// not count as a wrong one). A security key's library, libfido2, reports its own failure.
    private func cryptographyProblem() -> HelperFailure? {
        Libcrypto.problem.map { HelperFailure(.unavailable, "cannot use a passkey on this computer: \($0)") }
    }

    /// The unix_chkpwd rule: a caller that is not root acts only for its own account, and
    /// only to use a passkey — never to create, delete or unlock one.
    func permissionProblem(_ request: HelperRequest) -> HelperFailure? {
        guard !invocation.callerIsRoot else { return nil }
        switch request {
        case .status:
            return nil
        case .probe, .getAssertion:
            guard let user = request.user, invocation.isCallersOwnAccount(user) else {
                return HelperFailure(.notPermitted, "a caller that is not root may only use its own account's passkeys")
            }
            return nil
        case .makeCredential, .deleteCredential, .unlock:
            return HelperFailure(.notPermitted, "creating, deleting or unlocking passkeys needs root")
        }
    }

    /// Sends the reply, then logs it: the caller is waiting for the reply, and the log line
    /// (glibc reads /etc/localtime and connects to /dev/log for it) need not delay it.
    private func reply(_ reply: HelperReply, op: String, user: UserName?) -> Bool {
        let who = user.map { "user=\($0) " } ?? ""
        let undelivered: ChannelError?
        do throws(ChannelError) {
            try channel.send(HelperMessage.reply(reply).encoded())
            undelivered = nil
        } catch {
            undelivered = error
        }
        switch reply {
        case .failure(let f):
            HelperLog.write(f.code == .internalError || f.code == .unavailable ? LOG_ERR : LOG_NOTICE,
                            "\(op) \(who)failed: \(f.code.rawValue): \(f.message)")
        default:
            HelperLog.write(LOG_INFO, "\(op) \(who)ok")
        }
        if let undelivered {
            HelperLog.write(LOG_NOTICE, "\(op) \(who)reply not delivered: \(undelivered)")
            return false
        }
        return true
    }
}

/// Asks the caller for PINs over the channel.
struct ChannelPrompter: PINPrompter {
    let channel: FrameChannel
    /// The credential the last PIN question was about (the one a lockout is about).
    let askedFor = Box<CredentialID?>(nil)

    final class Box<T> {
        var value: T
        init(_ value: T) { self.value = value }
    }

    func answer(_ question: PINQuestion) throws(HelperFailure) -> SecretBytes? {
        if case .existing(let id, _, _) = question { askedFor.value = id }
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

    func notify(_ notice: HelperNotice) throws(HelperFailure) {
        do { try channel.send(HelperMessage.notice(notice).encoded()) } catch {
            throw HelperFailure(.cancelled, "the caller went away: \(error)")
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
        text.withCString { pam_passkey_helper_syslog(priority, $0) }
    }
}
