import Crypto
import HelperProtocol

/// Choosing the PIN of a new credential, the same for every backend: ask, check the rules,
/// say what was wrong and ask again, confirm.
enum NewPINDialog {
    static func choose(pins: PINPrompter, minLength: Int, tries: Int) throws(HelperFailure) -> SecretBytes {
        var problem: PINProblem? = nil
        for _ in 0..<tries {
            guard let pin = try pins.answer(.new(minLength: minLength, problem: problem?.rawValue)), !pin.isEmpty else {
                throw HelperFailure(.cancelled, "no PIN chosen")
            }
            var bytes = pin.copyBytes()
            problem = PINRules.problem(with: bytes, minLength: minLength)
            wipe(&bytes)
            if problem != nil { continue }
            guard let again = try pins.answer(.confirm), !again.isEmpty else {
                throw HelperFailure(.cancelled, "PIN not confirmed")
            }
            if again.isEqual(to: pin) { return pin }
            problem = .mismatch
        }
        throw HelperFailure(.cancelled, "no acceptable PIN after \(tries) tries (last problem: \(problem?.rawValue ?? "none"))")
    }
}
