import Identifiers
import Registry
import Storage
import WebAuthn

/// A registry record as the module reads it (Storage's document decode: the schema version
/// first, then the record, then whose it is), and the public keys in it as a login decodes
/// them: any bytes, no crash; a record that decodes is written back as a file that decodes to
/// the same record.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistryRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let user = try! UserName(validating: "alice")
    let path = "/fuzz/alice.json"
    guard let record = try? DocumentStore<UserRecord>.decode(bytes, path: path, user: user) else { return 0 }
    precondition((1...UserRecord.currentSchemaVersion).contains(record.schemaVersion), "accepted a schema it does not know")
    for credential in record.credentials {
        if let key = Base64URL.decode(credential.publicKey) { _ = try? COSEKey(encoded: key).publicKey() }
    }
    guard let written = try? DocumentStore<UserRecord>.encode(record, path: path) else { preconditionFailure("cannot write what was read") }
    precondition((try? DocumentStore<UserRecord>.decode(written, path: path, user: user)) == record, "round trip changed the record")
    return 0
}
