import CPAM
import HostState
import Intelligence
import PAMStack
import Registry
import RelyingParty
import Wiring
import Storage
import Wording
import Identifiers

/// The `append` line, at pam_setcred: if the login step stepped aside in this transaction,
/// the user signed in some other way (the password) — provided pam_authenticate succeeded,
/// which no module can see: an application may call pam_setcred after a failure, and libpam
/// then runs this line whenever the failed path reached it. So the step first reads its own
/// service's auth stack and goes on only if no path reaching an append line can end in a
/// failed authentication (PAMStack/OfferGuard). Offer a passkey for this host when the
/// decision says so. Whatever happens, the login is not touched: every failure here is
/// logged and ignored.
struct AppendStep {
    let call: ModuleCall
    var handle: PAMHandle { call.handle }

    /// Credentials being established or reinitialised: a login. Not a refresh (a screen
    /// lock's periodic renewal) or a deletion (logout).
    static let credentialActions: Set<Int32> = [Int32(PAM_ESTABLISH_CRED), Int32(PAM_REINITIALIZE_CRED)]
    static let credentialFlags = Int32(PAM_ESTABLISH_CRED | PAM_DELETE_CRED | PAM_REINITIALIZE_CRED | PAM_REFRESH_CRED)

    func run() {
        guard Self.credentialActions.contains(handle.flags & Self.credentialFlags) else { return }
        guard let note = handle.data(LoginNote.key) else { return }   // login step did not run here
        guard let stepAsideCode = LoginNote.reason(of: note) else { return }  // passkey login, or already done
        _ = handle.setData(LoginNote.key, LoginNote.appendDone)
        // The user the login step decided for: PAM_USER may have changed since (sudo sets it
        // to the target user before pam_setcred).
        guard let userText = handle.data(LoginNote.userKey), let user = try? UserName(validating: userText) else { return }
        // Before anything is read or recorded: the authentication may have failed.
        if let unsafe = OfferGuard.problem(service: handle.service ?? "", stackFile: call.arguments.stackPath,
                                           arguments: call.arguments.all) {
            call.logDecision(user: userText, step: "append", name: "no_offer", code: "unsafe_stack", summary: unsafe,
                             priority: LOG_ERR)
            return
        }
        guard let site = call.loadSite() else { return }
        // One helper process serves the probe and the ceremony; it ends before libpam regains control.
        defer { site.relyingParty.finish() }

        let session = call.session()
        let gathered: Gathered
        do {
            gathered = try site.gather(for: user, session: session)
        } catch .registryOffline(_, let detail) {
            // The directory cannot vouch for the record: an offer could not be checked against
            // the fleet's offer log, nor the new passkey registered there now.
            call.logDecision(user: userText, step: "append", name: "no_offer", code: "registry_offline", summary: detail,
                             priority: LOG_WARNING)
            return
        } catch {
            call.logDecision(user: userText, step: "append", name: "no_offer", code: "state_unreadable",
                             summary: error.description, priority: LOG_ERR)
            return
        }
        let signals = gathered.signals
        call.recordHistory(site, user) { $0.recordPasswordLogin(at: signals.now, fallbackReason: stepAsideCode) }
        let decision = decideAppend(signals, policy: site.policy)
        call.logDecision(user: userText, step: "append", name: decision.name, code: decision.code, summary: decision.summary,
                         priority: LOG_INFO)
        guard case .offer(let offer) = decision else { return }

        let ui = PAMUserInterface(handle: handle)
        let answer: OfferAnswer
        switch ui.question(offer.prompt) {
        case .answered(let text):
            answer = Wording.parseOfferAnswer(text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
        case .noAnswer:
            answer = .unanswered
        case .tooLong:
            answer = .declined  // not an answer we understood: never create on one
        case .refused:
            // Not an offer: the user may never have seen it. Counting it would use up the
            // offers (append_max_offers, fleet-wide) for logins that cannot ask at all.
            call.logDecision(user: userText, step: "append", name: "not_asked", code: "conversation_refused",
                             summary: "the application's conversation refused the question (sshd's does at pam_setcred); "
                                + "no offer recorded")
            return
        }
        recordOffer(site, user, answer: answer, service: session.service, at: signals.now)
        switch answer {
        case .accepted:
            create(offer, user: user, gathered: gathered, site: site, ui: ui)
        case .never:
            ui.info(Wording.neverAgain)
        case .declined, .unanswered:
            break
        }
    }

    private func create(_ offer: AppendOffer, user: UserName, gathered: Gathered, site: Site, ui: PAMUserInterface) {
        var replacing: [CredentialRecord] = []
        if case .replace(let ids, _) = offer {
            replacing = gathered.credentials.filter { ids.contains($0.id) }
        }
        let held = Set(gathered.signals.authenticator.held.map(\.id))
        switch site.relyingParty.register(user: user, replacing: replacing, heldIDs: held,
                                          target: offer == .createOnSecurityKey ? .securityKey : .host, ui: ui) {
        case .created(let record, let computers):
            ui.info(offer == .createOnSecurityKey ? Wording.createdOnSecurityKey : Wording.created(computers: computers))
            call.logDecision(user: user.rawValue, step: "append", name: "created", code: offer.code,
                             summary: "passkey \(record.id.short) created for \(record.hostName); active on \(computers) host(s)")
        case .cancelled:
            ui.info(Wording.notCreated)
            call.logDecision(user: user.rawValue, step: "append", name: "not_created", code: "cancelled",
                             summary: "the user did not choose a PIN")
        case .failed(let why):
            ui.error(Wording.notCreated)
            call.logDecision(user: user.rawValue, step: "append", name: "not_created", code: "failed", summary: why.description,
                             priority: LOG_ERR)
        }
    }

    /// The answer goes to the registry's offer log (the limits hold fleet-wide) and to this
    /// host's history ("never" is per host; the report's counters).
    private func recordOffer(_ site: Site, _ user: UserName, answer: OfferAnswer, service: String, at time: Int64) {
        do {
            try site.registry.recordOffer(user: user, answer: answer, service: service, hostName: site.host.hostName, at: time)
        } catch {
            handle.log(LOG_ERR, "could not record the offer in the registry for \(user): \(error)")
        }
        call.recordHistory(site, user) { $0.recordOffer(answer: answer, at: time) }
    }
}
