import CBOREncoding
import WebAuthn

/// Any input: no crash, and whatever decodes survives an encode/decode round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCBOR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let (prefix, length) = try? CBOR.decodePrefix(bytes) {
        precondition(length > 0 && length <= bytes.count)
        let whole = try? CBOR.decode(bytes)
        precondition((whole != nil) == (length == bytes.count), "decode and decodePrefix disagree")
        let encoded = prefix.encoded()
        guard let again = try? CBOR.decode(encoded) else { preconditionFailure("our own encoding does not decode") }
        precondition(again == prefix, "round trip changed the value")
        precondition(again.encoded() == encoded, "canonical encoding is not stable")
    }
    return 0
}
