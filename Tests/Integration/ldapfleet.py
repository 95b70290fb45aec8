"""Simulated hosts (fleet.py) whose registry is a real slapd (slapd.py) with the shipped
schema and access rules: each host has its own policy, machine id, state directory, cache
directory and host account (cn=HOST,ou=hosts, bound with a simple bind and a root-only
password file), and reaches the directory only through pam_passkey_directory."""
import contextlib
import json
import os
import secrets
import subprocess

import ldaprecords
from ldaprecords import ldif
from slapd import Slapd

SUFFIX = "dc=pam-passkey,dc=test"
BASE = f"ou=pam_passkey,{SUFFIX}"
HOSTS = f"ou=hosts,{SUFFIX}"


def start_directory(**slapd) -> Slapd:
    """slapd: more arguments for Slapd (env, sasl_host, authz_regexp)."""
    s = Slapd(suffix=SUFFIX, **slapd)
    s.start()
    s.config_modify(s.shipped("pam_passkey-access.ldif"))
    out = ldif(SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": ["pam-passkey"], "o": ["test"]})
    for ou in ("pam_passkey", "hosts"):
        out += ldif(f"ou={ou},{SUFFIX}", {"objectClass": ["organizationalUnit"], "ou": [ou]})
    s.add(out)
    return s


@contextlib.contextmanager
def running_directory(**slapd):
    """start_directory(**slapd) for the duration of a with block; removed after."""
    s = start_directory(**slapd)
    try:
        yield s
    finally:
        s.remove()


def second_host_enrolls(b, user, pin, directory):
    """host-b has never seen `user`, whose passkey is on host-a: it asks the directory, says
    where the passkey is, and the password and the offer create one here; then both are in
    the directory."""
    from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create
    r = b.login(user, [user.password, "y", pin, pin])
    assert r.ok, r
    assert r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create(),
                            choose_pin(), CONFIRM_PIN, ("info", "Passkey created. You now have passkeys on 2 computers.")], r
    assert sorted(c["hostName"] for c in directory_record(directory, user)["credentials"]) == ["host-a", "host-b"]


def host_id_of(host) -> str:
    r = subprocess.run([str(host.build_dir / "passkeyctl"), "status", "--conf", str(host.conf), "--json"],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)["host"]["id"]


def ldap_host(fleet, directory: Slapd, name: str, **policy):
    """fleet.host(name) with registry = ldap and its own account in the directory."""
    h = fleet.host(name)
    h.directory = directory
    h.account_dn = f"cn={name},{HOSTS}"
    h.account_password = secrets.token_hex(12)
    h.password_file = h.dir / "ldap-password"
    h.password_file.write_text(h.account_password + "\n")
    os.chmod(h.password_file, 0o600)
    h.cache = h.dir / "cache"
    h.set_policy(registry="ldap", ldap_uri=directory.uri, ldap_base=BASE, ldap_bind="simple",
                 ldap_bind_dn=h.account_dn, ldap_password_file=str(h.password_file), registry_cache_dir=str(h.cache),
                 directory_program=str(h.build_dir / "pam_passkey_directory"), registry_timeout="2s", **policy)
    h.host_id = host_id_of(h)
    directory.delete(h.account_dn, check=False)   # an earlier test's host of the same name
    directory.add(ldif(h.account_dn, {"objectClass": ["device", "simpleSecurityObject", "pamPasskeyHost"], "cn": [name],
                                      "userPassword": [h.account_password], "pamPasskeyHostID": [h.host_id],
                                      "pamPasskeyHostName": [name]}))
    return h


def directory_program(host, *args, timeout=30):
    return subprocess.run([str(host.build_dir / "pam_passkey_directory"), "--conf", str(host.conf), *args],
                          capture_output=True, text=True, timeout=timeout)


def directory_record(directory: Slapd, user) -> dict:
    """The user's record as the directory holds it (read as the root DN, mapped by ldaprecords)."""
    name = user.name if hasattr(user, "name") else user
    entries = directory.search(ldaprecords.user_dn(name, BASE), check=False)
    if not isinstance(entries, dict) or not entries:
        return {"credentials": []}
    return ldaprecords.record_from_entries(entries)


def queue(host) -> list:
    d = host.state / "directory-queue"
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".json") and not p.name.startswith(".")) if d.exists() else []


def restart(directory: Slapd):
    """Starts the stopped slapd again on its port, with its configuration and data."""
    from slapd import SLAPD
    directory.log = open(directory.log_path, "a")
    directory.proc = subprocess.Popen([SLAPD, "-d", "none", "-F", str(directory.dir / "slapd.d"), "-h",
                                       f"{directory.uri} {directory.ldapi}"],
                                      stdout=directory.log, stderr=subprocess.STDOUT, env=directory.daemon_env())
    directory._wait_until_ready()


def forget_failures(host):
    """Lets the next login ask the directory at once (not after the retry pause)."""
    mark = host.cache / ".unreachable"
    if mark.exists():
        mark.unlink()
