import Identifiers
import Crypto
import HelperProtocol

/// Using an existing credential's PIN, the same for every backend. Each round: ask (an empty
/// answer is "use my password instead"); count the attempt and reserve the signature counter
/// *before* the PIN is checked, under the keyring's lock and synced, so killing the helper
/// never gives a free guess and no two signatures carry the same counter; let the backend
/// check it; after a right PIN set the counter back to zero (after the reply, `AfterReply`);
/// lock the credential at `maxAttempts`; ask again at most `triesPerRequest` times.
struct PINAttempts<Entry: KeyringEntry> {
    /// What the backend made of one PIN.
    enum Check<Result> {
        /// Right: the signed result.
        case right(Result)
        /// Wrong. `stop` ends the request at once with that failure (the TPM went into its
        /// own lockout); nil asks again while tries remain.
        case wrong(stop: HelperFailure?)
        /// The PIN was never checked (the TPM refused before it looked): no guess, so the
        /// attempt is given back, and the request ends with `failure`.
        case notChecked(HelperFailure)
    }

    let store: KeyringStore<Entry>
    let user: UserName
    let maxAttempts: Int
    let triesPerRequest: Int
    let afterReply: AfterReply
    let now: () -> Int64
    let lockedFailure: HelperFailure

    /// `attemptsLeft` is what the question says (a backend may have a second limit);
    /// `check` gets the entry as counted (its reserved `signCount`) and the PIN.
    func run<Result>(_ chosen: Entry, pins: PINPrompter, attemptsLeft: (Entry) -> Int,
                     check: (Entry, SecretBytes) throws(HelperFailure) -> Check<Result>) throws(HelperFailure) -> Result {
        var current = chosen
        var retry = false
        for _ in 0..<triesPerRequest {
            guard !current.isLocked(maxAttempts: maxAttempts) else { throw lockedFailure }
            let question = PINQuestion.existing(credentialID: current.id, attemptsLeft: attemptsLeft(current), retry: retry)
            guard let pin = try pins.answer(question), !pin.isEmpty else {
                throw HelperFailure(.cancelled, "PIN prompt cancelled")
            }
            current = try store.modify(chosen.credentialID, of: user) { (c: inout Entry) throws(HelperFailure) in
                guard !c.isLocked(maxAttempts: maxAttempts) else { throw lockedFailure }
                c.failedAttempts += 1
                c.signCount &+= 1
            }
            switch try check(current, pin) {
            case .right(let result):
                let (store, id, user) = (store, chosen.credentialID, user)
                afterReply.add { () throws(HelperFailure) in
                    _ = try store.modify(id, of: user) { (c: inout Entry) throws(HelperFailure) in c.failedAttempts = 0 }
                }
                return result
            case .wrong(let stop):
                if current.failedAttempts >= maxAttempts {
                    _ = try store.modify(chosen.credentialID, of: user) { (c: inout Entry) throws(HelperFailure) in
                        if c.lockedAt == nil { c.lockedAt = now() }
                    }
                    throw lockedFailure
                }
                if let stop { throw stop }
                retry = true
            case .notChecked(let failure):
                _ = try store.modify(chosen.credentialID, of: user) { (c: inout Entry) throws(HelperFailure) in
                    c.failedAttempts = max(0, c.failedAttempts - 1)
                }
                throw failure
            }
        }
        throw HelperFailure(.wrongPIN, "wrong PIN", attemptsLeft: attemptsLeft(current))
    }
}
