/// Whether the append line can run at pam_setcred after pam_authenticate failed.
///
/// libpam runs pam_setcred along the path pam_authenticate took: each line's action is
/// looked up with the code it returned during authentication (the "cached chain",
/// libpam/pam_dispatch.c), so `die` and jumps send pam_setcred where they sent
/// pam_authenticate. Only `done` can part the two: it stops a walk when the result so far is
/// positive, and pam_setcred's result is made from the modules' pam_sm_setcred answers,
/// which nothing here knows; lines pam_authenticate never reached then answer with their
/// setcred code. No module sees another's result, so the append step must not offer where
/// some path reaches its line and pam_authenticate still fails.
///
/// The search runs pam_authenticate over every combination of what each line can answer
/// (`ModuleCatalog`), tracking libpam's state (the line, the impression so far and whether
/// its status is a success, what each substack started from), with pam_setcred alongside.
public enum AppendSafety {
    public enum Verdict: Sendable {
        /// No path reaches an append line and fails.
        case safe
        /// The chain has no pam_passkey.so append line.
        case noAppendLine
        case unsafe(UnsafePath)
    }

    public static func check(_ chain: AuthChain, catalog: ModuleCatalog) -> Verdict {
        guard !chain.appendLines.isEmpty else { return .noAppendLine }
        var search = Search(chain: chain, catalog: catalog)
        guard let witness = search.findUnsafePath() else { return .safe }
        return .unsafe(UnsafePath(witness, chain: chain))
    }

    /// libpam's impression of the walk so far (-1 negative, 0 undecided, +1 positive), and
    /// whether its status is PAM_SUCCESS. pam_authenticate succeeds only when both hold.
    struct Impression: Hashable {
        var sign: Int8
        var success: Bool

        static let initial = Impression(sign: 0, success: false)
        static let negative = Impression(sign: -1, success: false)
        var succeeds: Bool { sign == 1 && success }
    }

    /// pam_authenticate between two lines.
    struct Walk: Hashable {
        var index: Int
        var now: Impression
        /// The impression each level started from (index 0: the service's own level).
        var saved: [Impression]
        var previousLevel: Int

        static let start = Walk(index: 0, now: .initial, saved: [.initial], previousLevel: 0)
    }

    /// One line's answer on a path.
    struct Step {
        let index: Int
        let code: Int
        let action: Action
        let before: Impression
        let after: Impression
    }

    struct Witness {
        var steps: [Step]
        /// The index in `steps` of the first append line pam_setcred calls, if it is on the
        /// common path.
        var appendStep: Int?
        /// The append line pam_setcred reaches.
        var appendIndex: Int
        /// pam_setcred and pam_authenticate part at the last step (a `done`).
        var parted: Bool
    }

    struct Search {
        let levels: [Int]
        let calls: [AuthChain.Call?]
        /// Each line's distinct effects during pam_authenticate: (a code, its action).
        let outcomes: [[(code: Int, action: Action)]]
        /// Each line's actions at pam_setcred when pam_setcred has left pam_authenticate's path.
        let setcredActions: [[Action]]
        var explored: Set<State> = []
        var failing: [Walk: Bool] = [:]
        var path: [Step] = []

        struct State: Hashable {
            let walk: Walk
            let reached: Int?
        }

        init(chain: AuthChain, catalog: ModuleCatalog) {
            levels = chain.entries.map(\.level)
            calls = chain.entries.map { if case .call(let c) = $0.entry { return c } else { return nil } }
            var outcomes: [[(Int, Action)]] = []
            var setcred: [[Action]] = []
            for call in calls {
                guard let call else { outcomes.append([]); setcred.append([]); continue }
                let behaviour = catalog.behaviour(of: call)
                // Success first and PAM_IGNORE last, auth_err before other failures: the
                // first unsafe path found then reads the way an administrator thinks of it.
                let order = [ReturnCode.success, ReturnCode.authErr]
                    + (0..<ReturnCode.count).filter { ![ReturnCode.success, ReturnCode.authErr, ReturnCode.ignore].contains($0) }
                    + [ReturnCode.ignore]
                var seen: [(Action, Bool)] = []
                var mine: [(Int, Action)] = []
                for code in order where behaviour.authentication.contains(code) {
                    let action = call.control[code]
                    if seen.contains(where: { $0.0 == action && $0.1 == (code == ReturnCode.success) }) { continue }
                    seen.append((action, code == ReturnCode.success))
                    mine.append((code, action))
                }
                outcomes.append(mine)
                var actions: [Action] = []
                for code in Set(behaviour.authentication + behaviour.credential).sorted() where !actions.contains(call.control[code]) {
                    actions.append(call.control[code])
                }
                setcred.append(actions)
            }
            self.outcomes = outcomes
            self.setcredActions = setcred
        }

        var count: Int { levels.count }

        func isAppend(_ i: Int) -> Bool { calls[i]?.isAppendStep ?? false }

        /// Where libpam goes on after a decision (`done`, `die`) at line i: past the rest of
        /// i's level.
        func endOfLevel(_ i: Int) -> Int {
            var j = i
            while j + 1 < count && levels[j + 1] >= levels[i] { j += 1 }
            return j + 1
        }

        /// Where a jump of n lines from line i lands, and whether it overshot its level
        /// (libpam: "bad jump in stack").
        func jump(_ i: Int, _ n: Int) -> (Int, Bool) {
            var j = i
            var left = n
            while left > 0 && j + 1 < count && levels[j + 1] >= levels[i] {
                j += 1
                while j + 1 < count && levels[j + 1] > levels[i] { j += 1 }
                left -= 1
            }
            return (j + 1, left > 0)
        }

        /// The walk as libpam has it when it reaches line `w.index`: entering a substack
        /// remembers the impression it starts from.
        func arriving(_ w: Walk) -> Walk {
            var w = w
            let level = levels[w.index]
            if level > w.previousLevel {
                while w.saved.count < level { w.saved.append(w.now) }
                w.saved = Array(w.saved.prefix(level)) + [w.now]
            } else {
                w.saved = Array(w.saved.prefix(level + 1))
            }
            w.previousLevel = level
            return w
        }

        /// Every way pam_authenticate can leave line `w.index`: the step, the walk after it,
        /// and for a `done`, where pam_setcred goes if it decides the other way.
        func steps(from arrived: Walk) -> [(Step, Walk, setcredInstead: Int?)] {
            let i = arrived.index
            var result: [(Step, Walk, Int?)] = []
            for (code, action) in outcomes[i] {
                var w = arrived
                var instead: Int? = nil
                switch action {
                case .reset:
                    w.now = w.saved[levels[i]]
                    w.index = i + 1
                case .ok, .done:
                    if w.now.sign == 0 || w.now.succeeds { w.now = Impression(sign: 1, success: code == ReturnCode.success) }
                    w.index = i + 1
                    if action == .done {
                        if w.now.sign == 1 {
                            w.index = endOfLevel(i)
                            instead = i + 1
                        } else {
                            instead = endOfLevel(i)
                        }
                    }
                case .bad, .die:
                    w.now = .negative
                    w.index = action == .die ? endOfLevel(i) : i + 1
                case .ignore:
                    w.index = i + 1
                case .jump(let n):
                    let (target, overshot) = jump(i, n)
                    if overshot { w.now = .negative }
                    w.index = target
                case .invalid:
                    w.now = .negative
                    w.index = i + 1
                }
                result.append((Step(index: i, code: code, action: action, before: arrived.now, after: w.now), w, instead))
            }
            return result
        }

        mutating func findUnsafePath() -> Witness? { explore(.start, reached: nil) }

        /// pam_authenticate and pam_setcred on the same path; `reached` is the first append
        /// line on it.
        mutating func explore(_ walk: Walk, reached: Int?) -> Witness? {
            guard walk.index < count else {
                if let reached, !walk.now.succeeds {
                    return Witness(steps: path, appendStep: path.firstIndex { $0.index == reached }, appendIndex: reached, parted: false)
                }
                return nil
            }
            let state = State(walk: walk, reached: reached)
            if explored.contains(state) { return nil }
            explored.insert(state)
            let arrived = arriving(walk)
            guard calls[walk.index] != nil else {
                var next = arrived
                next.index += 1
                return explore(next, reached: reached)
            }
            let reachedHere = reached ?? (isAppend(walk.index) ? walk.index : nil)
            for (step, next, instead) in steps(from: arrived) {
                path.append(step)
                defer { path.removeLast() }
                if let found = explore(next, reached: reachedHere) { return found }
                // At a `done`, pam_setcred may stop where pam_authenticate went on, or go on
                // where it stopped; from there its path is its own.
                if let instead, let append = reachedHere ?? setcredReaches(from: instead), authenticationCanFail(next) {
                    return Witness(steps: path, appendStep: reachedHere.flatMap { r in path.firstIndex { $0.index == r } },
                                   appendIndex: append, parted: true)
                }
            }
            return nil
        }

        /// The first append line pam_setcred can reach from line `start` on a path of its own.
        func setcredReaches(from start: Int) -> Int? {
            var queue = [start]
            var seen: Set<Int> = [start]
            while let i = queue.popLast() {
                guard i < count else { continue }
                if isAppend(i) { return i }
                var next: [Int] = []
                if calls[i] == nil {
                    next = [i + 1]
                } else {
                    for action in setcredActions[i] {
                        switch action {
                        case .done: next += [i + 1, endOfLevel(i)]
                        case .die: next.append(endOfLevel(i))
                        case .jump(let n): next.append(jump(i, n).0)
                        case .ok, .bad, .ignore, .reset, .invalid: next.append(i + 1)
                        }
                    }
                }
                for j in next where !seen.contains(j) {
                    seen.insert(j)
                    queue.append(j)
                }
            }
            return nil
        }

        /// Whether pam_authenticate, from `walk`, can end in a failure.
        mutating func authenticationCanFail(_ walk: Walk) -> Bool {
            guard walk.index < count else { return !walk.now.succeeds }
            if let known = failing[walk] { return known }
            let arrived = arriving(walk)
            var result = false
            if calls[walk.index] == nil {
                var next = arrived
                next.index += 1
                result = authenticationCanFail(next)
            } else {
                for (_, next, _) in steps(from: arrived) where authenticationCanFail(next) {
                    result = true
                    break
                }
            }
            failing[walk] = result
            return result
        }
    }
}
