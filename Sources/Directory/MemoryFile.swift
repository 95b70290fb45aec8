#if canImport(Glibc)
import Glibc
#endif
import CLDAP
import Storage

/// Bytes this program checked, as a file only this process can reach (memfd, open for the
/// life of the process): libkrb5 and libldap take file names and open them again, and what
/// they then read must be what was checked, not whatever the path names by then.
enum MemoryFile {
    /// The path `/proc/self/fd/N` of a new in-memory file holding `bytes`. `what` names the
    /// file in an error.
    static func holding(_ bytes: [UInt8], name: String, what: String) throws(DirectoryRunError) -> String {
        let fd = pam_passkey_memfd(name)
        guard fd >= 0 else { throw DirectoryRunError(description: "\(what): memfd_create: \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return write(fd, base + written, buffer.count - written)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                throw DirectoryRunError(description: "\(what): writing its copy in memory: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        return "/proc/self/fd/\(fd)"
    }

    /// Whether one of ldap_uri's URIs is ldaps://.
    static func usesTLS(_ uri: String) -> Bool {
        uri.split(separator: " ").contains { $0.lowercased().hasPrefix("ldaps://") }
    }

    /// ldap_tls_cacert for a directory reached over TLS: the certificates that decide which
    /// server this host trusts with its bind, read as root's files are (no symbolic link;
    /// owned by root; writable by nobody else, nor its directories), then handed to libldap
    /// as a copy. Without TLS (ldap:// on loopback, ldapi://) it is not read.
    static func caCertificates(_ path: String, uri: String) throws(DirectoryRunError) -> String {
        guard usesTLS(uri) else { return path }
        let bytes: [UInt8]?
        do { bytes = try SecureFile.read(path, maxBytes: 16 << 20) } catch {
            throw DirectoryRunError(description: "ldap_tls_cacert: \(error)")
        }
        guard let bytes, !bytes.isEmpty else {
            throw DirectoryRunError(description: "ldap_tls_cacert \(path) does not exist or is empty; fix: install ca-certificates, or set ldap_tls_cacert to the file with the directory's CA certificate")
        }
        return try holding(bytes, name: "pam_passkey_cacert", what: "ldap_tls_cacert")
    }
}
