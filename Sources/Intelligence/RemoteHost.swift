/// Whether PAM_RHOST names somewhere other than this machine.
///
/// Linux-PAM's convention: unset means unknown (local programs such as `login` or `su` leave
/// it so), "localhost" means the request comes from this machine, anything else is the
/// remote end. We also count as local every loopback address (127.0.0.0/8, ::1, and
/// IPv4-mapped 127.x as dual-stack sshd reports it), names under `.localhost` (RFC 6761),
/// and this host's own name (sudo with `pam_rhost` sets PAM_RHOST to it).
///
/// Rule 3 is not a security boundary — a passkey still needs this host's authenticator and
/// its PIN — it only keeps prompts and offers away from people who are not at the machine.
public func isRemote(rhost: String?, localHostName: String) -> Bool {
    guard let raw = rhost, !raw.isEmpty else { return false }
    let name = raw.lowercased()
    if name == "localhost" || name.hasSuffix(".localhost") { return false }
    if !localHostName.isEmpty && name == localHostName.lowercased() { return false }
    if let v4 = ipv4(name) { return v4.0 != 127 }
    var address = Substring(name)
    if address.hasPrefix("[") && address.hasSuffix("]") { address = address.dropFirst().dropLast() }
    if let zone = address.firstIndex(of: "%") { address = address[..<zone] }
    if let groups = ipv6(address) {
        if groups == [0, 0, 0, 0, 0, 0, 0, 1] { return false }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xffff && groups[6] >> 8 == 127 { return false }
    }
    return true
}

/// A strict dotted quad (four decimal octets), or nil.
private func ipv4<S: StringProtocol>(_ s: S) -> (UInt8, UInt8, UInt8, UInt8)? {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var octets: [UInt8] = []
    for p in parts {
        guard (1...3).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt8(p) else { return nil }
        octets.append(v)
    }
    return (octets[0], octets[1], octets[2], octets[3])
}

/// The eight 16-bit groups of a textual IPv6 address (RFC 4291 section 2.2, including "::"
/// and a trailing dotted quad), or nil.
private func ipv6(_ s: Substring) -> [UInt16]? {
    guard s.contains(":") else { return nil }
    func groups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
        if part.isEmpty { return [] }
        var out: [UInt16] = []
        let fields = part.split(separator: ":", omittingEmptySubsequences: false)
        for (i, f) in fields.enumerated() {
            if allowV4Tail && i == fields.count - 1, let v4 = ipv4(f) {
                out.append(UInt16(v4.0) << 8 | UInt16(v4.1))
                out.append(UInt16(v4.2) << 8 | UInt16(v4.3))
            } else {
                guard (1...4).contains(f.count), let v = UInt16(f, radix: 16) else { return nil }
                out.append(v)
            }
        }
        return out
    }
    /// Where "::" first appears.
    func doubleColon(_ t: Substring) -> Range<Substring.Index>? {
        var i = t.startIndex
        while i < t.endIndex {
            let j = t.index(after: i)
            if j < t.endIndex, t[i] == ":", t[j] == ":" { return i..<t.index(after: j) }
            i = j
        }
        return nil
    }
    if let gap = doubleColon(s) {
        let head = s[..<gap.lowerBound], tail = s[gap.upperBound...]
        guard doubleColon(tail) == nil, let h = groups(head, allowV4Tail: false), let t = groups(tail, allowV4Tail: true),
              h.count + t.count <= 7 else { return nil }
        return h + Array(repeating: 0, count: 8 - h.count - t.count) + t
    }
    guard let all = groups(s, allowV4Tail: true), all.count == 8 else { return nil }
    return all
}
