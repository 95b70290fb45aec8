import Identifiers
import WebAuthn

/// Any input: no crash; what parses can be written back by `make` and read again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClientData(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let parsed = try? CollectedClientData(json: bytes) {
        let written = CollectedClientData.make(type: parsed.type, challenge: parsed.challenge, origin: parsed.origin)
        guard let again = try? CollectedClientData(json: written) else { preconditionFailure("make() wrote JSON we cannot read") }
        precondition(again.type == parsed.type && again.challenge == parsed.challenge && again.origin == parsed.origin)
        precondition(again.crossOrigin == false && again.topOrigin == nil)
    }
    _ = Base64URL.decode(String(decoding: bytes, as: UTF8.self)).map { decoded in
        precondition(Base64URL.encode(decoded) == String(decoding: bytes, as: UTF8.self), "base64url has a second spelling")
    }
    return 0
}
