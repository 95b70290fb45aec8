import Identifiers

// Tests write user names and credential ids as literals; the shipped types have no such
// initialisers (a name from outside is always checked with a thrown error).
extension UserName: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { try! self.init(validating: name) }
}

extension CredentialID: ExpressibleByArrayLiteral {
    public init(arrayLiteral bytes: UInt8...) { self.init(bytes) }
}

extension CredentialID {
    /// An id whose bytes are the UTF-8 of `tag`, so a test can name its credentials.
    public init(tag: String) { self.init(Array(tag.utf8)) }
}

extension CredentialID: ExpressibleByStringLiteral {
    /// A literal id in a test is a tag: its UTF-8 bytes are the id.
    public init(stringLiteral tag: String) { self.init(tag: tag) }
}
