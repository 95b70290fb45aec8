import Crypto

/// The Swift ECDSA P-256 verifier (Sources/Crypto/P256Arithmetic.swift) against libcrypto's
/// (LibcryptoReference): any input, the same answer from both, and a signature libcrypto
/// made is accepted. The first byte chooses what the rest is:
///   0: a point (65 bytes), a DER signature and a message, all as given;
///   1: a message this process's key signs; the next byte, when there is one, flips one bit
///      of the signature (r or s) or of the message;
///   2: r ‖ s (64 bytes) against this process's key, and the rest as the message.
/// The key is made when the fuzzer starts: a disagreement prints everything needed to redo it.
private let key = try! P256PrivateKey()

private func agree(point: [UInt8], signature: [UInt8], message: [UInt8], expectValid: Bool = false) {
    let reference = LibcryptoReference.verifyECDSA(uncompressedPoint: point, signatureDER: signature, message: message)
    var swift = false
    if let publicKey = try? P256PublicKey(uncompressedPoint: point), let parsed = try? ECDSASignature(derRepresentation: signature) {
        swift = publicKey.isValidSignature(parsed, for: message)
    }
    // libcrypto accepts BER a strict verifier refuses (ECDSASignature: canonical DER only), so
    // a difference is a bug only where the Swift side accepted, or where the signature is DER.
    let canonical = (try? ECDSASignature(derRepresentation: signature)) != nil
    if swift != reference && (swift || canonical) || (expectValid && !swift) {
        print("p256_verify: Swift says \(swift), libcrypto \(reference); point \(point), signature \(signature), message \(message)")
        preconditionFailure("the two verifiers disagree")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzP256Verify(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    let point = key.publicKey.uncompressedPoint
    switch mode % 3 {
    case 0:
        guard rest.count >= 66 else { return 0 }
        let sigLength = Int(rest[65]) % 80
        let signature = Array(rest.dropFirst(66).prefix(sigLength))
        agree(point: Array(rest.prefix(65)), signature: signature, message: Array(rest.dropFirst(66 + sigLength)))
    case 1:
        let message = Array(rest.dropFirst())
        guard let signature = try? key.signature(for: message) else { return 0 }
        agree(point: point, signature: signature.derRepresentation, message: message, expectValid: true)
        guard let flip = rest.first else { return 0 }
        var raw = signature.rawRepresentation, altered = message
        if flip & 0x80 == 0 || altered.isEmpty {
            raw[Int(flip & 0x3F)] ^= 1 << (flip >> 3 & 7)
        } else {
            altered[Int(flip & 0x7F) % altered.count] ^= 1
        }
        guard let sig = try? ECDSASignature(rawRepresentation: raw) else { return 0 }
        agree(point: point, signature: sig.derRepresentation, message: altered)
    default:
        guard rest.count >= 64, let sig = try? ECDSASignature(rawRepresentation: Array(rest.prefix(64))) else { return 0 }
        agree(point: point, signature: sig.derRepresentation, message: Array(rest.dropFirst(64)))
    }
    return 0
}
