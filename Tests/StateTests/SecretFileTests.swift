import Foundation
import XCTest
@testable import Storage
import Identifiers
import IdentifierLiterals

/// Secret files (host secret, keyrings, TPM key blobs): refused when group or others have any
/// access, not only write access; the one check, in Storage, and every way it is reached.
final class SecretFileTests: TempDirTestCase {
    func testASecretFileReadableOrWritableByAnyoneButItsOwnerIsRefusedWithTheFix() throws {
        let dir = try SecureDirectory.open(root)
        let file = path("s")
        for mode: mode_t in [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601, 0o400 | 0o004] {
            writeRaw(file, "secret", mode: mode)
            assertRefused(.secretNotPrivate(path: file, mode: UInt32(mode)), fix: "chmod go-rwx \(file)") {
                try dir.read("s", maxBytes: 64, secret: true)
            }
            assertRefused(.secretNotPrivate(path: file, mode: UInt32(mode))) { try dir.checkSecret("s") }
        }
        // What the description says for each kind of access.
        let readable = StorageError.secretNotPrivate(path: file, mode: 0o644).description
        XCTAssertEqual(readable, "\(file) holds authenticator secrets and is readable by group or others (mode 0644), so it is "
                       + "not used (a copy of it helps an offline search for the PIN); fix: chmod go-rwx \(file)")
        XCTAssertTrue(StorageError.secretNotPrivate(path: file, mode: 0o666).description.contains("is readable and writable by group"))
        XCTAssertTrue(StorageError.secretNotPrivate(path: file, mode: 0o620).description.contains("is writable by group"))
        XCTAssertTrue(StorageError.secretNotPrivate(path: file, mode: 0o710).description.contains("is accessible by group"))

        // Owner only: used. The same 0644 file is fine where it is not a secret (the registry).
        for mode: mode_t in [0o600, 0o400, 0o700] {
            writeRaw(file, "secret", mode: mode)
            XCTAssertEqual(try dir.read("s", maxBytes: 64, secret: true), Array("secret".utf8))
            XCTAssertTrue(try dir.checkSecret("s"))
        }
        writeRaw(file, "public", mode: 0o644)
        XCTAssertEqual(try dir.read("s", maxBytes: 64), Array("public".utf8))
        XCTAssertFalse(try dir.checkSecret("missing"))
    }

    func testTheOtherFileChecksComeFirstAndStillApply() throws {
        let dir = try SecureDirectory.open(root)
        writeRaw(path("f"), "x", mode: 0o644)
        XCTAssertEqual(chown(path("f"), otherUID, otherUID), 0)
        assertRefused(.wrongOwner(path: path("f"), uid: otherUID, allowed: [0])) { try dir.read("f", maxBytes: 8, secret: true) }
        writeRaw(path("real"), "x", mode: 0o600)
        symlink(path("real"), path("link"))
        assertRefused(.symbolicLink(path: path("link"))) { try dir.read("link", maxBytes: 8, secret: true) }
        assertRefused(.symbolicLink(path: path("link"))) { try dir.checkSecret("link") }
        mkdirRaw(path("d"), mode: 0o700)
        assertRefused(.wrongKind(path: path("d"), found: .directory, expected: .regularFile)) { try dir.checkSecret("d") }
    }

    func testASecretDocumentStoreRefusesToReadOrUpdateAReadableFileAndLeavesItAlone() throws {
        let store = DocumentStore<Doc>(directory: path("keyrings"), fileMode: 0o600, maxBytes: 4096, lockTimeout: .seconds(1),
                                       missingDirectory: .isEmpty(createMode: 0o700), secret: true)
        let alice = try UserName(validating: "alice")
        try store.update(alice) { $0.value = 1 }
        XCTAssertEqual(mode(of: store.path(for: alice)), 0o600)
        XCTAssertEqual(try store.read(alice).value, 1)

        XCTAssertEqual(chmod(store.path(for: alice), 0o644), 0)
        let before = readRaw(store.path(for: alice))
        assertRefused(.secretNotPrivate(path: store.path(for: alice), mode: 0o644), fix: "chmod go-rwx") { try store.read(alice) }
        XCTAssertThrowsError(try store.update(alice) { $0.value = 2 }) {
            XCTAssertEqual($0 as? StorageError, .secretNotPrivate(path: store.path(for: alice), mode: 0o644))
        }
        XCTAssertEqual(readRaw(store.path(for: alice)), before)
        XCTAssertEqual(mode(of: store.path(for: alice)), 0o644)

        // The same file in a store that is not secret (the registry, history): used.
        let plain = DocumentStore<Doc>(directory: path("keyrings"), fileMode: 0o600, maxBytes: 4096, lockTimeout: .seconds(1),
                                       missingDirectory: .isEmpty(createMode: 0o700))
        XCTAssertEqual(try plain.read(alice).value, 1)
    }

    func testTheAuditNamesEverySecretFileThatIsNotPrivateAndNothingElse() throws {
        let state = mkdirRaw(path("state"), mode: 0o700)
        XCTAssertEqual(SecretFiles.audit(stateDirectory: state), [], "no authenticator directory yet")
        let top = mkdirRaw(SecretFiles.directory(in: state), mode: 0o700)
        XCTAssertEqual(top, state + "/authenticator")
        XCTAssertEqual(SecretFiles.directory(in: state + "/"), top)
        mkdirRaw(top + "/software", mode: 0o700)
        mkdirRaw(top + "/tpm", mode: 0o700)
        writeRaw(top + "/host.secret", "s", mode: 0o644)
        writeRaw(top + "/.host.secret.lock", "", mode: 0o600)
        writeRaw(top + "/software/alice.json", "{}", mode: 0o600)
        writeRaw(top + "/software/bob.json", "{}", mode: 0o640)
        writeRaw(top + "/software/.bob.json.lock", "", mode: 0o600)
        writeRaw(top + "/tpm/.carol.json.tmp", "{}", mode: 0o604)
        writeRaw(top + "/tpm/dave.json", "{}", mode: 0o600)
        symlink(top + "/tpm/dave.json", top + "/tpm/erin.json")
        XCTAssertEqual(SecretFiles.audit(stateDirectory: state), [
            .secretNotPrivate(path: top + "/host.secret", mode: 0o644),
            .secretNotPrivate(path: top + "/software/bob.json", mode: 0o640),
            .secretNotPrivate(path: top + "/tpm/.carol.json.tmp", mode: 0o604),
            .symbolicLink(path: top + "/tpm/erin.json"),
        ])
        // A backend directory that others could write is itself the finding.
        chmod(top + "/tpm", 0o777)
        XCTAssertTrue(SecretFiles.audit(stateDirectory: state).contains(.writableByOthers(path: top + "/tpm", mode: 0o777, kind: .directory)))
    }
}

private struct Doc: VersionedDocument {
    static var currentSchemaVersion: Int { 1 }
    var schemaVersion: Int
    var user: String
    var value: Int

    static func empty(for user: UserName) -> Doc { Doc(schemaVersion: 1, user: user.rawValue, value: 0) }
}
