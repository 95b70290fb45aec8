import Identifiers
import Authenticator
import Storage

/// The software authenticator's keyring (state_dir/authenticator/software/USER.json), read
/// by the helper as root: no crash; what decodes round-trips.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeyring(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let user = try! UserName(validating: "alice")
    let path = "/fuzz/software/alice.json"
    guard let keyring = try? DocumentStore<Keyring<SealedCredential>>.decode(bytes, path: path, user: user) else { return 0 }
    for credential in keyring.credentials { _ = credential.id }
    guard let written = try? DocumentStore<Keyring<SealedCredential>>.encode(keyring, path: path) else { preconditionFailure("cannot write what was read") }
    precondition((try? DocumentStore<Keyring<SealedCredential>>.decode(written, path: path, user: user)) == keyring, "round trip changed the keyring")
    return 0
}
