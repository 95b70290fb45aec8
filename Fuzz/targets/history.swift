import Identifiers
import HostState
import Storage

/// This host's per-user history (state_dir/history/USER.json) through the same document
/// decode as the module: no crash; what decodes round-trips.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHistory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let user = try! UserName(validating: "alice")
    let path = "/fuzz/history/alice.json"
    guard let history = try? DocumentStore<UserHistory>.decode(bytes, path: path, user: user) else { return 0 }
    guard let written = try? DocumentStore<UserHistory>.encode(history, path: path) else { preconditionFailure("cannot write what was read") }
    precondition((try? DocumentStore<UserHistory>.decode(written, path: path, user: user)) == history, "round trip changed the history")
    return 0
}
