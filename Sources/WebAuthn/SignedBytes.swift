/// What every WebAuthn signature covers, attestation and assertion alike (WebAuthn §6.3.3,
/// §7.1 step 20, §7.2 step 20): the authenticator data followed by the SHA-256 of the client
/// data. One definition for the authenticators that sign and the verifiers that check.
public func signedBytes(authenticatorData: [UInt8], clientDataHash: [UInt8]) -> [UInt8] {
    authenticatorData + clientDataHash
}
