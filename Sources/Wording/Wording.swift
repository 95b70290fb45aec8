import HelperProtocol
import Registry

/// Every sentence a person signing in sees from pam_passkey, in one place: the decision,
/// the ceremonies and the module take their words from here. An empty answer to any PIN
/// prompt means "use my password instead". (passkeyctl's output is for administrators and
/// stays with its commands.)
public enum Wording {
    // MARK: the login

    public static func pinPrompt(user: String, hostName: String) -> String {
        "PIN for \(user)'s passkey on \(hostName): "
    }

    /// Before the password prompt, when every passkey of the user is elsewhere. `places` is
    /// where ("on another computer (host-a)", "on other computers (…) and on a security key").
    public static func passkeysElsewhere(count: Int, places: String) -> String {
        "Your \(count == 1 ? "passkey is" : "passkeys are") \(places)."
    }

    public static let credentialLocked = "Your passkey for this computer is locked after too many wrong PINs."
    public static let credentialMissing = "Your passkey for this computer is no longer on it."
    public static let authenticatorNotWorking = "Passkeys are not working on this computer right now."
    public static func cancelSnooze(cancels: Int) -> String { "Passkey paused after \(cancels) cancelled PIN prompts." }

    public static func wrongPIN(attemptsLeft: Int) -> String {
        attemptsLeft == 1 ? "Wrong PIN. 1 attempt left before this passkey is locked."
                          : "Wrong PIN. \(attemptsLeft) attempts left before this passkey is locked."
    }

    /// A PIN answer longer than CTAP2 allows (and any authenticator accepts).
    public static let pinTooLong = "PINs are at most \(PINProblem.maxBytes) characters."

    public static let locked = "Too many wrong PINs: the passkey for this computer is locked. Use your password."

    // MARK: security keys

    public static func securityKeyPINPrompt(user: String) -> String { "Security key PIN for \(user): " }
    public static let touchSecurityKey = "Touch your security key."
    public static func wrongSecurityKeyPIN(retriesLeft: Int) -> String {
        retriesLeft == 1 ? "Wrong PIN. The security key allows 1 more attempt before it blocks its PIN."
                         : "Wrong PIN. The security key allows \(retriesLeft) more attempts before it blocks its PIN."
    }
    /// The key refuses further PINs (blocked, or three wrong in a row until it is replugged).
    public static let securityKeyLocked = "Your security key refuses more PINs (remove it and plug it in again; if that does not help, its PIN is blocked). Use your password."
    public static let securityKeyBlocked = "Your security key's PIN is blocked after too many wrong PINs."
    public static let securityKeyNotTouched = "The security key was not touched. Use your password."
    /// Before the password prompt, when the user's only usable passkeys are on security keys
    /// and none is plugged in.
    public static let plugInSecurityKey = "Your passkey is on a security key that is not plugged in."

    // MARK: the offer, after the password

    public static let offerCreate = "Create a passkey for this computer? Next time you can sign in with a PIN. [Y/n/never] "
    public static let offerCreateOnSecurityKey = "Create a passkey on your security key? Next time you can sign in with it on any computer. [Y/n/never] "
    public static let offerReplaceLocked = "Replace your locked passkey for this computer with a new one (new PIN)? [Y/n/never] "
    public static let offerReplaceMissing = "Create a new passkey for this computer to replace the lost one? [Y/n/never] "

    public static func choosePIN(minLength: Int) -> String { "Choose a PIN (at least \(minLength) digits): " }
    public static let confirmPIN = "Confirm PIN: "

    public static func pinProblem(_ raw: String?, minLength: Int) -> String? {
        guard let raw, let problem = PINProblem(rawValue: raw) else { return nil }
        return pinProblem(problem, minLength: minLength)
    }

    /// Why a new PIN was refused, before the user is asked again.
    public static func pinProblem(_ problem: PINProblem, minLength: Int) -> String {
        switch problem {
        case .tooShort: "That PIN is too short: use at least \(minLength) characters."
        case .tooLong: "That PIN is too long: use at most \(PINProblem.maxBytes) characters."
        case .allSame: "That PIN repeats one character: choose one that is harder to guess."
        case .sequence: "That PIN is a simple sequence: choose one that is harder to guess."
        case .notText: "That PIN contains control characters: use digits or letters."
        case .mismatch: "The PINs did not match."
        }
    }

    public static func created(computers: Int) -> String {
        computers <= 1 ? "Passkey created. Next time you can sign in here with your PIN."
                       : "Passkey created. You now have passkeys on \(computers) computers."
    }
    public static let createdOnSecurityKey = "Passkey created on your security key. Next time you can sign in with it on any computer that has your passkeys' registry."

    /// After the PIN, something failed on our side (helper, registry, verification).
    public static let passkeyFailed = "Signing in with your passkey did not work this time. Use your password."

    public static let notCreated = "No passkey was created; your password still works."
    public static let neverAgain = "You will not be asked again on this computer."

    /// Empty (just Enter) means yes, as the [Y/n/never] default says. Anything unrecognised
    /// is "no": never create a credential on an answer we did not understand. No answer at
    /// all (the conversation failed) is "unanswered".
    public static func parseOfferAnswer(_ text: String?) -> OfferAnswer {
        guard let text else { return .unanswered }
        switch text.trimmingCharacters(in: " \t").lowercased() {
        case "", "y", "yes": return .accepted
        case "never": return .never
        default: return .declined
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
