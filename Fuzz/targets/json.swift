import JSON

/// Any input: no crash. What parses is written back by the writer the registry and history
/// files use, and reads again as the same value: the writer's escaping cannot change a
/// string, and the parser accepts everything the writer produces.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    let written = Array(value.render().utf8)
    guard let again = try? JSONValue.parse(written) else { preconditionFailure("the writer wrote JSON the parser refuses") }
    precondition(again == value, "a value changed on the way through the writer")
    return 0
}
