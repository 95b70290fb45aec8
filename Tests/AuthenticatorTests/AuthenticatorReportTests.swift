import Identifiers
import IdentifierLiterals
import CBOREncoding
import HelperProtocol
import WebAuthn
import XCTest

/// The probe's answer crosses the wire as one typed report per authenticator: the state is a
/// word from a closed set, checked against the problem text, never inferred from it.
final class AuthenticatorReportTests: XCTestCase {
    private let held = HeldCredential(id: CredentialID(Array(repeating: 7, count: 32)), rpID: "host.example", created: 1_700_000_000,
                                      locked: true, attemptsLeft: 0)

    private func roundTrip(_ reply: HelperReply) throws -> HelperReply {
        guard case .reply(let decoded) = try HelperMessage(decoding: HelperMessage.reply(reply).encoded()) else {
            throw WireError("not a reply")
        }
        return decoded
    }

    func testEveryConditionAndSeveralAuthenticatorsSurviveTheWire() throws {
        let reports = [
            AuthenticatorReport(health: AuthenticatorHealth(kind: .tpm, aaguid: [1, 2], condition: .unavailable("no TPM answers"),
                                                            detail: "authenticator = tpm")),
            AuthenticatorReport(health: AuthenticatorHealth(kind: .software, aaguid: [3], condition: .healthy), held: [held]),
            AuthenticatorReport(health: AuthenticatorHealth(kind: .securityKey, aaguid: [], condition: .broken("PIN blocked"))),
        ]
        XCTAssertEqual(try roundTrip(.probe(reports)), .probe(reports))
        XCTAssertEqual(try roundTrip(.status(reports)), .status(reports))
        XCTAssertEqual(reports.hostAuthenticator, reports[0], "the first host-bound report is this host's authenticator")
    }

    func testAProbeCarriesCredentialsOfOtherRelyingPartiesAcrossTheWire() throws {
        let ids = [CredentialID([1, 2, 3]), CredentialID([4, 5])]
        let probe = HelperRequest.probe(user: try UserName(validating: "alice"), rpID: "pam_passkey", securityKeyCredentials: [ids[0]],
                                        otherRelyingParties: [SecurityKeyLookup(rpID: "example.com", credentials: [ids[1]])])
        XCTAssertEqual(try HelperRequest(decoding: probe.encoded()), probe)
        let plain = HelperRequest.probe(user: try UserName(validating: "alice"), rpID: "pam_passkey")
        XCTAssertEqual(try HelperRequest(decoding: plain.encoded()), plain)
    }

    func testAStateThatDisagreesWithItsProblemIsRefused() throws {
        func reply(state: String, problem: String?) -> [UInt8] {
            var report: [CBOR: CBOR] = [.text("kind"): .text("tpm"), .text("aaguid"): .bytes([]), .text("state"): .text(state),
                                        .text("creds"): .array([])]
            if let problem { report[.text("problem")] = .text(problem) }
            return CBOR.map([.text("reply"): .text("probe"), .text("reports"): .array([.map(report)])]).encoded()
        }
        XCTAssertNoThrow(try HelperMessage(decoding: reply(state: "unavailable", problem: "no TPM")))
        // A healthy authenticator with a problem, a failing one without, an unknown word: each
        // is a malformed reply, never a guess.
        for (state, problem) in [("healthy", "no TPM"), ("broken", nil), ("unavailable", nil), ("not available", "no TPM")] {
            XCTAssertThrowsError(try HelperMessage(decoding: reply(state: state, problem: problem)), "\(state) \(problem ?? "-")")
        }
    }

    func testConditionCodesAreTheDecisionsWords() {
        XCTAssertEqual(AuthenticatorCondition.healthy.code, "healthy")
        XCTAssertEqual(AuthenticatorCondition.unavailable("x").code, "unavailable")
        XCTAssertEqual(AuthenticatorCondition.broken("x").code, "broken")
        XCTAssertEqual(AuthenticatorCondition(code: "broken", problem: "x"), .broken("x"))
        XCTAssertNil(AuthenticatorCondition(code: "healthy", problem: "x"))
    }
}
