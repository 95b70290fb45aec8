import Crypto

func cryptoBenchmarks() throws -> [Benchmark] {
    let key = try P256PrivateKey()
    let message = SecureRandom.bytes(69)
    let signature = try key.signature(for: message)
    return [
        Benchmark(group: "crypto", name: "ECDSA P-256 verify (libcrypto)", iterations: 2000) {
            precondition(key.publicKey.isValidSignature(signature, for: message))
        },
        Benchmark(group: "crypto", name: "ECDSA P-256 sign (libcrypto)", iterations: 2000) {
            _ = try key.signature(for: message)
        },
    ]
}
