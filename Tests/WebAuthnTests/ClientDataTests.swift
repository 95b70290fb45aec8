import Foundation
import XCTest
import WebAuthn

final class ClientDataTests: XCTestCase {
    func parse(_ json: String) throws(ClientDataError) -> CollectedClientData {
        try CollectedClientData(json: Array(json.utf8))
    }

    func testParsesTheSpecificationClientDataIgnoringUnknownMembers() throws {
        let vector = try Fixtures.specVectors()[0]
        let clientData = try CollectedClientData(json: hex(vector.registration.clientDataJSON))
        XCTAssertEqual(clientData.type, "webauthn.create")
        XCTAssertEqual(clientData.challenge, hex(vector.registration.challenge))
        XCTAssertEqual(clientData.origin, "https://example.org")
        XCTAssertEqual(clientData.crossOrigin, false)
        XCTAssertNil(clientData.topOrigin)  // and "extraData" was ignored
    }

    func testOptionalMembersAndEscapes() throws {
        let clientData = try parse(#"""
            { "type" : "webauthn.get", "challenge":"AQID", "origin":"https://\u00e9x.example\ud83d\ude00",
              "crossOrigin": true, "topOrigin": "https:\/\/top.example", "future": {"n": [1, -2.5e+3, null, false]} }
            """#)
        XCTAssertEqual(clientData.challenge, [1, 2, 3])
        XCTAssertEqual(clientData.origin, "https://éx.example😀")
        XCTAssertEqual(clientData.crossOrigin, true)
        XCTAssertEqual(clientData.topOrigin, "https://top.example")
        XCTAssertNil(try parse(#"{"type":"t","challenge":"","origin":"o"}"#).crossOrigin)
    }

    func testMakeProducesTheSpecifiedCompactForm() throws {
        let json = CollectedClientData.make(type: "webauthn.get", challenge: [0xFB, 0xFF, 0x00], origin: "https://a.example")
        XCTAssertEqual(String(decoding: json, as: UTF8.self),
                       #"{"type":"webauthn.get","challenge":"-_8A","origin":"https://a.example","crossOrigin":false}"#)
        let parsed = try CollectedClientData(json: json)
        XCTAssertEqual(parsed.challenge, [0xFB, 0xFF, 0x00])
        XCTAssertEqual(parsed.crossOrigin, false)
    }

    /// python-fido2 builds clientDataJSON the same way (compact, same member order): for every
    /// vector it made, our bytes must be its bytes.
    func testMakeMatchesPythonFido2ByteForByte() throws {
        for vector in try Fixtures.fido2Vectors() {
            XCTAssertEqual(CollectedClientData.make(type: "webauthn.create", challenge: hex(vector.registration.challenge), origin: vector.origin),
                           hex(vector.registration.clientDataJSON), vector.name)
            XCTAssertEqual(CollectedClientData.make(type: "webauthn.get", challenge: hex(vector.assertion.challenge), origin: vector.origin),
                           hex(vector.assertion.clientDataJSON), vector.name)
        }
    }

    func testMakeEscapesStringsSoAnyJSONParserReadsThemBack() throws {
        let origin = "https://x.example/\"quoted\"\\back\u{1}\n\u{1F}é"
        let json = CollectedClientData.make(type: "webauthn.create", challenge: [9], origin: origin)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains(#"\"quoted\"\\back\u0001\u000a\u001fé"#))
        let foundation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        XCTAssertEqual(foundation["origin"] as? String, origin)
        XCTAssertEqual(try CollectedClientData(json: json).origin, origin)
    }

    func testRefusals() {
        let cases: [(String, ClientDataError)] = [
            ("", .json(.unexpectedEnd)),
            ("[]", .notAnObject),
            (#""webauthn.get""#, .notAnObject),
            (#"{"challenge":"AQID","origin":"o"}"#, .missingMember("type")),
            (#"{"type":"t","origin":"o"}"#, .missingMember("challenge")),
            (#"{"type":"t","challenge":"AQID"}"#, .missingMember("origin")),
            (#"{"type":1,"challenge":"AQID","origin":"o"}"#, .memberWrongType("type", expected: "string")),
            (#"{"type":"t","challenge":["AQID"],"origin":"o"}"#, .memberWrongType("challenge", expected: "string")),
            (#"{"type":"t","challenge":"AQID","origin":null}"#, .memberWrongType("origin", expected: "string")),
            (#"{"type":"t","challenge":"AQID","origin":"o","crossOrigin":"false"}"#, .memberWrongType("crossOrigin", expected: "boolean")),
            (#"{"type":"t","challenge":"AQID","origin":"o","topOrigin":false}"#, .memberWrongType("topOrigin", expected: "string")),
            (#"{"type":"t","challenge":"AQID==","origin":"o"}"#, .challengeNotBase64URL),
            (#"{"type":"t","challenge":"AQ+D","origin":"o"}"#, .challengeNotBase64URL),
            // Which challenge would a lenient parser pick? Neither: refused.
            (#"{"type":"t","challenge":"AQID","challenge":"BBBB","origin":"o"}"#, .json(.duplicateMember("challenge"))),
            (#"{"type":"t","challenge":"AQID","origin":"o"} x"#, .json(.trailingContent(offset: 45))),
            (#"{"type":"t","challenge":"AQID","origin":"o",}"#, .json(.unexpectedByte(offset: 44))),
            (#"{"type":"t\ud800","challenge":"AQID","origin":"o"}"#, .json(.unpairedSurrogate(offset: 10))),
            (#"{"type":"t\udc00\ud800","challenge":"AQID","origin":"o"}"#, .json(.unpairedSurrogate(offset: 10))),
            (#"{"type":"t\x","challenge":"AQID","origin":"o"}"#, .json(.invalidEscape(offset: 10))),
            ("{\"type\":\"t\u{1}\",\"challenge\":\"AQID\",\"origin\":\"o\"}", .json(.controlCharacterInString(offset: 10))),
            (#"{"type":"t","n":01,"challenge":"AQID","origin":"o"}"#, .json(.unexpectedByte(offset: 17))),
            (#"{"type":"t","n":-,"challenge":"AQID","origin":"o"}"#, .json(.invalidNumber(offset: 16))),
            (#"{"type":"t","n":1.,"challenge":"AQID","origin":"o"}"#, .json(.invalidNumber(offset: 16))),
            (#"{"type":tru}"#, .json(.unexpectedByte(offset: 11))),
            (#"{"type":"t","n":"#, .json(.unexpectedEnd)),
            ("{\"a\":" + String(repeating: "[", count: 16) + String(repeating: "]", count: 16) + "}", .json(.nestingTooDeep(limit: 16))),
        ]
        for (json, expected) in cases {
            XCTAssertThrows(expected, json) { () throws(ClientDataError) in try parse(json) }
        }
        XCTAssertThrows(ClientDataError.json(.invalidUTF8)) { () throws(ClientDataError) in
            try CollectedClientData(json: Array(#"{"type":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
        }
        XCTAssertNoThrow(try parse("{\"a\":" + String(repeating: "[", count: 15) + String(repeating: "]", count: 15)
                                   + #","type":"t","challenge":"","origin":"o"}"#))
    }
}
