import Crypto
import HelperProtocol

/// Every message either side of the helper protocol decodes: no crash; whatever decodes
/// re-encodes to something that decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHelperProtocol(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let request = try? HelperRequest(decoding: bytes) {
        precondition((try? HelperRequest(decoding: request.encoded())) == request, "request round trip changed it")
    }
    if let message = try? HelperMessage(decoding: bytes) {
        precondition((try? HelperMessage(decoding: message.encoded())) == message, "message round trip changed it")
    }
    if let answer = try? PINAnswer.decode(SecretBytes(bytes)) {
        // A PIN (a cancel decodes to nil and is skipped by `if let`); an empty PIN encodes as
        // a cancel, by design.
        let again = try? PINAnswer.decode(PINAnswer.encode(answer))
        precondition(again?.copyBytes() == (answer.isEmpty ? nil : answer.copyBytes()), "PIN answer round trip")
    }
    return 0
}
