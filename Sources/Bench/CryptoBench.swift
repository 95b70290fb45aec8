import Crypto

func cryptoBenchmarks() throws -> [Benchmark] {
    let key = try P256PrivateKey()
    let message = SecureRandom.bytes(69)
    let signature = try key.signature(for: message)
    return [
        // What a passkey login does in the PAM application, and what it did before (issue 17).
        Benchmark(group: "crypto", name: "ECDSA P-256 verify (Swift, P256Arithmetic)", iterations: 2000) {
            precondition(key.publicKey.isValidSignature(signature, for: message))
        },
        Benchmark(group: "crypto", name: "ECDSA P-256 verify (libcrypto, LibcryptoReference)", iterations: 2000) {
            precondition(LibcryptoReference.verifyECDSA(uncompressedPoint: key.publicKey.uncompressedPoint,
                                                        signatureDER: signature.derRepresentation, message: message))
        },
        Benchmark(group: "crypto", name: "ECDSA P-256 sign (libcrypto)", iterations: 2000) {
            _ = try key.signature(for: message)
        },
    ]
}
