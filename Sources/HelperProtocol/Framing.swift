#if canImport(Glibc)
import CBOREncoding
import Glibc
#endif
import Crypto

/// The helper protocol's framing: a 4-byte big-endian length, then that many bytes of
/// payload (a CBOR map, see Messages.swift). Frames are bounded so a confused or hostile
/// peer cannot make either side allocate without limit.
public enum Frame {
    public static let maxPayload = 64 * 1024

    public static func encode(_ payload: [UInt8]) throws(ChannelError) -> [UInt8] {
        guard payload.count <= maxPayload else { throw .frameTooLarge(payload.count) }
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + payload
    }
}

public enum ChannelError: Error, Equatable, CustomStringConvertible {
    case frameTooLarge(Int)
    case closed
    case truncated
    case timedOut(seconds: Int)
    case io(String, errno: Int32)

    public var description: String {
        switch self {
        case .frameTooLarge(let n): return "helper protocol frame of \(n) bytes exceeds the \(Frame.maxPayload)-byte limit"
        case .closed: return "the other side closed the connection"
        case .truncated: return "the connection closed in the middle of a frame"
        case .timedOut(let s): return "no answer within \(s) s"
        case .io(let what, let e): return "\(what): \(String(cString: strerror(e)))"
        }
    }
}

/// One end of a stream connection carrying frames. Synchronous; waits with poll(2) so every
/// read has a deadline. Writes use send(MSG_NOSIGNAL) on sockets so a dead peer cannot raise
/// SIGPIPE in the host process; on pipes (the helper's stdout) they fall back to write(2).
public struct FrameChannel {
    public let readFD: Int32
    public let writeFD: Int32

    public init(readFD: Int32, writeFD: Int32) {
        self.readFD = readFD
        self.writeFD = writeFD
    }

    public init(socket fd: Int32) { self.init(readFD: fd, writeFD: fd) }

    public func send(_ payload: [UInt8]) throws(ChannelError) {
        let frame = try Frame.encode(payload)
        try frame.withUnsafeBytes { b in Result { () throws(ChannelError) in try writeAll(b) } }.get()
    }

    /// Sends a frame whose payload is secret (a PIN answer); no unwiped copy is made.
    public func send(secret payload: SecretBytes) throws(ChannelError) {
        guard payload.count <= Frame.maxPayload else { throw .frameTooLarge(payload.count) }
        let n = UInt32(payload.count)
        let header: [UInt8] = [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
        try header.withUnsafeBytes { b in Result { () throws(ChannelError) in try writeAll(b) } }.get()
        try payload.withUnsafeBytes { b in Result { () throws(ChannelError) in try writeAll(b) } }.get()
    }

    /// Receives one frame, waiting at most `timeoutSeconds` for all of it (nil = no limit).
    /// Returns nil when the peer closed the connection cleanly before a new frame began.
    public func receive(timeoutSeconds: Int?) throws(ChannelError) -> [UInt8]? {
        let deadline = timeoutSeconds.map { monotonicMillis() + Int64($0) * 1000 }
        guard let length = try receiveHeader(deadline: deadline, timeoutSeconds: timeoutSeconds) else { return nil }
        var payload = [UInt8](repeating: 0, count: length)
        _ = try payload.withUnsafeMutableBytes { b in
            Result { () throws(ChannelError) in try readExactly(b, deadline: deadline, timeoutSeconds: timeoutSeconds, eofAllowed: false) }
        }.get()
        return payload
    }

    /// Receives a frame whose payload is secret, straight into wiped memory.
    public func receiveSecret(timeoutSeconds: Int?) throws(ChannelError) -> SecretBytes? {
        let deadline = timeoutSeconds.map { monotonicMillis() + Int64($0) * 1000 }
        guard let length = try receiveHeader(deadline: deadline, timeoutSeconds: timeoutSeconds) else { return nil }
        let payload = SecretBytes(count: length)
        _ = try payload.withUnsafeMutableBytes { b in
            Result { () throws(ChannelError) in try readExactly(b, deadline: deadline, timeoutSeconds: timeoutSeconds, eofAllowed: false) }
        }.get()
        return payload
    }

    private func receiveHeader(deadline: Int64?, timeoutSeconds: Int?) throws(ChannelError) -> Int? {
        var header = [UInt8](repeating: 0, count: 4)
        let got = try header.withUnsafeMutableBytes { b in
            Result { () throws(ChannelError) in try readExactly(b, deadline: deadline, timeoutSeconds: timeoutSeconds, eofAllowed: true) }
        }.get()
        guard got else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard length <= Frame.maxPayload else { throw .frameTooLarge(length) }
        return length
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ChannelError) {
        var offset = 0
        while offset < bytes.count {
            let p = bytes.baseAddress! + offset
            var n = Glibc.send(writeFD, p, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == ENOTSOCK { n = Glibc.write(writeFD, p, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .closed }
                throw .io("write to helper channel", errno: errno)
            }
            offset += n
        }
    }

    private func readExactly(_ buffer: UnsafeMutableRawBufferPointer, deadline: Int64?, timeoutSeconds: Int?, eofAllowed: Bool) throws(ChannelError) -> Bool {
        var offset = 0
        while offset < buffer.count {
            if let deadline {
                let remaining = deadline - monotonicMillis()
                guard remaining > 0 else { throw .timedOut(seconds: timeoutSeconds ?? 0) }
                var pfd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
                let r = poll(&pfd, 1, Int32(clamping: remaining))
                if r < 0 {
                    if errno == EINTR { continue }
                    throw .io("poll on helper channel", errno: errno)
                }
                if r == 0 { throw .timedOut(seconds: timeoutSeconds ?? 0) }
            }
            let n = Glibc.read(readFD, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { if offset == 0 && eofAllowed { throw .closed } else { throw .truncated } }
                throw .io("read from helper channel", errno: errno)
            }
            if n == 0 {
                if offset == 0 && eofAllowed { return false }
                throw .truncated
            }
            offset += n
        }
        return true
    }
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
