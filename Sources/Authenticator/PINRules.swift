import HelperProtocol

/// What makes a PIN acceptable when a passkey is created. The PIN protects a key that never
/// leaves this host and the number of guesses is limited (pin_max_attempts), so the rules
/// only keep out the PINs an attacker tries first.
public enum PINRules {
    /// Checks a new PIN (UTF-8 bytes). Returns the first problem found, or nil.
    public static func problem(with pin: [UInt8], minLength: Int) -> PINProblem? {
        guard pin.count <= PINProblem.maxBytes else { return .tooLong }
        guard pin.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return .notText }
        // Count characters, not bytes, against the minimum.
        let characters = pin.filter { $0 & 0xC0 != 0x80 }.count
        guard characters >= minLength else { return .tooShort }
        if Set(pin).count == 1 { return .allSame }
        if isStraightSequence(pin) { return .sequence }
        return nil
    }

    /// 123456, 987654, abcdef, and their wrap-arounds over digits (890123).
    static func isStraightSequence(_ pin: [UInt8]) -> Bool {
        guard pin.count >= 3 else { return false }
        let isDigits = pin.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        for step in [1, -1] {
            var straight = true
            for i in 1..<pin.count {
                let expected: Int
                if isDigits {
                    expected = ((Int(pin[i - 1]) - 0x30 + step + 10) % 10) + 0x30
                } else {
                    expected = Int(pin[i - 1]) + step
                }
                if Int(pin[i]) != expected { straight = false; break }
            }
            if straight { return true }
        }
        return false
    }
}
