import Crypto
import HelperProtocol
import RelyingParty
import Wording

/// The PAM conversation as the ceremonies' user interface.
struct PAMUserInterface: UserInterface {
    let handle: PAMHandle

    /// Every secret asked for is a PIN. One longer than any authenticator accepts is refused
    /// here, with the reason, and asked again; after `pinTries` such answers, none (the
    /// password follows).
    func secret(_ prompt: String) -> SecretBytes? {
        for _ in 0..<Self.pinTries {
            switch handle.send(.secret, prompt) {
            case .answered(let pin) where pin.count <= PINProblem.maxBytes:
                return pin
            case .answered, .tooLong:
                handle.error(Wording.pinTooLong)
            case .noAnswer, .refused:
                return nil
            }
        }
        return nil
    }

    static let pinTries = 3

    func ask(_ prompt: String) -> String? {
        guard let answer = handle.converse(.visible, prompt) else { return nil }
        return answer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// A visible question, telling an empty answer from none and from a conversation that
    /// refused the question.
    func question(_ prompt: String) -> PAMHandle.Reply { handle.send(.visible, prompt) }

    func info(_ text: String) { handle.info(text) }

    func error(_ text: String) { handle.error(text) }
}
