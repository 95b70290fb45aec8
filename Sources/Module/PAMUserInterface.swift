import Crypto
import RelyingParty

/// The PAM conversation as the ceremonies' user interface.
struct PAMUserInterface: UserInterface {
    let handle: PAMHandle

    func secret(_ prompt: String) -> SecretBytes? { handle.converse(.secret, prompt) }

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
