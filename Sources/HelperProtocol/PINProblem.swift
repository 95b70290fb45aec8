/// Why a new PIN was refused. Sent by the helper (raw value); the caller tells the user in
/// the words of `Wording.pinProblem`.
public enum PINProblem: String, Equatable, Sendable, CaseIterable {
    /// CTAP2's limit on a PIN, in bytes of UTF-8.
    public static let maxBytes = 63

    case tooShort = "too_short"
    case tooLong = "too_long"
    case allSame = "all_same"
    case sequence = "sequence"
    case notText = "not_text"
    case mismatch = "mismatch"
}
