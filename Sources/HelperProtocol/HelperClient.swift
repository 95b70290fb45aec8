import Crypto

public enum HelperClientError: Error, Equatable, CustomStringConvertible {
    case launch(HelperLaunchError)
    case channel(ChannelError)
    case malformed(WireError)
    case tooManyQuestions

    public var description: String {
        switch self {
        case .launch(let e): return e.description
        case .channel(let e): return "helper: \(e)"
        case .malformed(let e): return "helper: \(e)"
        case .tooManyQuestions: return "helper asked more questions than any operation needs"
        }
    }
}

/// The caller's side of one helper exchange: start the helper, send the request, answer its
/// PIN questions through `answer`, return its reply. Synchronous, no threads. The timeout
/// bounds every wait for the helper; time the user spends answering is not counted.
public struct HelperClient: Sendable {
    public var program: String
    public var arguments: [String]
    public var timeoutSeconds: Int
    /// More than any ceremony needs (new PIN tries, confirmations, wrong-PIN retries).
    public var maxQuestions = 16

    public init(program: String, arguments: [String] = [], timeoutSeconds: Int) {
        self.program = program
        self.arguments = arguments
        self.timeoutSeconds = timeoutSeconds
    }

    /// `answer` returns the PIN, or nil for "cancel" (empty answer, conversation failed).
    public func perform(_ request: HelperRequest, answer: (PINQuestion) -> SecretBytes?) throws(HelperClientError) -> HelperReply {
        let helper: HelperProcess
        do { helper = try HelperProcess.launch(path: program, arguments: arguments) } catch { throw .launch(error) }
        do {
            try helper.channel.send(request.encoded())
            var questions = 0
            while true {
                guard let frame = try helper.channel.receive(timeoutSeconds: timeoutSeconds) else {
                    throw HelperClientError.channel(.closed)
                }
                switch try decode(frame) {
                case .reply(let reply):
                    helper.finish()
                    return reply
                case .question(let q):
                    questions += 1
                    guard questions <= maxQuestions else { throw HelperClientError.tooManyQuestions }
                    let pin = answer(q)
                    try helper.channel.send(secret: PINAnswer.encode(pin))
                }
            }
        } catch let e as HelperClientError {
            helper.kill()
            throw e
        } catch let e as ChannelError {
            helper.kill()
            throw .channel(e)
        } catch {
            helper.kill()
            throw .channel(.io("unexpected error \(error)", errno: 0))
        }
    }

    private func decode(_ frame: [UInt8]) throws(HelperClientError) -> HelperMessage {
        do { return try HelperMessage(decoding: frame) } catch { throw .malformed(error) }
    }
}
