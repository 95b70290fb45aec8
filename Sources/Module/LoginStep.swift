import CPAM
import HostState
import Intelligence
import Registry
import RelyingParty
import Wiring
import Storage
import Wording
import Identifiers

/// The first pam_passkey line: decide, then either run the passkey ceremony or step aside
/// for the password module. Return codes (docs/ARCHITECTURE.md): passkey verified → PAM_SUCCESS; step
/// aside → PAM_IGNORE; wrong PIN, lock, failed verification → PAM_AUTH_ERR; registry,
/// history or helper unusable → PAM_AUTHINFO_UNAVAIL. Only a verified, recorded assertion
/// returns PAM_SUCCESS.
struct LoginStep {
    let call: ModuleCall
    var handle: PAMHandle { call.handle }

    func run() -> Int32 {
        guard let userText = handle.user() else {
            handle.log(LOG_ERR, "login: no user name from the application; stepping aside")
            return PAM_IGNORE
        }
        guard let user = try? UserName(validating: userText) else {
            // Not a possible account name: behave exactly as for a user without passkeys.
            note(.noCredentials)
            call.logDecision(user: userText, step: "login", name: "step_aside", code: "invalid_user_name",
                             summary: "the user name cannot name a registry record")
            return PAM_IGNORE
        }
        _ = handle.setData(LoginNote.userKey, user.rawValue)
        guard let site = call.loadSite() else {
            note(code: "policy_unusable")
            return PAM_IGNORE
        }
        // One helper process serves the probe and the ceremony; it ends before libpam regains control.
        defer { site.relyingParty.finish() }
        let session = call.session()
        let gathered: Gathered
        do {
            gathered = try site.gather(for: user, session: session, probe: .whenItCanDecide)
        } catch .registryOffline(_, let detail) {
            let reason = StepAsideReason.registryOffline(detail)
            note(reason)
            call.logDecision(user: userText, step: "login", name: "step_aside", code: reason.code, summary: reason.summary,
                             priority: LOG_WARNING)
            return PAM_IGNORE
        } catch {
            note(code: "state_unreadable")
            call.logDecision(user: userText, step: "login", name: "step_aside", code: "state_unreadable",
                             summary: error.description, priority: LOG_ERR)
            return PAM_AUTHINFO_UNAVAIL
        }
        let signals = gathered.signals
        let decision = decideLogin(signals, policy: site.policy)
        call.logDecision(user: userText, step: "login", name: decision.name, code: decision.code, summary: decision.summary,
                         priority: LOG_INFO)
        if call.debug || site.policy[.debug] { handle.log(LOG_DEBUG, explain(signals, policy: site.policy).summary) }

        switch decision {
        case .stepAside(let reason):
            if let message = decision.userMessage(session: session) { handle.info(message) }
            note(reason)
            return reason.isFault ? PAM_AUTHINFO_UNAVAIL : PAM_IGNORE
        case .passkey(let ids):
            let records = ids.compactMap { id in gathered.credentials.first { $0.id == id && $0.isActive } }
            return passkeyLogin(user: user, records: records, site: site)
        }
    }

    private func passkeyLogin(user: UserName, records: [CredentialRecord], site: Site) -> Int32 {
        let outcome = site.relyingParty.login(user: user, credentials: records, ui: PAMUserInterface(handle: handle)) { left in
            // Each wrong PIN its own line, as pam_unix logs each wrong password: fail2ban and
            // audits count them. The last one of the exchange is the outcome's line below.
            call.logDecision(user: user.rawValue, step: "login", name: "failed", code: "wrong_pin",
                             summary: "wrong PIN; \(left) attempts left before the passkey locks")
        }
        let now = site.relyingParty.now()
        switch outcome {
        case .success(let id):
            _ = handle.setData(LoginNote.key, LoginNote.passkey)
            call.recordHistory(site, user) { $0.recordPasskeyLogin(at: now) }
            call.logDecision(user: user.rawValue, step: "login", name: "success", code: "passkey_verified",
                             summary: "signed in with passkey \(id.short)")
            return PAM_SUCCESS
        case .cancelled:
            note(code: "cancelled")
            call.recordHistory(site, user) { $0.recordCancel(at: now) }
            call.logDecision(user: user.rawValue, step: "login", name: "step_aside", code: "cancelled",
                             summary: "the user left the PIN empty to use the password")
            return PAM_IGNORE
        case .wrongPIN(let left):
            note(code: "wrong_pin")
            call.logDecision(user: user.rawValue, step: "login", name: "failed", code: "wrong_pin",
                             summary: "wrong PIN; \(left) attempts left before the passkey locks")
            return PAM_AUTH_ERR
        case .locked(let id):
            note(code: "credential_locked")
            if let id { call.recordHistory(site, user) { $0.recordLockout(credentialID: id, at: now) } }
            call.logDecision(user: user.rawValue, step: "login", name: "failed", code: "credential_locked",
                             summary: "too many wrong PINs: this host's passkey is locked")
            return PAM_AUTH_ERR
        case .rejected(let why):
            handle.error(Wording.passkeyFailed)
            note(code: why.code)
            call.logDecision(user: user.rawValue, step: "login", name: "failed", code: why.code,
                             summary: why.summary, priority: LOG_WARNING)
            return PAM_AUTH_ERR
        case .unavailable(let why):
            handle.error(Wording.passkeyFailed)
            note(code: "authenticator_failed")
            call.logDecision(user: user.rawValue, step: "login", name: "failed", code: "authenticator_failed",
                             summary: why.description, priority: LOG_ERR)
            return PAM_AUTHINFO_UNAVAIL
        }
    }

    private func note(_ reason: StepAsideReason) { note(code: reason.code) }

    private func note(code: String) { _ = handle.setData(LoginNote.key, LoginNote.steppedAside(code)) }
}
