#if canImport(Glibc)
import Glibc
#endif
import CPAM

/// A PAM application in miniature: one transaction through real libpam with service files
/// from a private directory (pam_start_confdir) and a conversation that answers prompts from
/// a script, the way Tests/Integration/pamdriver.py does from Python.
struct PAMTransaction {
    var service: String
    var user: String
    var confdir: String
    var answers: [String] = []
    var rhost: String? = nil
    var tty = "pts/0"
    /// pam_setcred after a successful pam_authenticate, as login and su do: the append step
    /// runs there.
    var setcred = false

    struct Outcome {
        var status: Int32
        /// What the user saw: "secret: …", "prompt: …", "info: …", "error: …".
        var transcript: [String]
        /// pam_start_confdir to pam_end: what the application pays per login.
        var transactionMicros: Double
        /// pam_authenticate alone.
        var authenticateMicros: Double
        var unusedAnswers: Int
    }

    func run() -> Outcome {
        let script = Script(answers)
        var conversation = pam_conv(conv: scriptedConversation, appdata_ptr: Unmanaged.passUnretained(script).toOpaque())
        var handle: OpaquePointer? = nil
        let t0 = monotonicMicros()
        let started = pam_start_confdir(service, user, &conversation, confdir, &handle)
        guard started == PAM_SUCCESS, let handle else {
            return Outcome(status: started, transcript: [], transactionMicros: 0, authenticateMicros: 0, unusedAnswers: answers.count)
        }
        if let rhost { _ = pam_set_item(handle, PAM_RHOST, rhost) }
        _ = pam_set_item(handle, PAM_TTY, tty)
        let t1 = monotonicMicros()
        let status = pam_authenticate(handle, 0)
        let t2 = monotonicMicros()
        if status == PAM_SUCCESS && setcred { _ = pam_setcred(handle, Int32(PAM_ESTABLISH_CRED)) }
        pam_end(handle, status)
        let t3 = monotonicMicros()
        return Outcome(status: status, transcript: script.transcript, transactionMicros: t3 - t0, authenticateMicros: t2 - t1,
                       unusedAnswers: script.answers.count)
    }
}

private final class Script {
    var answers: [String]
    var transcript: [String] = []
    init(_ answers: [String]) { self.answers = answers }
}

/// Answers echo-off and echo-on prompts in order; a prompt with no answer left fails the
/// conversation, as an application whose user walked away would.
private let scriptedConversation: @convention(c) (
    Int32, UnsafeMutablePointer<UnsafePointer<pam_message>?>?, UnsafeMutablePointer<UnsafeMutablePointer<pam_response>?>?,
    UnsafeMutableRawPointer?
) -> Int32 = { count, messages, responses, appdata in
    guard count > 0, let messages, let responses, let appdata else { return PAM_CONV_ERR }
    let script = Unmanaged<Script>.fromOpaque(appdata).takeUnretainedValue()
    guard let replies = calloc(Int(count), MemoryLayout<pam_response>.stride)?.assumingMemoryBound(to: pam_response.self) else {
        return PAM_BUF_ERR
    }
    for i in 0..<Int(count) {
        guard let message = messages[i]?.pointee else { free(replies); return PAM_CONV_ERR }
        let text = message.msg.map { String(cString: $0) } ?? ""
        switch message.msg_style {
        case PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON:
            script.transcript.append((message.msg_style == PAM_PROMPT_ECHO_OFF ? "secret: " : "prompt: ") + text)
            guard !script.answers.isEmpty else {
                for j in 0..<i { free(replies[j].resp) }
                free(replies)
                return PAM_CONV_ERR
            }
            replies[i].resp = strdup(script.answers.removeFirst())
        case PAM_TEXT_INFO: script.transcript.append("info: " + text)
        case PAM_ERROR_MSG: script.transcript.append("error: " + text)
        default:
            for j in 0..<i { free(replies[j].resp) }
            free(replies)
            return PAM_CONV_ERR
        }
    }
    responses.pointee = replies
    return PAM_SUCCESS
}
