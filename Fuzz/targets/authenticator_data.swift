import Crypto
import WebAuthn

/// A fixed credential and client data, so the assertion verifier runs on the fuzzed bytes too.
private let verifierKey = try! COSEKey(x: [UInt8](repeating: 1, count: 32), y: [UInt8](repeating: 2, count: 32))
private let clientDataJSON = CollectedClientData.make(type: "webauthn.get", challenge: [1, 2, 3, 4], origin: "https://example.org")
private let expectations = AssertionExpectations(challenge: [1, 2, 3, 4], origin: "https://example.org", rpID: "example.org",
                                                 requireUserVerification: false)

/// Any input: no crash; what parses keeps its bytes and survives being rebuilt.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAuthenticatorData(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let parsed = try? AuthenticatorData(bytes: bytes) {
        precondition(parsed.rawBytes == bytes && parsed.rpIDHash == Array(bytes.prefix(32)))
        precondition(parsed.flags.contains(.attestedCredentialData) == (parsed.attestedCredentialData != nil))
        precondition(parsed.flags.contains(.extensionData) == (parsed.extensions != nil))
        guard let rebuilt = try? AuthenticatorData(rpIDHash: parsed.rpIDHash, flags: parsed.flags, signCount: parsed.signCount,
                                                   attestedCredentialData: parsed.attestedCredentialData, extensions: parsed.extensions),
              let reparsed = try? AuthenticatorData(bytes: rebuilt.bytes)
        else { preconditionFailure("parsed authenticatorData could not be rebuilt") }
        precondition(reparsed.flags == parsed.flags && reparsed.signCount == parsed.signCount
            && reparsed.attestedCredentialData == parsed.attestedCredentialData && reparsed.extensions == parsed.extensions)
    }
    _ = try? AssertionVerifier.verify(authenticatorData: bytes, clientDataJSON: clientDataJSON, signature: Array(bytes.suffix(72)),
                                      credentialPublicKey: verifierKey, storedSignCount: 0, expecting: expectations)
    return 0
}
