import Identifiers
import IdentifierLiterals
import Crypto
import Foundation
import HelperProtocol
import WebAuthn
import XCTest

/// The real helper executable, built beside this test bundle, serving a policy and state in a
/// fresh directory.
class HelperTestCase: XCTestCase {
    var root = ""
    var policyPath: String { root + "/pam_passkey.conf" }
    var stateDir: String { root + "/state" }
    let rpID = "pam_passkey.test"

    static var productsDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    static var helperPath: String { productsDirectory + "/pam_passkey_helper" }

    /// Extra policy lines for a test.
    var policyLines: [String] { ["pin_kdf_cost = 10", "pin_max_attempts = 3"] }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.helperPath) else {
            throw FixtureError("\(Self.helperPath) is missing: build with `swift build --build-tests` (make build)")
        }
        var template = Array("/tmp/passkey-helper-test.XXXXXX".utf8CString)
        root = String(cString: mkdtemp(&template)!)
        chmod(root, 0o755)
        mkdir(stateDir, 0o700)
        let text = (["rp_id = \(rpID)", "state_dir = \(stateDir)", "registry_dir = \(root)"] + policyLines).joined(separator: "\n") + "\n"
        try text.write(toFile: policyPath, atomically: false, encoding: .utf8)
        chmod(policyPath, 0o644)
    }

    override func tearDownWithError() throws {
        if !root.isEmpty { try? FileManager.default.removeItem(atPath: root) }
    }

    func client(timeout: Int = 20) -> HelperClient {
        HelperClient(program: Self.helperPath, arguments: ["--conf", policyPath], timeoutSeconds: timeout)
    }

    /// Answers PIN questions from a list (nil = cancel) and records the questions.
    final class Answers {
        var queue: [String?]
        var questions: [PINQuestion] = []
        init(_ queue: [String?]) { self.queue = queue }
        func answer(_ q: PINQuestion) -> SecretBytes? {
            questions.append(q)
            guard !queue.isEmpty, let next = queue.removeFirst() else { return nil }
            return SecretBytes(Array(next.utf8))
        }
    }

    struct Enrolled {
        let credentialID: CredentialID
        let key: COSEKey
        let signCount: UInt32
        let registration: VerifiedRegistration
    }

    /// Creates a credential for `user` with `pin`; verifies the attestation like a relying party.
    func enroll(_ user: UserName, pin: String = "482913", file: StaticString = #filePath, line: UInt = #line) throws -> Enrolled {
        let challenge = SecureRandom.bytes(32)
        let clientData = CollectedClientData.make(type: CollectedClientData.createType, challenge: challenge, origin: "pam://\(rpID)")
        let answers = Answers([pin, pin])
        let reply = try client().perform(.makeCredential(MakeCredentialRequest(
            user: user, rpID: rpID, clientDataHash: SHA256.hash(clientData), userHandle: [1, 2, 3])), answer: answers.answer)
        guard case .created(let created) = reply else {
            throw FixtureError("makeCredential: \(reply)")
        }
        let verified = try RegistrationVerifier.verify(
            attestationObject: created.attestationObject, clientDataJSON: clientData,
            expecting: RegistrationExpectations(challenge: challenge, origin: "pam://\(rpID)", rpID: rpID, requireUserVerification: true))
        XCTAssertEqual(verified.credentialID, created.credentialID, file: file, line: line)
        return Enrolled(credentialID: created.credentialID, key: verified.credentialPublicKey, signCount: verified.signCount,
                        registration: verified)
    }

    /// One getAssertion through the helper; verifies a returned assertion.
    func signIn(_ user: UserName, _ enrolled: Enrolled, answers: Answers, storedSignCount: UInt32 = 0,
                client: HelperClient? = nil) throws -> (HelperReply, VerifiedAssertion?) {
        let challenge = SecureRandom.bytes(32)
        let clientData = CollectedClientData.make(type: CollectedClientData.getType, challenge: challenge, origin: "pam://\(rpID)")
        lastClientData = clientData
        let reply = try (client ?? self.client()).perform(.getAssertion(GetAssertionRequest(
            user: user, rpID: rpID, clientDataHash: SHA256.hash(clientData), allowCredentials: [enrolled.credentialID])),
            answer: answers.answer)
        guard case .assertion(let a) = reply else { return (reply, nil) }
        let verified = try AssertionVerifier.verify(
            authenticatorData: a.authenticatorData, clientDataJSON: clientData, signature: a.signature,
            credentialPublicKey: enrolled.key, storedSignCount: storedSignCount,
            expecting: AssertionExpectations(challenge: challenge, origin: "pam://\(rpID)", rpID: rpID, requireUserVerification: true))
        return (reply, verified)
    }

    /// clientDataJSON of the last `signIn`, for verifiers outside this code.
    var lastClientData: [UInt8] = []

    func held(_ user: UserName, client: HelperClient? = nil) throws -> [HeldCredential] {
        let reply = try (client ?? self.client()).perform(.probe(user: user, rpID: rpID), answer: { _ in nil })
        guard case .probe(let reports) = reply, let host = reports.hostAuthenticator else {
            XCTFail("probe: \(reply)")
            return []
        }
        XCTAssertTrue(host.health.isHealthy, "\(host.health)")
        return host.held
    }

    var keyringDirectory: String { stateDir + "/authenticator/software" }

    func keyringBytes(_ user: UserName) -> Data? { FileManager.default.contents(atPath: keyringDirectory + "/\(user).json") }

    func failedAttempts(_ user: UserName) throws -> Int {
        guard let data = keyringBytes(user),
              let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let creds = json["credentials"] as? [[String: Any]], let first = creds.first,
              let n = first["failedAttempts"] as? Int else { return -1 }
        return n
    }
}

extension HelperReply {
    var failureCode: HelperFailure.Code? {
        if case .failure(let f) = self { return f.code }
        return nil
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension P256PublicKey {
    /// The key as PEM, for fido2-assert (WebAuthnTests' TestSupport has the same four lines).
    var pemRepresentation: String {
        let b64 = Data(spkiDER).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n"
    }
}
