import CPAM
import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// The module's view of one `pam_handle_t`: items, the application's conversation function,
/// module data that carries the login step's decision to the append step, and pam_syslog.
/// Nothing here outlives the call into the module.
struct PAMHandle {
    let raw: OpaquePointer
    let flags: Int32

    var isSilent: Bool { flags & Int32(bitPattern: UInt32(PAM_SILENT)) != 0 }

    // MARK: Items

    /// The user name, asking the application for it if it has not been set yet.
    func user() -> String? {
        // libpam's pam_get_user calls the conversation without checking that there is one
        // (1.5.2 dereferences NULL): without one, only an already set PAM_USER counts.
        guard hasConversation else { return stringItem(PAM_USER) }
        var p: UnsafePointer<CChar>? = nil
        guard pam_get_user(raw, &p, nil) == PAM_SUCCESS, let p else { return nil }
        return String(validatingCString: p)
    }

    func stringItem(_ type: Int32) -> String? {
        var p: UnsafeRawPointer? = nil
        guard pam_get_item(raw, type, &p) == PAM_SUCCESS, let p else { return nil }
        return String(validatingCString: p.assumingMemoryBound(to: CChar.self))
    }

    var service: String? { stringItem(PAM_SERVICE) }
    var remoteHost: String? { stringItem(PAM_RHOST).flatMap { $0.isEmpty ? nil : $0 } }
    var tty: String? { stringItem(PAM_TTY) }

    private var conversationFunction: pam_conv? {
        var p: UnsafeRawPointer? = nil
        guard pam_get_item(raw, PAM_CONV, &p) == PAM_SUCCESS, let p else { return nil }
        let conv = p.assumingMemoryBound(to: pam_conv.self).pointee
        return conv.conv == nil ? nil : conv
    }

    var hasConversation: Bool { conversationFunction != nil }

    // MARK: Conversation

    enum Style {
        case secret, visible, info, error

        var code: Int32 {
            switch self {
            case .secret: return PAM_PROMPT_ECHO_OFF
            case .visible: return PAM_PROMPT_ECHO_ON
            case .info: return PAM_TEXT_INFO
            case .error: return PAM_ERROR_MSG
            }
        }
    }

    /// What the application's conversation function gave back for one message.
    enum Reply {
        /// It took the message; for a prompt, the answer (possibly empty).
        case answered(SecretBytes)
        /// It took a prompt but returned no answer at all.
        case noAnswer
        /// An answer longer than any pam_passkey asks for (`maxAnswerBytes`): not copied,
        /// never used. A terminal line holds up to 4,095 bytes, a GUI's field any number.
        case tooLong
        /// There is no conversation function, or it returned an error: the message may never
        /// have reached the user (sshd's conversation at pam_setcred refuses every prompt).
        case refused
    }

    /// More than any PIN (63 bytes) or yes/no answer.
    static let maxAnswerBytes = 1024

    /// One message through the application's conversation function. For prompts, the answer
    /// is copied into wiped memory and the application's buffer is cleared before it is
    /// freed; an answer over `maxAnswerBytes` is cleared without being copied.
    func send(_ style: Style, _ text: String) -> Reply {
        guard let conv = conversationFunction, let fn = conv.conv else { return .refused }
        return text.withCString { cText -> Reply in
            var message = pam_message(msg_style: style.code, msg: cText)
            return withUnsafePointer(to: &message) { messagePointer -> Reply in
                var messages: UnsafePointer<pam_message>? = messagePointer
                var response: UnsafeMutablePointer<pam_response>? = nil
                let rc = fn(1, &messages, &response, conv.appdata_ptr)
                defer {
                    if let response {
                        if let r = response.pointee.resp {
                            explicit_bzero(r, strlen(r))
                            free(r)
                        }
                        free(response)
                    }
                }
                guard rc == PAM_SUCCESS else { return .refused }
                switch style {
                case .info, .error: return .answered(SecretBytes(count: 0))
                case .secret, .visible:
                    guard let r = response?.pointee.resp else { return .noAnswer }
                    let length = strnlen(r, Self.maxAnswerBytes + 1)
                    guard length <= Self.maxAnswerBytes else { return .tooLong }
                    return .answered(SecretBytes(UnsafeRawBufferPointer(start: r, count: length)))
                }
            }
        }
    }

    /// `send`, when only an answer matters: nil when there is none, whatever the reason.
    func converse(_ style: Style, _ text: String) -> SecretBytes? {
        if case .answered(let answer) = send(style, text) { return answer }
        return nil
    }

    /// A message the user reads. Suppressed under PAM_SILENT.
    func info(_ text: String) {
        guard !isSilent else { return }
        _ = converse(.info, text)
    }

    func error(_ text: String) {
        guard !isSilent else { return }
        _ = converse(.error, text)
    }

    // MARK: Module data

    /// Stores a short text on the handle for a later call in the same transaction.
    func setData(_ name: String, _ value: String) -> Bool {
        guard let copy = strdup(value) else { return false }
        let rc = pam_set_data(raw, name, copy) { _, data, _ in free(data) }
        if rc != PAM_SUCCESS { free(copy) }
        return rc == PAM_SUCCESS
    }

    func data(_ name: String) -> String? {
        var p: UnsafeRawPointer? = nil
        guard pam_get_data(raw, name, &p) == PAM_SUCCESS, let p else { return nil }
        return String(validatingCString: p.assumingMemoryBound(to: CChar.self))
    }

    // MARK: Logging

    /// One line to syslog (LOG_AUTHPRIV), prefixed by libpam with the module and service.
    /// Callers never pass secrets.
    func log(_ priority: Int32, _ text: String) {
        text.withCString { pam_passkey_syslog(raw, priority, $0) }
    }
}
