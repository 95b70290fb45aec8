/// What libpam does with one return code of a line: its `[value=action]` vocabulary.
public enum Action: Hashable, Sendable, CustomStringConvertible {
    /// Leave the result as it is.
    case ignore
    /// Count the code towards the result (a success makes it a success, unless something
    /// already failed).
    case ok
    /// `ok`, and stop the stack if the result is then positive.
    case done
    /// Make the result a failure; go on.
    case bad
    /// Make the result a failure and stop the stack.
    case die
    /// Forget what the lines of this (sub)stack did so far.
    case reset
    /// Skip this many lines (a substack counts as one).
    case jump(Int)
    /// A negative number left by libpam's number parsing (it wraps around at 2^31): libpam
    /// treats it as a bad jump.
    case invalid(Int32)

    public var description: String {
        switch self {
        case .ignore: return "ignore"
        case .ok: return "ok"
        case .done: return "done"
        case .bad: return "bad"
        case .die: return "die"
        case .reset: return "reset"
        case .jump(let n): return String(n)
        case .invalid(let n): return String(n)
        }
    }
}

/// The control field of a line: one action per return code, as libpam fills them in
/// (libpam/pam_handlers.c, `_pam_parse_control` in pam_misc.c).
public struct Control: Hashable, Sendable {
    /// One action per `ReturnCode`.
    public let actions: [Action]
    /// `required`, `requisite`, `optional` or `sufficient` when the field is one of these
    /// words (in lower case), nil for the bracket syntax.
    public let keyword: String?

    public subscript(code: Int) -> Action { actions[code] }

    /// libpam's action numbers: 0 ignore, -1 ok, -2 done, -3 bad, -4 die, -5 reset, -6 not
    /// set yet, above 0 a jump.
    private static let undefined: Int32 = -6
    private static let actionWords = ["ignore", "ok", "done", "bad", "die", "reset"]

    private init(numbers: [Int32], keyword: String?) {
        actions = numbers.map { n in
            switch n {
            case 0: return .ignore
            case -1: return .ok
            case -2: return .done
            case -3, Self.undefined: return .bad
            case -4: return .die
            case -5: return .reset
            case let n where n > 0: return .jump(Int(n))
            default: return .invalid(n)
            }
        }
        self.keyword = keyword
    }

    /// Every code is `bad`: what libpam gives a line it cannot use (no control, an include
    /// that failed).
    public static let allBad = Control(numbers: Array(repeating: -3, count: ReturnCode.count), keyword: nil)

    /// One of the four words (compared without case, as libpam does), or nil.
    public static func keyword(_ word: String) -> Control? {
        let lower = asciiLowercased(word)
        let rest: Int32
        let onSuccess: Int32
        switch lower {
        case "required": (onSuccess, rest) = (-1, -3)
        case "requisite": (onSuccess, rest) = (-1, -4)
        case "optional": (onSuccess, rest) = (-1, 0)
        case "sufficient": (onSuccess, rest) = (-2, 0)
        default: return nil
        }
        var numbers = Array(repeating: rest, count: ReturnCode.count)
        numbers[ReturnCode.success] = onSuccess
        numbers[ReturnCode.newAuthtokReqd] = onSuccess
        if lower == "required" || lower == "requisite" { numbers[ReturnCode.ignore] = 0 }
        return Control(numbers: numbers, keyword: lower)
    }

    /// The bracket syntax, `value=action` pairs separated by spaces, parsed as libpam parses
    /// it: names match by prefix in libpam's order, `default` sets every code not set so
    /// far, and what is left unset is `bad`. Anything it cannot parse makes every code `bad`.
    public static func bracket(_ text: [UInt8]) -> Control {
        let names = ReturnCode.names + ["default"]
        var numbers = Array(repeating: undefined, count: ReturnCode.count)
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0d).contains(c) }
        func skipSpaces() { while i < text.count && isSpace(text[i]) { i += 1 } }
        func matches(_ word: String) -> Bool {
            let w = Array(word.utf8)
            return text.count - i >= w.count && Array(text[i..<i + w.count]) == w
        }
        while true {
            skipSpaces()
            if i >= text.count { break }
            guard let code = names.firstIndex(where: matches) else { return allBad }
            i += names[code].utf8.count
            guard i < text.count else { return allBad }
            skipSpaces()
            guard i < text.count, text[i] == UInt8(ascii: "=") else { return allBad }
            i += 1
            skipSpaces()
            guard i < text.count else { return allBad }
            var action: Int32
            if let word = actionWords.firstIndex(where: matches) {
                action = -Int32(word)
                i += actionWords[word].utf8.count
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) else { return allBad }
                action = 0
                while i < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[i]) {
                    action = action &* 10 &+ Int32(text[i] - UInt8(ascii: "0"))
                    i += 1
                }
                guard action != 0 else { return allBad }
            }
            if code < ReturnCode.count {
                numbers[code] = action
            } else {
                for k in numbers.indices where numbers[k] == undefined { numbers[k] = action }
            }
        }
        return Control(numbers: numbers, keyword: nil)
    }

    /// How the control field gives `code`'s action, for messages: `requisite` or
    /// `auth_err=bad`.
    public func spelled(_ code: Int) -> String {
        if let keyword { return keyword }
        return "\(ReturnCode.names[code])=\(actions[code])"
    }
}

/// strcasecmp's view of a word: ASCII letters folded, everything else as it is.
func asciiLowercased(_ s: String) -> String {
    String(decoding: s.utf8.map { (0x41...0x5a).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
}
