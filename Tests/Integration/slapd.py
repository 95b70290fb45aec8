"""Debian's slapd on 127.0.0.1 and an ldapi socket, with a configuration of the test's own.

The configuration is cn=config, written as LDIF and loaded with `slapadd -n0` (the way an
installed slapd keeps it): the core and cosine schemas, a config database that root manages
over ldapi (SASL EXTERNAL, as on Debian), and an mdb database for `suffix` with a root DN and
Debian's default access rules (less the one for nis's shadowLastChange). The project's
schema is then loaded the way an administrator loads it (`ldapadd -Y EXTERNAL -H
ldapi://…`), so a mistake in Packaging/ldap fails here.

slapd runs in the foreground (`-d`), so the process the fixture started is slapd itself: it
is stopped, paused (SIGSTOP) and resumed (SIGCONT) by that pid, never by name.

Every ldap-utils command runs with LDAPNOINIT=1: libldap then reads neither
/etc/ldap/ldap.conf nor ~/.ldaprc nor LDAP* variables, so nothing on the machine changes
what a test sees.
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "Packaging" / "ldap"
SYSTEM_SCHEMA = pathlib.Path("/etc/ldap/schema")
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"

# The shipped files name this suffix; the fixture replaces it with its own.
EXAMPLE_SUFFIX = "dc=example,dc=com"
ROOT_PEER = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAP")}
    env["LDAPNOINIT"] = "1"
    return env


class LDAPError(Exception):
    def __init__(self, proc: subprocess.CompletedProcess):
        self.proc = proc
        super().__init__(f"{proc.args[0]} exited {proc.returncode}: {proc.stderr.strip()}")


class Slapd:
    """slapd = Slapd().start(); ...; slapd.remove() (stops it, deletes its directory).

    authz_regexp: (pattern, replacement) pairs for olcAuthzRegexp, e.g. to map a peer uid on
    ldapi to a host account. schemas: files of Packaging/ldap loaded after start with
    `ldapadd -Y EXTERNAL` (the shipped access rules go in with config_modify(shipped(...))).
    """

    def __init__(self, suffix="dc=pam-passkey,dc=test", authz_regexp=(), schemas=("pam_passkey.ldif",),
                 env=None, sasl_host=None, tls=None):
        self.suffix = suffix
        self.root_dn = f"cn=admin,{suffix}"
        self.root_pw = os.urandom(12).hex()
        # sun_path is 108 bytes: keep the directory short (pytest's tmp_path may not be).
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="slapd-", dir="/tmp"))
        os.chmod(self.dir, 0o755)   # a test may run an ldap tool as another uid over ldapi
        self.socket = self.dir / "ldapi"
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}/"
        self.ldapi = "ldapi://" + urllib.parse.quote(str(self.socket), safe="")
        self.authz_regexp = list(authz_regexp)
        self.schemas = list(schemas)
        # For SASL GSSAPI (kdc.py): KRB5_KTNAME (slapd's keytab for ldap/HOST) and KRB5_CONFIG
        # in slapd's environment, and olcSaslHost, the HOST its GSSAPI acceptor is named for.
        self.extra_env = dict(env or {})
        self.sasl_host = sasl_host
        # tls: (certificate file, key file): slapd also listens on ldaps://127.0.0.1:PORT/.
        self.tls = tls
        self.ldaps_uri = f"ldaps://127.0.0.1:{free_port()}/" if tls else None
        self.proc = None
        self.log_path = self.dir / "slapd.log"

    # -- configuration ---------------------------------------------------------------------

    def _config_ldif(self) -> str:
        regexps = "".join(f'olcAuthzRegexp: {{{i}}}"{p}" "{r}"\n'
                          for i, (p, r) in enumerate(self.authz_regexp))
        if self.sasl_host:
            regexps += f"olcSaslHost: {self.sasl_host}\n"
        if self.tls:
            regexps += f"olcTLSCertificateFile: {self.tls[0]}\nolcTLSCertificateKeyFile: {self.tls[1]}\n"
        schemas = "\n".join((SYSTEM_SCHEMA / f"{name}.ldif").read_text().strip() + "\n"
                            for name in ("core", "cosine"))
        return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {self.dir}/slapd.pid
olcArgsFile: {self.dir}/slapd.args
{regexps}
dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: {{0}}back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by dn.exact={ROOT_PEER} manage by * break

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {self.suffix}
olcRootDN: {self.root_dn}
olcRootPW: {self.root_pw}
olcDbDirectory: {self.dir}/data
olcDbMaxSize: 67108864
olcDbIndex: objectClass eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by * read
"""

    def start(self):
        """Writes the configuration, starts slapd, loads the project's schema over ldapi."""
        conf = self.dir / "slapd.d"
        conf.mkdir()
        (self.dir / "data").mkdir()
        ldif = self.dir / "config.ldif"
        ldif.write_text(self._config_ldif())
        p = subprocess.run([SLAPADD, "-n0", "-F", str(conf), "-l", str(ldif)], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"slapadd -n0 failed: {p.stderr}")
        for attempt in range(3):
            self.log = open(self.log_path, "w")
            self.proc = subprocess.Popen(
                [SLAPD, "-d", "none", "-F", str(conf), "-h", " ".join(filter(None, (self.uri, self.ldapi, self.ldaps_uri)))],
                stdout=self.log, stderr=subprocess.STDOUT, env=self.daemon_env())
            try:
                self._wait_until_ready()
                break
            except RuntimeError:
                # The free port may have been taken between free_port() and slapd's bind.
                taken = "Address already in use" in self.log_path.read_text()
                if self.proc.poll() is None or attempt == 2 or not taken:
                    raise
                self.log.close()
                self.port = free_port()
                self.uri = f"ldap://127.0.0.1:{self.port}/"
        for name in self.schemas:
            self.config_add(SCHEMA_DIR / name)
        return self

    def daemon_env(self) -> dict:
        return {**tool_env(), **self.extra_env}

    def _wait_until_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited {self.proc.returncode}: {self.log_path.read_text()}")
            # Over ldapi: the socket is slapd's alone (someone else may hold the TCP port, and
            # then slapd exits). It answers once slapd has opened every listener.
            p = self.run("ldapwhoami", "-x", "-H", self.ldapi, "-o", "nettimeout=1", "-o", "timeout=1",
                         check=False, timeout=5)
            if p.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"slapd did not answer within {timeout} s: {self.log_path.read_text()}")

    def shipped(self, name) -> str:
        """A file of Packaging/ldap with this directory's suffix in place of the example one."""
        return (SCHEMA_DIR / name).read_text().replace(EXAMPLE_SUFFIX, self.suffix)

    def config_add(self, path: pathlib.Path):
        """ldapadd -Y EXTERNAL over ldapi, as root: how an administrator adds a schema."""
        ldif = path.read_text().replace(EXAMPLE_SUFFIX, self.suffix)
        self.run("ldapadd", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi, input=ldif)

    def config_modify(self, ldif: str):
        self.run("ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", self.ldapi, input=ldif)

    # -- the process -----------------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.proc.pid

    def pause(self):
        """SIGSTOP: the kernel still completes TCP connects (the listen backlog), nobody answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def stop(self, grace=5):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.resume()   # a stopped process does not act on SIGTERM until continued
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- ldap-utils ------------------------------------------------------------------------

    def run(self, tool, *args, input=None, check=True, timeout=30, user=None):
        """Runs an ldap-utils program; user=(uid, gid) runs it as that account (setpriv)."""
        argv = [tool, *args]
        if user is not None:
            uid, gid = user
            argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]
        p = subprocess.run(argv, input=input, capture_output=True, text=True, env=tool_env(), timeout=timeout)
        if check and p.returncode != 0:
            raise LDAPError(p)
        return p

    def bind_args(self, dn=None, password=None):
        """Simple bind as dn (default: the root DN) over TCP."""
        if dn is None:
            dn, password = self.root_dn, self.root_pw
        return ["-x", "-H", self.uri, "-D", dn, "-w", password]

    def add(self, ldif, dn=None, password=None, check=True):
        return self.run("ldapadd", *self.bind_args(dn, password), input=ldif, check=check)

    def modify(self, ldif, dn=None, password=None, check=True):
        return self.run("ldapmodify", *self.bind_args(dn, password), input=ldif, check=check)

    def delete(self, target, dn=None, password=None, check=True):
        return self.run("ldapdelete", *self.bind_args(dn, password), target, check=check)

    def search(self, base, filter="(objectClass=*)", *attrs, scope="sub", bind=None, check=True):
        """Entries as {dn: {attribute: [values]}} (binary values as bytes); bind: extra
        arguments in place of the root DN's simple bind."""
        args = bind if bind is not None else self.bind_args()
        p = self.run("ldapsearch", *args, "-LLL", "-o", "ldif-wrap=no", "-s", scope, "-b", base,
                     filter, *attrs, check=check)
        if p.returncode != 0:
            return p
        return parse_ldif(p.stdout)


def parse_ldif(text: str) -> dict:
    """ldapsearch -LLL -o ldif-wrap=no output: {dn: {attribute: [str | bytes]}}. A value
    written base64 (`::`: binary, or text that is not plain ASCII) is bytes."""
    import base64
    entries = {}
    for block in text.strip().split("\n\n"):
        if not block.strip():
            continue
        dn, attrs = None, {}
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            name, sep, value = line.partition(":")
            if value.startswith(":"):
                value = base64.b64decode(value[1:].strip())
            else:
                value = value[1:] if value.startswith(" ") else value
            if name == "dn":
                dn = value
            else:
                attrs.setdefault(name, []).append(value)
        entries[dn] = attrs
    return entries
