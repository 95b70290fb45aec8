#if canImport(Glibc)
import Glibc
#endif
import CPAM
import HostState
import Intelligence
import RelyingParty
import Wiring
import Storage
import Identifiers

/// One call into the module: the handle, the arguments, and the site built from the policy.
struct ModuleCall {
    let handle: PAMHandle
    let arguments: ModuleArguments

    init(handle: PAMHandle, arguments: ModuleArguments) {
        self.handle = handle
        self.arguments = arguments
        for unknown in arguments.unknown {
            handle.log(LOG_ERR, "unknown module argument \(escapedForLog(unknown)) ignored")
        }
    }

    var debug: Bool { arguments.debug }

    func session() -> SessionSignal {
        let euid = geteuid()
        return SessionSignal(service: handle.service ?? "", rhost: handle.remoteHost, tty: handle.tty,
                             hasConversation: handle.hasConversation, silent: handle.isSilent,
                             callerUID: euid == 0 ? nil : UInt32(euid))
    }

    /// The single line per decision: who, where, what, why. Never a secret.
    func logDecision(user: String, step: String, name: String, code: String, summary: String, priority: Int32 = LOG_NOTICE) {
        let s = session()
        handle.log(priority, "\(step) user=\(escapedForLog(user)) service=\(escapedForLog(s.service)) rhost=\(escapedForLog(s.rhost ?? "-")) decision=\(name) reason=\(code): \(summary)")
    }
}

extension ModuleCall {
    /// History feeds later decisions; failing to write it never changes this login's result.
    /// A program that does not run as root (a screen locker) keeps none: the host state is
    /// root's.
    func recordHistory(_ site: Site, _ user: UserName, _ change: (inout UserHistory) -> Void) {
        guard site.isRoot else { return }
        do {
            try site.history.update(user: user) { change(&$0) }
        } catch {
            handle.log(LOG_ERR, "could not update this host's history for \(user): \(error)")
        }
    }
}

/// What the login step leaves on the handle for the append step of the same transaction.
enum LoginNote {
    static let key = "pam_passkey_login"
    /// The user the login step decided for. The append step and every history record use it,
    /// not PAM_USER at pam_setcred time: sudo has set PAM_USER to the target user by then.
    static let userKey = "pam_passkey_user"

    /// The login step ended with a passkey login: nothing to offer.
    static let passkey = "passkey"
    /// The append step already ran in this transaction.
    static let appendDone = "append_done"

    /// The login step stepped aside (or the passkey failed) with this reason code.
    static func steppedAside(_ code: String) -> String { "stepped_aside:\(code)" }

    static func reason(of note: String) -> String? {
        note.hasPrefix("stepped_aside:") ? String(note.dropFirst("stepped_aside:".count)) : nil
    }
}
