import HelperProtocol

/// Bookkeeping that need not hold the reply up. After a right PIN the wrong-PIN counter is
/// set back to zero; the attempt itself was counted, and the signature counter reserved,
/// synced, before the PIN was checked. The helper sends the assertion first and then does
/// this, while the module verifies it and writes its own records. If the helper dies in
/// between, the counter keeps the attempt: a user can lose an attempt that way, never gain
/// one.
public final class AfterReply {
    private var work: [() throws(HelperFailure) -> Void] = []

    public init() {}

    /// Runs what was queued, in order, and empties the queue; returns what failed.
    public func run() -> [HelperFailure] {
        let queued = work
        work = []
        var failures: [HelperFailure] = []
        for w in queued {
            do { try w() } catch { failures.append(error) }
        }
        return failures
    }

    func add(_ w: @escaping () throws(HelperFailure) -> Void) { work.append(w) }
}
