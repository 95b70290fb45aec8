import Identifiers
import Crypto
import HelperProtocol

/// Where a host authenticator gets PINs: the helper asks its caller over the protocol
/// channel. nil (or an empty answer) means the user cancelled — "use my password instead".
public protocol PINPrompter {
    func answer(_ question: PINQuestion) throws(HelperFailure) -> SecretBytes?
    /// Tells the caller something that needs no answer (a security key waits for a touch).
    func notify(_ notice: HelperNotice) throws(HelperFailure)
}

extension PINPrompter {
    public func notify(_ notice: HelperNotice) throws(HelperFailure) {}
}

/// A host authenticator: the thing that makes a passkey belong to this computer. Private
/// keys never leave it; every use needs the PIN; wrong PINs are counted persistently.
public protocol HostAuthenticator {
    func health() -> AuthenticatorHealth
    /// The user's credentials for `rpID` held here, with their lock state.
    func credentials(user: UserName, rpID: String) throws(HelperFailure) -> [HeldCredential]
    func makeCredential(_ request: MakeCredentialRequest, pins: PINPrompter) throws(HelperFailure) -> CreatedCredential
    func getAssertion(_ request: GetAssertionRequest, pins: PINPrompter) throws(HelperFailure) -> Assertion
    func deleteCredential(user: UserName, credentialID: CredentialID) throws(HelperFailure)
    func unlock(user: UserName, credentialID: CredentialID?) throws(HelperFailure)
}

/// AAGUIDs of this project's authenticators, so relying parties (and `passkeyctl list`) can
/// tell which backend made a credential.
public enum ProjectAAGUID {
    /// 8f5c86a8-678f-4cf3-b055-7a7ef59ef0a1
    public static let software: [UInt8] = [0x8F, 0x5C, 0x86, 0xA8, 0x67, 0x8F, 0x4C, 0xF3,
                                           0xB0, 0x55, 0x7A, 0x7E, 0xF5, 0x9E, 0xF0, 0xA1]
    /// b7b28067-6ad5-4a0a-91c8-76c1a366ddbe
    public static let tpm: [UInt8] = [0xB7, 0xB2, 0x80, 0x67, 0x6A, 0xD5, 0x4A, 0x0A,
                                      0x91, 0xC8, 0x76, 0xC1, 0xA3, 0x66, 0xDD, 0xBE]
}
