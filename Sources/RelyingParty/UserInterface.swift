import Crypto

/// How a ceremony talks to the person: the PAM conversation in the module, the terminal in
/// passkeyctl. Every method may fail silently (no conversation, PAM_SILENT): a prompt that
/// gets no answer returns nil, which the ceremonies treat as "cancel".
public protocol UserInterface {
    /// A prompt whose answer is not echoed (PINs). nil when there is no answer.
    func secret(_ prompt: String) -> SecretBytes?
    /// A prompt whose answer is echoed (yes/no questions).
    func ask(_ prompt: String) -> String?
    func info(_ text: String)
    func error(_ text: String)
}
