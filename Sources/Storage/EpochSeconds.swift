#if canImport(Glibc)
import Glibc
#endif

/// Seconds since the Unix epoch (UTC). State files store times as plain integers: no
/// calendar or locale code on the login path, and times compare and sort as numbers.
public typealias EpochSeconds = Int64

/// The current time.
public func currentEpochSeconds() -> EpochSeconds {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return EpochSeconds(ts.tv_sec)
}
