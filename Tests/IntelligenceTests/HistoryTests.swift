import Identifiers
import HostState
import Intelligence
import Registry
import Policy
import XCTest

/// The updates the module applies, checked through the decisions they feed.
final class HistoryTests: XCTestCase {
    let withLocal = Scenario(credentials: [platform("B1", on: hostB)], authenticator: .healthy(holding: [HeldCredentialSignal(id: "B1")]))

    func testCancelsSnoozeThePromptAndAPasskeyLoginClearsThem() {
        var s = withLocal
        let p = Policy()
        for i in 0..<3 {
            XCTAssertEqual(decideLogin(s.signals, policy: p), .passkey(credentialIDs: ["B1"]), "before cancel \(i + 1)")
            s.history.recordCancel(at: s.now)
            s.now += 60
        }
        XCTAssertEqual(s.history.host.consecutiveCancels, 3)
        XCTAssertEqual(decideLogin(s.signals, policy: p), .stepAside(.cancelSnooze(cancels: 3, until: s.now - 60 + day)))
        s.now += day
        XCTAssertEqual(decideLogin(s.signals, policy: p), .passkey(credentialIDs: ["B1"]))
        // One more cancel after the snooze snoozes again straight away.
        s.history.recordCancel(at: s.now)
        XCTAssertEqual(decideLogin(s.signals, policy: p), .stepAside(.cancelSnooze(cancels: 4, until: s.now + day)))
        s.history.recordPasskeyLogin(at: s.now + 10)
        XCTAssertEqual(s.history.host, HostHistory(consecutiveCancels: 0, lastCancel: nil, lastPasskeyLogin: s.now + 10))
        XCTAssertEqual(decideLogin(s.signals, policy: p), .passkey(credentialIDs: ["B1"]))
    }

    func testDeclineSnoozesAcrossHostsSharingTheLog() {
        var s = Scenario()
        s.history.recordOffer(answer: .declined, service: "login", hostName: "host-a", at: now - day)
        XCTAssertEqual(s.history.offers.lastDeclined, now - day)
        XCTAssertNil(s.history.host.neverSince)
        XCTAssertEqual(decideAppend(s.signals, policy: Policy()), .noOffer(.snoozed(declinedAt: now - day, until: now + 13 * day)))
        s.now += 13 * day
        XCTAssertEqual(decideAppend(s.signals, policy: Policy()), .offer(.create))
    }

    func testNeverIsPerHost() {
        var s = Scenario()
        s.history.recordOffer(answer: .never, service: "login", hostName: "host-b", at: now - 1)
        XCTAssertEqual(s.history.host.neverSince, now - 1)
        XCTAssertEqual(decideAppend(s.signals, policy: Policy()), .noOffer(.declinedNever(since: now - 1)))
        // Another host has its own HostHistory; the shared offer log alone does not stop it.
        var other = Scenario()
        other.history.offers = s.history.offers
        XCTAssertEqual(decideAppend(other.signals, policy: Policy()), .offer(.create))
    }

    func testUnansweredRunStopsOffersAndAnAnswerResetsIt() {
        var log = History()
        for i in 0..<2 { log.recordOffer(answer: .unanswered, service: "gdm-password", hostName: "host-b", at: now - Int64(100 - i) * day) }
        XCTAssertEqual(log.offers.unansweredInARow, 2)
        log.recordOffer(answer: .accepted, service: "login", hostName: "host-b", at: now - 90 * day)
        XCTAssertEqual(log.offers.unansweredInARow, 0)
        for i in 0..<3 { log.recordOffer(answer: .unanswered, service: "gdm-password", hostName: "host-b", at: now - Int64(80 - 20 * i) * day) }
        let s = Scenario(history: log)
        XCTAssertEqual(decideAppend(s.signals, policy: Policy()), .noOffer(.unansweredOffers(count: 3, max: 3)))
    }

    func testOfferLogKeepsOnlyTheWindowAndCountsIt() {
        var h = History()
        h.recordOffer(answer: .accepted, service: "login", hostName: "host-a", at: now - 40 * day)
        h.recordOffer(answer: .declined, service: "login", hostName: "host-c", at: now - 29 * day)
        h.recordOffer(answer: .accepted, service: "login", hostName: "host-b", at: now)
        XCTAssertEqual(h.offers.recent.map(\.hostName), ["host-c", "host-b"])
        XCTAssertEqual(h.offers.count(before: now), 2)
        XCTAssertEqual(h.offers.count(before: now + day), 1)
        XCTAssertEqual(h.offers.lastDeclined, now - 29 * day, "kept beyond the window for long snoozes")
    }

    /// Offers stamped in the future (this host's clock moved backwards since, or another
    /// host's clock runs ahead) still count against append_max_offers.
    func testOffersFromTheFutureCount() {
        var h = History()
        for i in 0..<3 { h.recordOffer(answer: .accepted, service: "login", hostName: "host-a", at: now + 30 * day + Int64(i)) }
        XCTAssertEqual(h.offers.count(before: now), 3)
        XCTAssertEqual(decideAppend(Scenario(history: h).signals, policy: Policy()), .noOffer(.offerLimit(offers: 3, max: 3)))
    }

    /// Never more than append_max_offers in any 30 days: an offer is considered every day for
    /// a year and made whenever the decision says so, answered "y" (and the PIN setup then
    /// failing) or "n" with no snooze. Unanswered offers have their own test above.
    func testNoWindowHoldsMoreThanTheMaximum() {
        for max in [1, 2, 3, 5] {
            let p = policy(["append_max_offers": String(max), "append_snooze_days": "0"])
            var s = Scenario()
            var times: [Int64] = []
            let answers: [OfferAnswer] = [.accepted, .declined]
            for d in 0..<365 {
                s.now = now + Int64(d) * day
                if case .offer = decideAppend(s.signals, policy: p) {
                    times.append(s.now)
                    s.history.recordOffer(answer: answers[times.count % answers.count], service: "login", hostName: "host-b", at: s.now)
                }
            }
            XCTAssertGreaterThan(times.count, 12 * max / 2, "offers keep coming (max \(max))")
            for (i, t) in times.enumerated() {
                XCTAssertLessThanOrEqual(times[i...].prefix { $0 - t < OfferLog.window }.count, max, "max \(max)")
            }
        }
    }

    func testHistoryRoundTripsThroughJSON() throws {
        var h = History()
        h.recordCancel(at: now)
        h.recordOffer(answer: .never, service: "sshd", hostName: "host-b", at: now + 5)
        let data = try JSONEncoder().encode(h)
        XCTAssertEqual(try JSONDecoder().decode(History.self, from: data), h)
    }
}
