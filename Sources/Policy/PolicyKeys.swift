/// Every policy key, its default and its one-line documentation. This list is the single
/// source of truth: the parser, `passkeyctl status`, the sample pam_passkey.conf, the man page
/// pam_passkey.conf(5) and the README table are all produced from it.
///
/// Defaults are the safe choice: a missing or bad value never widens who can sign in.
public enum RemoteSessions: String, CaseIterable, Sendable {
    /// Remote sessions (PAM_RHOST set, not loopback) never get a passkey prompt or an offer:
    /// this host's authenticator is not with a remote user.
    case decline
    /// Remote sessions are treated like local ones.
    case allow
}

/// Where the offer after a password login makes the passkey.
public enum AppendOn: String, CaseIterable, Sendable {
    /// This computer's authenticator (TPM or software).
    case host
    /// The FIDO2 security key plugged in, when there is one (this computer's otherwise).
    case securityKey = "security_key"
}

public enum AuthenticatorChoice: String, CaseIterable, Sendable {
    case auto, tpm, software
}

/// Where the registry lives (docs/ARCHITECTURE.md, "The registry in a directory").
public enum RegistryBackend: String, CaseIterable, Sendable {
    /// One JSON file per user in `registry_dir` (shareable between hosts).
    case files
    /// An LDAP directory (OpenLDAP, FreeIPA), read into a local cache by pam_passkey_directory.
    case ldap
}

/// How a host binds to the directory.
public enum DirectoryBind: String, CaseIterable, Sendable {
    /// SASL EXTERNAL: a TLS client certificate, or the peer uid over ldapi, mapped by the server.
    case saslExternal = "sasl_external"
    /// A simple bind as `ldap_bind_dn` with the password in `ldap_password_file`.
    case simple
    /// SASL GSSAPI with Kerberos: `ldap_krb5_principal` (by default the first principal) of
    /// `ldap_keytab` (a FreeIPA- or AD-joined host's host/FQDN@REALM), realm settings from
    /// `ldap_krb5_conf`.
    case gssapi
}

/// Whether a passkey login may use the cache when the directory does not answer.
public enum RegistryOnline: String, CaseIterable, Sendable {
    /// The cache serves while the directory is unreachable, up to `registry_max_offline`.
    case optional
    /// Every passkey login asks the directory; unreachable means the passkey steps aside.
    case required
}

extension PolicyKey where Value == String {
    public static let rpID = text("rp_id", default: "pam_passkey",
        "WebAuthn relying party id; every host sharing a registry must use the same value")
    public static let hostName = text("host_name", default: "", defaultNote: "this host's name",
        "name shown to users for this host (\"your passkeys are on …\")", allowEmpty: true)
    public static let registryDir = path("registry_dir", default: "/var/lib/pam_passkey/registry",
        "directory of per-user credential records; may be shared between hosts")
    public static let stateDir = path("state_dir", default: "/var/lib/pam_passkey/host",
        "this host's private state: authenticator keys, PIN counters, history (root only)")
    public static let hostIDFile = path("host_id_file", default: "/etc/machine-id",
        "file whose content identifies this host; only a keyed hash of it is ever stored")
    public static let helper = path("helper", default: "/usr/libexec/pam_passkey/pam_passkey_helper",
        "the host authenticator helper program")
    public static let ldapURI = text("ldap_uri", default: "", defaultNote: "none",
        "registry = ldap: the directory's URIs, separated by spaces (ldaps://, ldap:// on loopback, ldapi://)", allowEmpty: true)
    public static let ldapBase = text("ldap_base", default: "", defaultNote: "none",
        "registry = ldap: the DN of the registry's subtree, e.g. ou=pam_passkey,dc=example,dc=com", allowEmpty: true)
    public static let ldapBindDN = text("ldap_bind_dn", default: "", defaultNote: "none",
        "ldap_bind = simple: this host's account, e.g. cn=host-a,ou=hosts,dc=example,dc=com", allowEmpty: true)
    public static let ldapIPAUsersBase = text("ldap_ipa_users_base", default: "", defaultNote: "none (off)",
        "registry = ldap: where FreeIPA keeps its users, e.g. cn=users,cn=accounts,dc=example,dc=com; set, each user's ipaPassKey security keys are read too (never written)", allowEmpty: true)
    public static let ldapIPADomain = text("ldap_ipa_domain", default: "", defaultNote: "from ldap_ipa_users_base's dc= parts",
        "registry = ldap: the IPA domain, the relying party id ipa user-add-passkey registered the security keys for (e.g. example.com)", allowEmpty: true)
    public static let ldapPasswordFile = path("ldap_password_file", default: "/etc/security/pam_passkey.ldap-password",
        "ldap_bind = simple: the file holding the host account's password (root only, mode 0600)")
    public static let ldapKeytab = path("ldap_keytab", default: "/etc/krb5.keytab",
        "ldap_bind = gssapi: the host's keytab (root only, mode 0600; klist -k lists its principals)")
    public static let ldapKrb5Principal = text("ldap_krb5_principal", default: "", defaultNote: "the keytab's first principal",
        "ldap_bind = gssapi: the principal that binds, e.g. host/host-a.example.com@EXAMPLE.COM (without @REALM: in any realm)",
        allowEmpty: true)
    public static let ldapKrb5Conf = path("ldap_krb5_conf", default: "/etc/krb5.conf",
        "ldap_bind = gssapi: the Kerberos configuration (realm, KDCs) used for the bind (root-owned, not writable by others)")
    public static let ldapTLSCACert = path("ldap_tls_cacert", default: "/etc/ssl/certs/ca-certificates.crt",
        "certificates the directory's TLS certificate must chain to (ldaps://; root's, writable by no one else)")
    public static let registryCacheDir = path("registry_cache_dir", default: "/var/cache/pam_passkey/registry",
        "registry = ldap: this host's copy of the directory's records (root-owned, world-readable)")
    public static let directoryProgram = path("directory_program", default: "/usr/libexec/pam_passkey/pam_passkey_directory",
        "registry = ldap: the program that talks to the directory (the module never loads libldap)")
    public static let tcti = text("tcti", default: "device:/dev/tpmrm0",
        "TPM transport for authenticator = tpm (e.g. device:/dev/tpmrm0, swtpm:path=/run/swtpm.sock)")
}

extension PolicyKey where Value == AuthenticatorChoice {
    public static let authenticator = choice("authenticator", default: AuthenticatorChoice.auto,
        "host authenticator backend: tpm, software, or auto (tpm when one answers)")
}

extension PolicyKey where Value == AppendOn {
    public static let appendOn = choice("append_on", default: AppendOn.host,
        "where the offer makes the passkey: host (this computer's authenticator) or security_key (the key plugged in, if any)")
}

extension PolicyKey where Value == RegistryBackend {
    public static let registry = choice("registry", default: RegistryBackend.files,
        "where the registry lives: files (registry_dir) or ldap (a directory, through a local cache)")
}

extension PolicyKey where Value == DirectoryBind {
    public static let ldapBind = choice("ldap_bind", default: DirectoryBind.saslExternal,
        "how this host binds to the directory: sasl_external, simple (ldap_bind_dn and a password), or gssapi (Kerberos, the host keytab)")
}

extension PolicyKey where Value == RegistryOnline {
    public static let registryOnline = choice("registry_online", default: RegistryOnline.optional,
        "optional (the cache serves while the directory is down) or required (a fresh answer at every login)")
}

extension PolicyKey where Value == RemoteSessions {
    public static let remoteSessions = choice("remote_sessions", default: RemoteSessions.decline,
        "remote sessions: decline (no passkey prompt, no offer) or allow")
}

extension PolicyKey where Value == Int {
    public static let helperTimeout = duration("helper_timeout", default: "10s", max: 600,
        "how long the helper may take to answer (time the user spends typing is not counted)")
    public static let securityKeyTimeout = duration("security_key_timeout", default: "15s", max: 120,
        "how long a FIDO2 security key waits for its touch")
    public static let registryRefresh = duration("registry_refresh", default: "5m", max: 86400,
        "registry = ldap: how old a cached record may be before a login asks the directory again")
    public static let registryTimeout = duration("registry_timeout", default: "2s", max: 60,
        "registry = ldap: the longest a login waits for the directory (the program is killed then)")
    public static let registryMaxOffline = duration("registry_max_offline", default: "7d", max: 365 * 86400,
        "registry = ldap: how long a cached record serves without a successful sync; then passkeys step aside")
    public static let registryRetry = duration("registry_retry", default: "1m", max: 3600,
        "registry = ldap: after the directory did not answer, how long logins use the cache before asking it again")
    public static let pinMinLength = integer("pin_min_length", default: 6, range: 4...63,
        "shortest PIN accepted when a passkey is created")
    public static let pinMaxAttempts = integer("pin_max_attempts", default: 5, range: 1...20,
        "wrong PINs in a row that lock a passkey until it is replaced or unlocked")
    public static let pinKDFCost = integer("pin_kdf_cost", default: 13, range: 10...22,
        "software authenticator: scrypt cost as log2(N); 13 = 8 MiB and about one yescrypt password check")
    public static let appendSnoozeDays = integer("append_snooze_days", default: 14, range: 0...365,
        "days without an offer after the user answers \"n\"")
    public static let appendMaxOffers = integer("append_max_offers", default: 3, range: 0...100,
        "unanswered offers after which no more are made; also the most offers in any 30 days")
    public static let cancelThreshold = integer("cancel_threshold", default: 3, range: 1...100,
        "PIN prompts cancelled in a row after which the passkey prompt is snoozed")
    public static let cancelSnooze = duration("cancel_snooze", default: "1d", max: 365 * 86400,
        "how long the passkey prompt steps aside after cancel_threshold cancels")
    public static let rolloutPercent = integer("rollout_percent", default: 100, range: 0...100,
        "share of users (by a stable hash of the user name) who are offered a passkey")
    public static let minUID = integer("min_uid", default: 1000, range: 0...Int(Int32.max),
        "accounts with a lower uid are never offered a passkey")
}

extension PolicyKey where Value == Bool {
    public static let append = flag("append", default: true,
        "offer to create a passkey for this host after a successful password login")
    public static let debug = flag("debug", default: false,
        "log each signal behind a decision (never secrets)")
}

extension PolicyKey where Value == [String] {
    public static let appendSkipServices = list("append_skip_services",
        default: ["sudo", "sudo-i", "su", "su-l", "runuser", "runuser-l", "polkit-1", "passwd", "chsh", "chfn",
                  "cron", "systemd-user"],
        "PAM services where an offer would interrupt a task; never offered there")
    public static let securityKeys = devices("security_keys", default: ["auto"],
        "FIDO2 security keys: auto (the USB keys libfido2 finds), off, or device paths (udev links such as /dev/yubikey)")
    public static let noninteractiveServices = list("noninteractive_services",
        default: ["cron", "atd", "systemd-user"],
        "PAM services where the module always steps aside silently")
}

public enum PolicyKeys {
    /// Every key, in the order of the sample file and the documentation.
    public static let all: [AnyPolicyKey] = entries.map { $0.key() }

    /// The key called `name`. Only that key is built: building all of them (each a generic
    /// PolicyKey with its closures, and the runtime's metadata and conformance lookups for
    /// them) cost ~230,000 instructions in a fresh process whose policy file names three keys
    /// (callgrind, the helper's first reply). A search in order, not a Dictionary: there are a
    /// few dozen keys, and building the Dictionary cost about 150,000 instructions on a
    /// process's first login. An entry whose name is not its key's is never used.
    public static func named(_ name: String) -> AnyPolicyKey? {
        for entry in entries where entry.name == name {
            let key = entry.key()
            return key.name == name ? key : nil
        }
        return nil
    }

    /// One line of the table: the key's name (which must be the name its PolicyKey gives,
    /// checked by `named` and by a unit test), and how to build it.
    struct Entry: Sendable {
        let name: String
        let key: @Sendable () -> AnyPolicyKey
        init(_ name: String, _ key: @escaping @Sendable () -> AnyPolicyKey) {
            self.name = name
            self.key = key
        }
    }

    /// Every key, in the order of the sample file and the documentation.
    static let entries: [Entry] = [
        Entry("rp_id",                     { AnyPolicyKey(PolicyKey.rpID) }),
        Entry("host_name",                 { AnyPolicyKey(PolicyKey.hostName) }),
        Entry("host_id_file",              { AnyPolicyKey(PolicyKey.hostIDFile) }),
        Entry("registry_dir",              { AnyPolicyKey(PolicyKey.registryDir) }),
        Entry("state_dir",                 { AnyPolicyKey(PolicyKey.stateDir) }),
        Entry("registry",                  { AnyPolicyKey(PolicyKey.registry) }),
        Entry("ldap_uri",                  { AnyPolicyKey(PolicyKey.ldapURI) }),
        Entry("ldap_base",                 { AnyPolicyKey(PolicyKey.ldapBase) }),
        Entry("ldap_bind",                 { AnyPolicyKey(PolicyKey.ldapBind) }),
        Entry("ldap_bind_dn",              { AnyPolicyKey(PolicyKey.ldapBindDN) }),
        Entry("ldap_password_file",        { AnyPolicyKey(PolicyKey.ldapPasswordFile) }),
        Entry("ldap_keytab",               { AnyPolicyKey(PolicyKey.ldapKeytab) }),
        Entry("ldap_krb5_principal",       { AnyPolicyKey(PolicyKey.ldapKrb5Principal) }),
        Entry("ldap_krb5_conf",            { AnyPolicyKey(PolicyKey.ldapKrb5Conf) }),
        Entry("ldap_tls_cacert",           { AnyPolicyKey(PolicyKey.ldapTLSCACert) }),
        Entry("ldap_ipa_users_base",       { AnyPolicyKey(PolicyKey.ldapIPAUsersBase) }),
        Entry("ldap_ipa_domain",           { AnyPolicyKey(PolicyKey.ldapIPADomain) }),
        Entry("registry_cache_dir",        { AnyPolicyKey(PolicyKey.registryCacheDir) }),
        Entry("directory_program",         { AnyPolicyKey(PolicyKey.directoryProgram) }),
        Entry("registry_refresh",          { AnyPolicyKey(PolicyKey.registryRefresh) }),
        Entry("registry_timeout",          { AnyPolicyKey(PolicyKey.registryTimeout) }),
        Entry("registry_max_offline",      { AnyPolicyKey(PolicyKey.registryMaxOffline) }),
        Entry("registry_retry",            { AnyPolicyKey(PolicyKey.registryRetry) }),
        Entry("registry_online",           { AnyPolicyKey(PolicyKey.registryOnline) }),
        Entry("helper",                    { AnyPolicyKey(PolicyKey.helper) }),
        Entry("helper_timeout",            { AnyPolicyKey(PolicyKey.helperTimeout) }),
        Entry("authenticator",             { AnyPolicyKey(PolicyKey.authenticator) }),
        Entry("tcti",                      { AnyPolicyKey(PolicyKey.tcti) }),
        Entry("security_keys",             { AnyPolicyKey(PolicyKey.securityKeys) }),
        Entry("security_key_timeout",      { AnyPolicyKey(PolicyKey.securityKeyTimeout) }),
        Entry("pin_min_length",            { AnyPolicyKey(PolicyKey.pinMinLength) }),
        Entry("pin_max_attempts",          { AnyPolicyKey(PolicyKey.pinMaxAttempts) }),
        Entry("pin_kdf_cost",              { AnyPolicyKey(PolicyKey.pinKDFCost) }),
        Entry("remote_sessions",           { AnyPolicyKey(PolicyKey.remoteSessions) }),
        Entry("noninteractive_services",   { AnyPolicyKey(PolicyKey.noninteractiveServices) }),
        Entry("append",                    { AnyPolicyKey(PolicyKey.append) }),
        Entry("append_on",                 { AnyPolicyKey(PolicyKey.appendOn) }),
        Entry("append_skip_services",      { AnyPolicyKey(PolicyKey.appendSkipServices) }),
        Entry("append_snooze_days",        { AnyPolicyKey(PolicyKey.appendSnoozeDays) }),
        Entry("append_max_offers",         { AnyPolicyKey(PolicyKey.appendMaxOffers) }),
        Entry("min_uid",                   { AnyPolicyKey(PolicyKey.minUID) }),
        Entry("rollout_percent",           { AnyPolicyKey(PolicyKey.rolloutPercent) }),
        Entry("cancel_threshold",          { AnyPolicyKey(PolicyKey.cancelThreshold) }),
        Entry("cancel_snooze",             { AnyPolicyKey(PolicyKey.cancelSnooze) }),
        Entry("debug",                     { AnyPolicyKey(PolicyKey.debug) }),
    ]
}
