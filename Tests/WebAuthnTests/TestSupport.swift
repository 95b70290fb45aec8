import Identifiers
import Foundation
import XCTest
import Crypto
import WebAuthn

/// A known-answer vector from Fixtures/*.json (see Fixtures/README.md for how they were made).
struct Vector: Decodable {
    struct Registration: Decodable {
        let challenge: String
        let clientDataJSON: String
        let attestationObject: String
        let flags: Int?
        let signCount: UInt32?
    }

    struct Assertion: Decodable {
        let challenge: String
        let clientDataJSON: String
        let authenticatorData: String
        let signature: String
        let flags: Int?
        let signCount: UInt32?
    }

    let name: String
    let rpId: String
    let origin: String
    /// "none", "self" or "x5c".
    let attestation: String
    let credentialId: String
    let credentialPublicKey: String
    let aaguid: String?
    let requireUserVerification: Bool?
    let attestationRootCertificate: String?
    let registration: Registration
    let assertion: Assertion

    var requiresUV: Bool { requireUserVerification ?? false }

    var registrationExpectations: RegistrationExpectations {
        RegistrationExpectations(challenge: hex(registration.challenge), origin: origin, rpID: rpId,
                                 requireUserVerification: requiresUV)
    }

    var assertionExpectations: AssertionExpectations {
        AssertionExpectations(challenge: hex(assertion.challenge), origin: origin, rpID: rpId,
                              requireUserVerification: requiresUV)
    }
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// Tests/WebAuthnTests/TestSupport.swift → the repository root.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private struct File: Decodable { let vectors: [Vector] }

    static func vectors(_ name: String) throws -> [Vector] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(File.self, from: data).vectors
    }

    static func specVectors() throws -> [Vector] { try vectors("w3c-spec-vectors.json") }
    static func fido2Vectors() throws -> [Vector] { try vectors("fido2-vectors.json") }
    static func allVectors() throws -> [Vector] {
        let all = try specVectors() + fido2Vectors()
        XCTAssertEqual(all.count, 8, "expected 3 specification vectors and 5 python-fido2 vectors")
        return all
    }
}

/// Runs a program the tests depend on. CI installs every tool (`make deps`), so a missing one
/// is a failure with the fix in its message, never a skip.
@discardableResult
func runTool(_ executable: String, _ arguments: [String], stdin: Data? = nil, file: StaticString = #filePath,
         line: UInt = #line) throws -> (status: Int32, output: String) {
    guard FileManager.default.isExecutableFile(atPath: executable) else {
        XCTFail("\(executable) is missing: run `make deps` (it installs fido2-tools and the .venv-test venv)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// An authenticator built from this module's public API only — what the helper will do.
struct SoftwareCredential {
    let key: P256PrivateKey
    let credentialID: [UInt8]
    let aaguid: [UInt8]

    init(credentialIDLength: Int = 32) throws {
        key = try P256PrivateKey()
        credentialID = SecureRandom.bytes(credentialIDLength)
        aaguid = SecureRandom.bytes(16)
    }

    var coseKey: COSEKey { COSEKey(publicKey: key.publicKey) }

    func attestationObject(rpID: String, clientDataJSON: [UInt8], flags: AuthenticatorFlags = [.userPresent, .userVerified],
                           signCount: UInt32 = 0, packed: Bool = true) throws -> AttestationObject {
        let credential = try AttestedCredentialData(aaguid: aaguid, credentialID: CredentialID(credentialID), credentialPublicKey: coseKey)
        let authData = try AuthenticatorData(rpID: rpID, flags: flags, signCount: signCount, attestedCredentialData: credential)
        if !packed { return .none(authData: authData) }
        return try .packedSelf(authData: authData, clientDataHash: SHA256.hash(clientDataJSON), key: key)
    }

    func assertion(rpID: String, clientDataJSON: [UInt8], flags: AuthenticatorFlags = [.userPresent, .userVerified],
                   signCount: UInt32) throws -> (authenticatorData: [UInt8], signature: [UInt8]) {
        let authData = try AuthenticatorData(rpID: rpID, flags: flags, signCount: signCount)
        let signature = try authData.assertionSignature(clientDataHash: SHA256.hash(clientDataJSON), key: key)
        return (authData.bytes, signature.derRepresentation)
    }
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrows<E: Error & Equatable, T>(_ expected: E, _ message: @autoclosure () -> String = "",
                                              file: StaticString = #filePath, line: UInt = #line,
                                              _ body: () throws(E) -> T) {
    do {
        _ = try body()
        XCTFail("expected \(expected), but nothing was thrown. \(message())", file: file, line: line)
    } catch {
        XCTAssertEqual(error, expected, message(), file: file, line: line)
    }
}

extension P256PublicKey {
    /// The key as PEM, for the tools the interoperability tests hand it to (fido2-assert).
    var pemRepresentation: String {
        let b64 = Data(spkiDER).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n"
    }
}
