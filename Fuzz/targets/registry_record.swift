import Registry
import Storage

/// A registry record as the module reads it (Storage's document decode: the schema version
/// first, then the record, then whose it is): any bytes, no crash; a record that decodes is
/// written back as a file that decodes to the same record.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRegistryRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzDocument(UserRecord.self, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func fuzzDocument<D: VersionedDocument>(_ type: D.Type, _ bytes: [UInt8]) {
    let user = try! UserName(validating: "alice")
    let path = "/fuzz/alice.json"
    guard let document = try? DocumentStore<D>.decode(bytes, path: path, user: user) else { return }
    precondition((1...D.currentSchemaVersion).contains(document.schemaVersion), "accepted a schema it does not know")
    guard let written = try? DocumentStore<D>.encode(document, path: path) else { preconditionFailure("cannot write what was read") }
    precondition((try? DocumentStore<D>.decode(written, path: path, user: user)) == document, "round trip changed the document")
}
