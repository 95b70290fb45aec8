"""Debian's MIT Kerberos KDC (krb5-kdc, krb5-admin-server for kadmin.local) on 127.0.0.1,
with a realm, a database and a krb5.conf of the test's own.

Nothing outside the fixture's directory is read or written: every Kerberos program runs with
KRB5_CONFIG (the client side: the realm and its KDC at 127.0.0.1:PORT) and KRB5_KDC_PROFILE
(the KDC's side: database, stash, listening address) naming files in that directory, so
/etc/krb5.conf and /etc/krb5kdc of the machine are never used. The database is created with
`kdb5_util create -s`, principals with `kadmin.local addprinc -randkey`, keytabs with
`ktadd`, the way an administrator of an MIT realm does it.

krb5kdc runs in the foreground (`-n`), so the process the fixture started is the KDC itself:
it is stopped, paused (SIGSTOP) and resumed by that pid, never by name.

The krb5.conf turns off every DNS lookup (dns_lookup_kdc, dns_lookup_realm,
dns_canonicalize_hostname, rdns): principals are the names as written, and nothing leaves
the machine.
"""
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

KDB5_UTIL = "/usr/sbin/kdb5_util"
KADMIN_LOCAL = "/usr/sbin/kadmin.local"
KRB5KDC = "/usr/sbin/krb5kdc"
KLIST = "/usr/bin/klist"

REALM = "PAM-PASSKEY.TEST"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (the KDC listens on both)."""
    for _ in range(50):
        with socket.socket() as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port for the KDC")


class KDC:
    """kdc = KDC().start(); kdc.add_principal(...); kdc.keytab(path, ...); kdc.remove()."""

    def __init__(self, realm=REALM):
        self.realm = realm
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="kdc-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.krb5_conf = self.dir / "krb5.conf"
        self.kdc_conf = self.dir / "kdc.conf"
        self.log_path = self.dir / "kdc.log"
        self.proc = None
        self.log = None

    def env(self) -> dict:
        e = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        e["KRB5_CONFIG"] = str(self.krb5_conf)
        e["KRB5_KDC_PROFILE"] = str(self.kdc_conf)
        e["KRB5CCNAME"] = f"FILE:{self.dir}/ccache"   # klist/kinit in a test never touch /tmp/krb5cc_*
        return e

    def _write_config(self):
        self.krb5_conf.write_text(f"""[libdefaults]
    default_realm = {self.realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false

[realms]
    {self.realm} = {{
        kdc = 127.0.0.1:{self.port}
    }}
""")
        os.chmod(self.krb5_conf, 0o644)
        self.kdc_conf.write_text(f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}

[realms]
    {self.realm} = {{
        database_name = {self.dir}/principal
        key_stash_file = {self.dir}/stash
        acl_file = {self.dir}/kadm5.acl
        max_life = 1h
        # As Debian's kdc.conf and FreeIPA have it: the client proves its key first.
        default_principal_flags = +preauth
    }}

[logging]
    kdc = FILE:{self.log_path}
""")

    def start(self):
        self._write_config()
        self.run(KDB5_UTIL, "create", "-s", "-r", self.realm, "-P", secrets.token_hex(16))
        self._launch()
        return self

    def _launch(self):
        self.log = open(self.dir / "krb5kdc.out", "a")
        self.proc = subprocess.Popen([KRB5KDC, "-n", "-r", self.realm], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"krb5kdc exited {self.proc.returncode}: {(self.dir / 'krb5kdc.out').read_text()}"
                                   f" {self.log_path.read_text() if self.log_path.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("krb5kdc did not listen within 10 s")

    # -- the realm's database ---------------------------------------------------------------

    def run(self, *argv, check=True, timeout=30):
        p = subprocess.run(list(argv), capture_output=True, text=True, env=self.env(), timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {p.returncode}: {p.stdout} {p.stderr}")
        return p

    def kadmin(self, query: str):
        p = self.run(KADMIN_LOCAL, "-r", self.realm, "-q", query)
        # kadmin.local exits 0 even when the query failed; it says so on stderr.
        if "error" in p.stderr.lower() or "failed" in p.stderr.lower():
            raise RuntimeError(f"kadmin.local -q {query!r}: {p.stderr}")
        return p

    def principal(self, name: str) -> str:
        return f"{name}@{self.realm}"

    def add_principal(self, name: str):
        self.kadmin(f"addprinc -randkey {self.principal(name)}")

    def delete_principal(self, name: str):
        self.kadmin(f"delprinc -force {self.principal(name)}")

    def keytab(self, path, *names, mode=0o600):
        """Writes the keys of `names` into the keytab `path` (ktadd: each key is made anew)."""
        path = pathlib.Path(path)
        for name in names:
            self.kadmin(f"ktadd -k {path} {self.principal(name)}")
        os.chmod(path, mode)
        return path

    def keytab_principals(self, path) -> list:
        out = self.run(KLIST, "-k", str(path)).stdout
        names = [line.split()[1] for line in out.splitlines() if line.strip()[:1].isdigit()]
        return list(dict.fromkeys(names))   # one line per key (enctype): each principal once, in order

    def log_lines(self) -> list:
        return self.log_path.read_text().splitlines() if self.log_path.exists() else []

    # -- the process -------------------------------------------------------------------------

    def pause(self):
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self, grace=5):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    def restart(self):
        self.stop()
        self._launch()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
