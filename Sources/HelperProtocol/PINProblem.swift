/// Why a new PIN was refused. Sent by the helper (raw value) and shown to the user by the
/// caller.
public enum PINProblem: String, Equatable, Sendable, CaseIterable {
    /// CTAP2's limit on a PIN, in bytes of UTF-8.
    public static let maxBytes = 63

    case tooShort = "too_short"
    case tooLong = "too_long"
    case allSame = "all_same"
    case sequence = "sequence"
    case notText = "not_text"
    case mismatch = "mismatch"

    /// What the user is told before being asked again.
    public func message(minLength: Int) -> String {
        switch self {
        case .tooShort: return "That PIN is too short: use at least \(minLength) characters."
        case .tooLong: return "That PIN is too long: use at most \(PINProblem.maxBytes) characters."
        case .allSame: return "That PIN repeats one character: choose one that is harder to guess."
        case .sequence: return "That PIN is a simple sequence: choose one that is harder to guess."
        case .notText: return "That PIN contains control characters: use digits or letters."
        case .mismatch: return "The PINs did not match."
        }
    }
}

