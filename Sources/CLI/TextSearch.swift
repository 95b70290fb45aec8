extension StringProtocol {
    /// Whether `other` occurs in this text, compared as UTF-8 bytes. The standard library's
    /// `contains(_: StringProtocol)` lives in _StringProcessing, which shipped binaries do not
    /// link (Package.swift).
    func containsText(_ other: some StringProtocol) -> Bool {
        let haystack = Array(utf8), needle = Array(other.utf8)
        if needle.isEmpty { return true }
        if needle.count > haystack.count { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
