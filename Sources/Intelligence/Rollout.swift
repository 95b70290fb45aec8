import Crypto

/// The user's rollout bucket, 0 to 99: the first 8 bytes of SHA-256 of the UTF-8 user name,
/// big-endian, modulo 100. A user is inside `rollout_percent = P` when the bucket is below P.
///
/// It depends on the name alone, so every host in a fleet gives the same answer, and raising
/// P only ever adds users. An administrator can reproduce it without our tools:
///     printf %s alice | sha256sum | cut -c1-16     # then that hex number mod 100
/// SHA-256 rather than a short hash because similar names (user0001, user0002, …) must still
/// spread evenly; the cost, about a microsecond, is paid only for append decisions.
public func rolloutBucket(user: String) -> Int {
    // PortableSHA256: the same digest without starting OpenSSL in the host process.
    let digest = PortableSHA256.hash(Array(user.utf8))
    var value: UInt64 = 0
    for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
    return Int(value % 100)
}
