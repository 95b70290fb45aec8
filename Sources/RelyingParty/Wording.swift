import HelperProtocol
import Intelligence
import Registry

/// Every sentence a user sees from pam_passkey, in one place. An empty answer to any PIN
/// prompt means "use my password instead".
public enum Wording {
    public static func pinPrompt(user: String, hostName: String) -> String {
        LoginDecision.pinPrompt(user: user, hostName: hostName)
    }

    public static func wrongPIN(attemptsLeft: Int) -> String {
        attemptsLeft == 1 ? "Wrong PIN. 1 attempt left before this passkey is locked."
                          : "Wrong PIN. \(attemptsLeft) attempts left before this passkey is locked."
    }

    /// A PIN answer longer than CTAP2 allows (and any authenticator accepts).
    public static let pinTooLong = "PINs are at most \(PINProblem.maxBytes) characters."

    public static let locked = "Too many wrong PINs: the passkey for this computer is locked. Use your password."

    // The offer questions are `Intelligence.AppendOffer.prompt`, beside the decision that
    // chooses them.

    public static func choosePIN(minLength: Int) -> String { "Choose a PIN (at least \(minLength) digits): " }
    public static let confirmPIN = "Confirm PIN: "

    public static func pinProblem(_ raw: String?, minLength: Int) -> String? {
        guard let raw, let problem = PINProblem(rawValue: raw) else { return nil }
        return problem.message(minLength: minLength)
    }

    public static func created(computers: Int) -> String {
        computers <= 1 ? "Passkey created. Next time you can sign in here with your PIN."
                       : "Passkey created. You now have passkeys on \(computers) computers."
    }

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
