import Identifiers
import Crypto
import WebAuthn

/// What a login costs the relying party: one full assertion verification, from raw bytes
/// (clientDataJSON parse, authenticatorData parse, COSE key to libcrypto key, ECDSA verify).
func webAuthnBenchmarks() throws -> [Benchmark] {
    let rpID = "host.example.org", origin = "https://host.example.org"
    let key = try P256PrivateKey()
    let coseKey = COSEKey(publicKey: key.publicKey)

    let getChallenge = SecureRandom.bytes(32)
    let getClientData = CollectedClientData.make(type: CollectedClientData.getType, challenge: getChallenge, origin: origin)
    let authData = try AuthenticatorData(rpID: rpID, flags: [.userPresent, .userVerified], signCount: 2)
    let signature = try authData.assertionSignature(clientDataHash: SHA256.hash(getClientData), key: key).derRepresentation
    let assertionExpectations = AssertionExpectations(challenge: getChallenge, origin: origin, rpID: rpID, requireUserVerification: true)

    let regChallenge = SecureRandom.bytes(32)
    let regClientData = CollectedClientData.make(type: CollectedClientData.createType, challenge: regChallenge, origin: origin)
    let credential = try AttestedCredentialData(aaguid: [UInt8](repeating: 0, count: 16), credentialID: CredentialID(SecureRandom.bytes(32)),
                                                credentialPublicKey: coseKey)
    let regAuthData = try AuthenticatorData(rpID: rpID, flags: [.userPresent, .userVerified], signCount: 0,
                                            attestedCredentialData: credential)
    let attestationObject = try AttestationObject.packedSelf(authData: regAuthData, clientDataHash: SHA256.hash(regClientData), key: key).encoded
    let registrationExpectations = RegistrationExpectations(challenge: regChallenge, origin: origin, rpID: rpID, requireUserVerification: true)

    return [
        Benchmark(group: "webauthn", name: "ES256 assertion verify (full)", iterations: 2000) {
            let result = try AssertionVerifier.verify(authenticatorData: authData.bytes, clientDataJSON: getClientData,
                                                      signature: signature, credentialPublicKey: coseKey, storedSignCount: 1,
                                                      expecting: assertionExpectations)
            precondition(result.signCount == 2)
        },
        Benchmark(group: "webauthn", name: "packed registration verify (full)", iterations: 1000) {
            _ = try RegistrationVerifier.verify(attestationObject: attestationObject, clientDataJSON: regClientData,
                                                expecting: registrationExpectations)
        },
        Benchmark(group: "webauthn", name: "COSE key to libcrypto key", iterations: 2000) {
            _ = try coseKey.publicKey()
        },
        Benchmark(group: "webauthn", name: "clientDataJSON parse", iterations: 20000) {
            _ = try CollectedClientData(json: getClientData)
        },
        Benchmark(group: "webauthn", name: "attestation object parse", iterations: 20000) {
            _ = try AttestationObject(bytes: attestationObject)
        },
    ]
}
