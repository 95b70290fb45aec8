/// Why an append line can run after a failed authentication, told as an administrator fixes
/// it: the line that makes it so, what happens there, and what to change.
public struct UnsafePath: Sendable, CustomStringConvertible {
    /// The line to change.
    public let culprit: LineRef
    /// What goes wrong there.
    public let problem: String
    /// The change that removes it.
    public let fix: String
    /// The append line that would run.
    public let appendLine: LineRef
    /// The path, one line each: `FILE line N: CODE -> ACTION`.
    public let path: [String]

    /// One sentence for a log line or a status finding.
    public var description: String { "\(culprit) (\(culprit.text)): \(problem); \(fix)" }

    init(_ witness: AppendSafety.Witness, chain: AuthChain) {
        let calls: [AuthChain.Call?] = chain.entries.map { if case .call(let c) = $0.entry { return c } else { return nil } }
        func call(_ step: AppendSafety.Step) -> AuthChain.Call { calls[step.index]! }
        let steps = witness.steps
        let append = calls[witness.appendIndex]!.ref
        appendLine = append
        path = steps.map { "\(call($0).ref): \(ReturnCode.names[$0.code]) -> \($0.action)" }
        let appendAt = witness.appendStep ?? steps.count

        if witness.parted, let last = steps.last {
            culprit = call(last).ref
            problem = "pam_authenticate and pam_setcred can part at this `done` (each decides it from its own results), "
                + "and pam_setcred can go on to the append line (\(append)) after the authentication failed"
            fix = "replace `done` with a jump over the lines that must not run"
            return
        }
        if let s = steps.firstIndex(where: { $0.before.sign != -1 && $0.after.sign == -1 }) {
            let step = steps[s]
            let line = call(step)
            let spelled = line.control.spelled(step.code)
            culprit = line.ref
            if s == appendAt {
                problem = "its control (\(spelled)) makes the append step's own PAM_IGNORE a failure, after the step has run"
                fix = "use optional"
            } else if s > appendAt {
                problem = "it can fail (\(ReturnCode.names[step.code])) after the append line (\(append)) has run, "
                    + "and a failure this late does not keep pam_setcred from running that line"
                fix = "move the append line after it, to the end of the auth stack"
            } else {
                switch step.action {
                case .die:
                    problem = "a failure there (\(ReturnCode.names[step.code])) ends only the substack it is in, "
                        + "and the stack goes on to the append line (\(append))"
                    fix = "include the file instead of making it a substack"
                case .jump, .invalid:
                    problem = "its jump (\(spelled)) goes past the end of its stack, which libpam counts as a failure "
                        + "and goes on to the append line (\(append))"
                    fix = "jump to a line inside the stack"
                default:
                    problem = "a failure there (\(ReturnCode.names[step.code])) does not stop the stack, so the append line "
                        + "(\(append)) runs at pam_setcred after the failed authentication"
                    fix = line.control.keyword == "required" ? "use requisite" : "make its failures die (\(ReturnCode.names[step.code])=die, or default=die)"
                }
            }
            return
        }
        if let s = steps.firstIndex(where: { $0.after.sign == 1 && !$0.after.success && !($0.before.sign == 1 && !$0.before.success) }) {
            let step = steps[s]
            let line = call(step)
            culprit = line.ref
            problem = "its \(ReturnCode.names[step.code]) counts as a result (\(line.control.spelled(step.code))), "
                + "so the stack goes on to the append line (\(append)) with a failed authentication"
            fix = "make its failures die (default=die)"
            return
        }
        // Nothing failed and nothing succeeded: a failure was passed over on the way.
        if let s = steps[..<appendAt].lastIndex(where: { $0.code != ReturnCode.success && $0.after.sign == 0 }) {
            let step = steps[s]
            let line = call(step)
            let spelled = line.control.spelled(step.code)
            culprit = line.ref
            if step.code == ReturnCode.ignore {
                problem = "it may decline (PAM_IGNORE), which \(spelled) passes over, and no line before the append line "
                    + "(\(append)) must succeed, so that line runs at pam_setcred after a failed authentication"
                fix = "use [success=ok default=die], which also stops the stack when it declines"
            } else if case .jump = step.action {
                problem = "its \(ReturnCode.names[step.code]) (\(spelled)) jumps to the append line (\(append)) "
                    + "past every line that would stop it, and no line before must succeed"
                fix = "make its failures die"
            } else {
                problem = "its \(ReturnCode.names[step.code]) is passed over (\(spelled)) and no line before the append line "
                    + "(\(append)) must succeed, so that line runs at pam_setcred after a failed authentication"
                fix = line.control.keyword == nil ? "make its failures die (default=die)" : "use requisite"
            }
            return
        }
        culprit = append
        problem = "no line before it must succeed, so it runs at pam_setcred whatever the authentication did"
        fix = "put the password module before it, as requisite"
    }
}
