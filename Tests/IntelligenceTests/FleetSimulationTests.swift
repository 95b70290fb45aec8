@testable import FleetSimulation
import Identifiers
import HostState
import Intelligence
import Registry
import Policy
import XCTest

final class FleetSimulationTests: XCTestCase {
    let small = FleetConfiguration(users: 150, hosts: 12, days: 60, seed: 42)

    func testNoDeadEndsNoRemoteOffersAndTheOfferLimitHolds() {
        let r = simulateFleet(small)
        XCTAssertGreaterThan(r.passkeyPrompts, 1000, "the fleet adopts passkeys:\n\(r.render())")
        XCTAssertGreaterThan(r.passkeyLogins, 0)
        XCTAssertGreaterThan(r.offers, 0)
        XCTAssertGreaterThan(r.stepAside["remote_session"] ?? 0, 0, "remote sessions were simulated")
        XCTAssertEqual(r.deadEnds, 0)
        XCTAssertEqual(r.unusableCredentialsPrompted, 0)
        XCTAssertEqual(r.remoteOffers, 0)
        XCTAssertEqual(r.offersInSkippedServices, 0)
        XCTAssertLessThanOrEqual(r.maxOffersInWindow, 3)
    }

    /// Users with security keys: a key plugged in is a passkey login anywhere, one that is not
    /// is never prompted for (no dead end), and the fleet without keys runs exactly as before.
    func testSecurityKeysSignInAnywhereAndNeverPromptWhenNotPluggedIn() {
        var withKeys = small
        withKeys.securityKeyShare = 0.3
        let r = simulateFleet(withKeys)
        XCTAssertGreaterThan(r.securityKeyUsers, 20, r.render())
        XCTAssertGreaterThan(r.securityKeyLogins, 100, r.render())
        XCTAssertEqual(r.deadEnds, 0)
        XCTAssertEqual(r.unusableCredentialsPrompted, 0)
        XCTAssertTrue(r.render().contains("security keys"), r.render())
        let without = simulateFleet(small)
        XCTAssertEqual(without.securityKeyUsers, 0)
        XCTAssertFalse(without.render().contains("security keys"))
    }

    func testSameSeedSameFleet() {
        XCTAssertEqual(simulateFleet(small), simulateFleet(small))
        var other = small
        other.seed = 43
        XCTAssertNotEqual(simulateFleet(other), simulateFleet(small))
    }

    /// The counters can see a failure: a naive decision that prompts whenever the user has
    /// any credential produces dead ends, and allowing remote sessions produces remote offers.
    func testTheChecksCatchBadDecisions() {
        let naive = simulateFleet(small) { signals, policy in
            let active = signals.credentials.filter { !$0.revoked }.map(\.id)
            return active.isEmpty ? decideLogin(signals, policy: policy) : .passkey(credentialIDs: active)
        }
        XCTAssertGreaterThan(naive.deadEnds, 0)

        var allowRemote = small
        allowRemote.policy.set("remote_sessions", text: "allow")
        XCTAssertGreaterThan(simulateFleet(allowRemote).remoteOffers, 0)
    }

    func testPolicyShapesTheFleet() {
        var strict = small
        strict.policy.set("append_max_offers", text: "1")
        let r = simulateFleet(strict)
        XCTAssertEqual(r.maxOffersInWindow, 1)
        XCTAssertEqual(r.deadEnds, 0)

        var noAppend = small
        noAppend.policy.set("append", text: "no")
        let none = simulateFleet(noAppend)
        XCTAssertEqual(none.offers, 0)
        XCTAssertEqual(none.passkeyLogins, 0, "no passkeys without offers")
    }

    func testReportRendersTheFigures() {
        let text = simulateFleet(FleetConfiguration(users: 20, hosts: 4, days: 10, seed: 1)).render()
        for label in ["dead ends", "after day 30", "offers per user per 30 days", "offers on remote sessions", "step-aside reasons"] {
            XCTAssertTrue(text.contains(label), "missing \(label):\n\(text)")
        }
    }

    func testSeededRandomIsReproducibleAndUniform() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7)
        XCTAssertEqual((0..<100).map { _ in a.next() }, (0..<100).map { _ in b.next() })
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[a.below(10)] += 1 }
        XCTAssertLessThan(counts.max()! - counts.min()!, 1000)
    }
}
