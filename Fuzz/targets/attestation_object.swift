import Crypto
import WebAuthn

private let clientDataJSON = CollectedClientData.make(type: "webauthn.create", challenge: [1, 2, 3, 4], origin: "https://example.org")
private let expectations = RegistrationExpectations(challenge: [1, 2, 3, 4], origin: "https://example.org", rpID: "example.org",
                                                    requireUserVerification: false)

/// Any input: no crash in parsing or in registration verification (which reaches the x5c
/// certificate parser and libcrypto); what parses survives an encode/parse round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAttestationObject(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let parsed = try? AttestationObject(bytes: bytes) {
        guard let again = try? AttestationObject(bytes: parsed.encoded) else { preconditionFailure("encoded object does not parse") }
        precondition(again == parsed, "round trip changed the attestation object")
    }
    _ = try? RegistrationVerifier.verify(attestationObject: bytes, clientDataJSON: clientDataJSON, expecting: expectations)
    return 0
}
