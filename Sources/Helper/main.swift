// pam_passkey_helper — the host authenticator. Holds the private keys and checks PINs so that
// neither ever enters the login process. Speaks the helper protocol on stdin/stdout: one
// request, any number of PIN questions, one reply. See Sources/HelperProtocol.
//
// Runs as root: directly when the PAM caller is root; setuid root otherwise (screen lockers),
// and then it serves only the calling user's own account and only the operations that do
// not create or remove credentials (the unix_chkpwd rule).
#if canImport(Glibc)
import Glibc
#endif
import Authenticator
import Crypto
import HelperProtocol
import Policy

// Before anything opens libcrypto: the allocator goes in right after that dlopen, before
// OpenSSL's first allocation (scrypt's working memory on huge pages). A status request never
// opens the library.
LargeBlockAllocator.install()
let invocation = Invocation.current()
invocation.harden()

switch HelperCommandLine.parse(Array(CommandLine.arguments.dropFirst()), callerIsRoot: invocation.callerIsRoot) {
case .version:
    print("pam_passkey_helper, helper protocol \(HelperProtocolVersion.current)")
    exit(0)
case .usage(let message):
    let line = Array("\(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
case .serve(let policyPath):
    let channel = FrameChannel(readFD: 0, writeFD: 1)
    let server = HelperServer(channel: channel, invocation: invocation, policyPath: policyPath)
    exit(server.run() ? 0 : 1)
}
