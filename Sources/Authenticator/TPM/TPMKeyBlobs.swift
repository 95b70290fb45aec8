import CTSS2

/// A credential key as TPM2_Create returned it: its public area and its private area, which
/// is encrypted and integrity-protected under the storage primary and so loads only into the
/// TPM (and hierarchy seed) that made it. Kept in the TPM's own wire format (Tss2_MU).
struct TPMKeyBlobs: Equatable, Sendable {
    var publicArea: [UInt8]
    var privateArea: [UInt8]

    init(publicArea: [UInt8], privateArea: [UInt8]) {
        self.publicArea = publicArea
        self.privateArea = privateArea
    }

    init(_ pub: TPM2B_PUBLIC, _ priv: TPM2B_PRIVATE) throws(TPMError) {
        var p = pub
        var s = priv
        publicArea = try Self.marshal("public area", MemoryLayout<TPM2B_PUBLIC>.size) { buffer, size, offset in
            pam_passkey_Tss2_MU_TPM2B_PUBLIC_Marshal(&p, buffer, size, offset)
        }
        privateArea = try Self.marshal("private area", MemoryLayout<TPM2B_PRIVATE>.size) { buffer, size, offset in
            pam_passkey_Tss2_MU_TPM2B_PRIVATE_Marshal(&s, buffer, size, offset)
        }
    }

    func unmarshalPublic() throws(TPMError) -> TPM2B_PUBLIC {
        var out = TPM2B_PUBLIC()
        try Self.unmarshal("public area", publicArea) { buffer, size, offset in
            pam_passkey_Tss2_MU_TPM2B_PUBLIC_Unmarshal(buffer, size, offset, &out)
        }
        return out
    }

    func unmarshalPrivate() throws(TPMError) -> TPM2B_PRIVATE {
        var out = TPM2B_PRIVATE()
        try Self.unmarshal("private area", privateArea) { buffer, size, offset in
            pam_passkey_Tss2_MU_TPM2B_PRIVATE_Unmarshal(buffer, size, offset, &out)
        }
        return out
    }

    private static func marshal(_ what: String, _ capacity: Int,
                                _ body: (UnsafeMutablePointer<UInt8>, Int, UnsafeMutablePointer<Int>) -> TSS2_RC) throws(TPMError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var offset = 0
        let rc = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, capacity, &offset) }
        guard rc == 0 else { throw .malformed("the key's \(what) does not marshal: \(TPMResponseCode(raw: rc))") }
        return Array(buffer[..<offset])
    }

    /// The whole blob must be one structure: trailing bytes mean a damaged or foreign file.
    private static func unmarshal(_ what: String, _ bytes: [UInt8],
                                  _ body: (UnsafePointer<UInt8>, Int, UnsafeMutablePointer<Int>) -> TSS2_RC) throws(TPMError) {
        guard !bytes.isEmpty else { throw .malformed("the stored key's \(what) is empty") }
        var offset = 0
        let rc = bytes.withUnsafeBufferPointer { body($0.baseAddress!, bytes.count, &offset) }
        guard rc == 0 else { throw .malformed("the stored key's \(what) is damaged: \(TPMResponseCode(raw: rc))") }
        guard offset == bytes.count else {
            throw .malformed("the stored key's \(what) is damaged: \(bytes.count - offset) bytes after the structure")
        }
    }
}
