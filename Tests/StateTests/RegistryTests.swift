import WebAuthn
import Foundation
import XCTest
@testable import Registry
@testable import Storage
import Identifiers
import IdentifierLiterals

func sampleCredential(_ id: String, host: String = "host-a", time: EpochSeconds = 1_700_000_000) -> CredentialRecord {
    CredentialRecord(id: CredentialID(Array(id.utf8)), publicKey: "pQECAyYgASFYIA", kind: .platform,
                     hostID: "3299671781ac4348cb7a1411b5750995", hostName: host,
                     aaguid: "00000000-0000-0000-0000-000000000000", backupEligible: false, backedUp: false,
                     transports: ["internal"], signCount: 3, created: HostEvent(time: time, host: host),
                     label: "\(id) on \(host)", attestationObject: "o2NmbXRkbm9uZQ", clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0")
}

final class RegistryTests: TempDirTestCase {
    var registry: FileRegistry!
    let alice = try! UserName(validating: "alice")

    override func setUpWithError() throws {
        try super.setUpWithError()
        try SecureDirectory.create(path("registry"), mode: 0o755)
        registry = FileRegistry(directory: path("registry"))
    }

    func testAUserWithoutAFileHasAnEmptyRecordAndNothingIsCreated() throws {
        let record = try registry.record(for: alice)
        XCTAssertEqual(record, UserRecord(user: alice))
        XCTAssertTrue(record.credentials.isEmpty)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("registry")), [])
        // An update that leaves the record empty writes no file either.
        try registry.update(user: alice) { _ in }
        XCTAssertFalse(exists(registry.path(for: alice)))
    }

    func testCredentialsAreKeptByCreationTimeThenIDWhateverOrderTheyCameIn() {
        // A directory returns a user's credentials in an order of its own; a clock set back
        // makes a later registration older. Either way the record has one order.
        var record = UserRecord(user: alice)
        for (id, time) in [("m", 20), ("z", 10), ("b", 20), ("a", 30), ("c", 20)] {
            XCTAssertTrue(record.add(sampleCredential(id, time: EpochSeconds(time))))
        }
        XCTAssertFalse(record.add(sampleCredential("b", time: 5)), "an id already there is not added again")
        XCTAssertEqual(record.credentials.map { $0.created.time }, [10, 20, 20, 20, 30])
        // Of one second, by the id's text: "b" is Yg, "c" Yw, "m" bQ.
        XCTAssertEqual(record.credentials.map(\.id.text), ["z", "b", "c", "m", "a"].map { CredentialID(Array($0.utf8)).text })
        XCTAssertEqual(record.credentials, record.credentials.sorted(by: UserRecord.registryOrder))
    }

    func testUpdateRoundTripsEveryField() throws {
        var full = sampleCredential("c1")
        full.kind = .roaming
        full.backupEligible = true
        full.backedUp = true
        full.transports = ["usb", "nfc"]
        full.signCount = UInt32.max
        full.lastUsed = HostEvent(time: 1_700_000_100, host: "host-b")
        full.revoked = true
        full.revokedAt = 1_700_000_200
        full.revokedBy = "admin"
        try registry.update(user: alice) { record in
            record.add(sampleCredential("c0"))
            record.add(full)
        }
        let read = try registry.record(for: alice)
        XCTAssertEqual(read.credentials, [sampleCredential("c0"), full])
        XCTAssertEqual(read.activeCredentials.map(\.id), [sampleCredential("c0").id])
        XCTAssertEqual(read.schemaVersion, 1)
        XCTAssertEqual(mode(of: registry.path(for: alice)), 0o644)
        XCTAssertEqual(try registry.users(), [alice])
    }

    func testFileIsPlainJSONWithIntegerTimes() throws {
        try registry.update(user: alice) { $0.add(sampleCredential("c0", time: 1_700_000_000)) }
        let json = try JSONSerialization.jsonObject(with: Data(readRaw(registry.path(for: alice))!)) as! [String: Any]
        XCTAssertEqual(json["schemaVersion"] as? Int, 1)
        XCTAssertEqual(json["user"] as? String, "alice")
        let credential = (json["credentials"] as! [[String: Any]])[0]
        XCTAssertEqual((credential["created"] as! [String: Any])["time"] as? Int, 1_700_000_000)
        XCTAssertEqual(credential["algorithm"] as? Int, -7)
        XCTAssertEqual(credential["kind"] as? String, "platform")
        XCTAssertEqual(credential["signCount"] as? Int, 3)
    }

    func testAddRefusesADuplicateIDAndRevokeKeepsTheCredential() throws {
        let added = try registry.update(user: alice) { record in
            [record.add(sampleCredential("c0")), record.add(sampleCredential("c0", host: "host-b"))]
        }
        XCTAssertEqual(added, [true, false])
        let id = sampleCredential("c0").id
        XCTAssertTrue(try registry.update(user: alice) { $0.revoke(id: id, at: 5, by: "admin") })
        XCTAssertFalse(try registry.update(user: alice) { $0.revoke(id: id, at: 6, by: "admin") })
        let c = try XCTUnwrap(try registry.record(for: alice).credential(id: id))
        XCTAssertEqual([c.revoked ? 1 : 0, Int(c.revokedAt ?? 0)], [1, 5])
        XCTAssertEqual(try registry.record(for: alice).activeCredentials, [])
    }

    func testABodyThatThrowsWritesNothing() throws {
        try registry.update(user: alice) { $0.add(sampleCredential("c0")) }
        let before = readRaw(registry.path(for: alice))
        struct Abort: Error {}
        XCTAssertThrowsError(try registry.update(user: alice) { record in
            record.credentials.removeAll()
            throw Abort()
        }) { XCTAssertTrue($0 is Abort) }
        XCTAssertEqual(readRaw(registry.path(for: alice)), before)
    }

    /// Records written by earlier versions (Foundation's JSONEncoder: " : " separators,
    /// escaped slashes) read the same, and an update rewrites them in the current layout.
    func testRecordsWrittenByFoundationsEncoderReadTheSame() throws {
        var record = UserRecord(user: alice, credentials: [sampleCredential("c1"), sampleCredential("c/2", host: "host-b")])
        record.credentials[1].label = "slash/and \"quote\" and é"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        writeRaw(registry.path(for: alice), Array(try encoder.encode(record)))
        XCTAssertEqual(try registry.record(for: alice), record)
        try registry.update(user: alice) { $0.credentials[0].signCount += 1 }
        record.credentials[0].signCount += 1
        let rewritten = readRaw(registry.path(for: alice)) ?? []
        XCTAssertEqual(try JSONDecoder().decode(UserRecord.self, from: Data(rewritten)), record)
        XCTAssertEqual(try registry.record(for: alice), record)
    }

    func testMalformedJSONIsAnErrorNamingTheFileAndIsNeverRewritten() throws {
        let file = registry.path(for: alice)
        for (content, reason) in [("{\"schemaVersion\": 1, \"user\": \"alice\", \"credentials\": [", "the document"),
                                  ("not json at all", "the document"),
                                  ("{\"user\": \"alice\", \"credentials\": []}", "field \"schemaVersion\" is missing"),
                                  ("{\"schemaVersion\": 1, \"user\": \"alice\", \"credentials\": [{\"id\": \"eA\"}]}",
                                   "is missing in credentials[0]"),
                                  // An id is canonical base64url or the record is not read: it could never match.
                                  ("{\"schemaVersion\": 1, \"user\": \"alice\", \"credentials\": [{\"id\": \"x y\"}]}",
                                   "credentials[0].id: invalid credential id \"x y\": it is not unpadded base64url"),
                                  ("{\"schemaVersion\": 1, \"user\": \"alice\", \"credentials\": \"none\"}", "credentials: expected an array, found a string"),
                                  ("", "the document")] {
            writeRaw(file, content)
            XCTAssertThrowsError(try registry.record(for: alice)) { error in
                guard case .malformed(let p, let why)? = error as? StorageError else { return XCTFail("\(error)") }
                XCTAssertEqual(p, file)
                XCTAssertTrue(why.contains(reason), "\(why) does not say \(reason)")
                XCTAssertTrue("\(error)".contains("restore it from a backup"))
            }
            XCTAssertThrowsError(try registry.update(user: alice) { $0.add(sampleCredential("c1")) })
            XCTAssertEqual(readRaw(file), Array(content.utf8), "a file that cannot be read is left as it is")
        }
    }

    func testUnknownSchemaVersionIsRefusedAndNeverRewritten() throws {
        let file = registry.path(for: alice)
        // A newer pam_passkey may have changed anything: even fields this one knows are not trusted.
        let newer = "{\"schemaVersion\": 2, \"user\": \"alice\", \"credentials\": [], \"shape\": \"new\"}"
        writeRaw(file, newer)
        assertRefused(.unsupportedSchema(path: file, found: 2, newestKnown: 1), fix: "upgrade pam_passkey") {
            try registry.record(for: alice)
        }
        assertRefused(.unsupportedSchema(path: file, found: 2, newestKnown: 1)) {
            try registry.update(user: alice) { $0.add(sampleCredential("c1")) }
        }
        XCTAssertEqual(readRaw(file), Array(newer.utf8))
        for version in [0, -1] {
            writeRaw(file, "{\"schemaVersion\": \(version), \"user\": \"alice\", \"credentials\": []}")
            assertRefused(.unsupportedSchema(path: file, found: version, newestKnown: 1)) { try registry.record(for: alice) }
        }
    }

    func testARecordInAnotherUsersFileIsRefused() throws {
        let bob = try UserName(validating: "bob")
        try registry.update(user: bob) { $0.add(sampleCredential("bobs")) }
        // bob's keys copied to alice's file must not let bob's authenticator sign in as alice.
        writeRaw(registry.path(for: alice), readRaw(registry.path(for: bob))!)
        assertRefused(.userMismatch(path: registry.path(for: alice), expected: "alice", found: "bob")) {
            try registry.record(for: alice)
        }
        // Nor may an update move a record to another user.
        assertRefused(.userMismatch(path: registry.path(for: bob), expected: "bob", found: "mallory")) {
            try registry.update(user: bob) { $0.user = "mallory" }
        }
    }

    func testUnsafeRegistryFilesAndDirectoriesAreRefused() throws {
        let file = registry.path(for: alice)
        try registry.update(user: alice) { $0.add(sampleCredential("c0")) }
        chmod(file, 0o666)
        assertRefused(.writableByOthers(path: file, mode: 0o666, kind: .regularFile)) { try registry.record(for: alice) }
        chmod(file, 0o644)
        chown(file, otherUID, 0)
        assertRefused(.wrongOwner(path: file, uid: otherUID, allowed: [0])) { try registry.record(for: alice) }
        chown(file, 0, 0)
        chmod(path("registry"), 0o777)
        assertRefused(.writableByOthers(path: path("registry"), mode: 0o777, kind: .directory)) { try registry.record(for: alice) }
        assertRefused(.writableByOthers(path: path("registry"), mode: 0o777, kind: .directory)) {
            try registry.update(user: alice) { _ in }
        }
        chmod(path("registry"), 0o755)
        XCTAssertEqual(try registry.record(for: alice).credentials.count, 1)
        // alice's record replaced by a link to a file the attacker controls.
        writeRaw(path("evil.json"), "{\"schemaVersion\": 1, \"user\": \"alice\", \"credentials\": []}")
        unlink(file)
        symlink(path("evil.json"), file)
        assertRefused(.symbolicLink(path: file)) { try registry.record(for: alice) }
    }

    func testAMissingRegistryDirectoryIsAnError() throws {
        let absent = FileRegistry(directory: path("absent"))
        assertRefused(.notFound(path: path("absent"))) { try absent.record(for: alice) }
        assertRefused(.notFound(path: path("absent"))) { try absent.update(user: alice) { _ in } }
        XCTAssertFalse(exists(path("absent")))
    }

    func testUsersListsValidRecordFilesOnly() throws {
        for name in ["bob", "alice", "émile"] {
            try registry.update(user: UserName(validating: name)) { $0.add(sampleCredential(name)) }
        }
        writeRaw(path("registry/notes.txt"), "")
        writeRaw(path("registry/.hidden.json"), "")
        XCTAssertEqual(try registry.users().map(\.rawValue), ["alice", "bob", "émile"])
    }

    func testBase64URLRoundTripsAndRejectsNonCanonicalText() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64URL.decode(Base64URL.encode(bytes)), bytes)
        }
        XCTAssertEqual(Base64URL.encode(Array("hello?>".utf8)), "aGVsbG8_Pg")
        XCTAssertEqual(Base64URL.encode([0xfb, 0xff]), "-_8")
        for bad in ["aGVsbG8/Pg", "aGVsbG8_Pg==", "a", "aGVsbG8 Pg", "aGVsbG8_Ph"] {
            XCTAssertNil(Base64URL.decode(bad), bad)
        }
    }
}
