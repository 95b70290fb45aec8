"""registry = ldap in the programs people sign in through, installed into / as in
test_programs.py, against Debian's slapd on 127.0.0.1 with the shipped schema and access
rules: login (root) reaches the directory; vlock, run by the user like a screen locker,
never does — it signs in from this host's cache, and what it records waits in the queue for
the next root login or `passkeyctl sync`."""
import json
import os
import pathlib
import secrets
import shutil
import tempfile

import pytest

import ptyprograms as pp
from ldapfleet import BASE, HOSTS, directory_record, running_directory
from ldaprecords import ldif
from test_programs import PIN, VLOCK, LOGIN, first_console_login, sign_in


@pytest.fixture(scope="module")
def directory():
    with running_directory() as s:
        yield s


@pytest.fixture(scope="module")
def system(build_dir, directory):
    from accounts import require_root
    require_root()
    # The host account's password and the cache: root's, outside any user's reach.
    where = pathlib.Path(tempfile.mkdtemp(prefix="pkt-directory-", dir="/var/tmp"))
    os.chmod(where, 0o755)
    password = secrets.token_hex(12)
    (where / "ldap-password").write_text(password + "\n")
    os.chmod(where / "ldap-password", 0o600)
    installed = pp.InstalledSystem(build_dir, policy_extra={
        "registry": "ldap", "ldap_uri": directory.uri, "ldap_base": BASE, "ldap_bind": "simple",
        "ldap_bind_dn": f"cn={pp.HOST_NAME},{HOSTS}", "ldap_password_file": str(where / "ldap-password"),
        "registry_cache_dir": str(where / "cache"), "registry_timeout": "2s"})
    try:
        if not (pp.PAM_D / "vlock").exists():
            installed.service_file("vlock", "# written by test_programs_directory.py\n@include common-auth\n@include common-account\n")
        status = json.loads(installed.passkeyctl("status", "--json").stdout)
        directory.add(ldif(f"cn={pp.HOST_NAME},{HOSTS}", {
            "objectClass": ["device", "simpleSecurityObject", "pamPasskeyHost"], "cn": [pp.HOST_NAME],
            "userPassword": [password], "pamPasskeyHostID": [status["host"]["id"]], "pamPasskeyHostName": [pp.HOST_NAME]}))
        installed.cache = where / "cache"
        yield installed
    finally:
        installed.close()
        shutil.rmtree(where, True)


def queued(system) -> list:
    d = system.state / "directory-queue"
    return [json.loads(p.read_text()) for p in sorted(d.glob("*.json"))] if d.exists() else []


def test_a_screen_locker_signs_in_from_the_cache_and_its_record_reaches_the_directory(system, directory):
    alice = system.account("alice")

    # The console: the password, the offer; the passkey goes into the directory.
    first_console_login(alice)
    [credential] = directory_record(directory, alice)["credentials"]
    assert credential["hostName"] == pp.HOST_NAME and credential["signCount"] == 0
    assert queued(system) == []

    # vlock, run by alice (real uid alice): the PIN unlocks. Her process cannot reach the
    # directory; the setuid helper records the login in the cache and the queue.
    sign_in(VLOCK, alice, alice, PIN)
    [write] = queued(system)
    assert (write["kind"], write["user"], write["credentialIDs"]) == ("login", alice.name, [credential["id"]])
    cached = json.loads((system.cache / f"{alice.name}.json").read_text())
    assert cached["credentials"][0]["signCount"] == write["signCount"] > 0
    assert directory_record(directory, alice)["credentials"][0]["signCount"] == 0, "vlock wrote to the directory"

    # root's sync sends it.
    p = system.passkeyctl("sync")
    assert p.returncode == 0 and "sent 1 queued writes" in p.stdout, p.stdout + p.stderr
    assert queued(system) == []
    after = directory_record(directory, alice)["credentials"][0]
    assert after["signCount"] == write["signCount"] and after["lastUsed"]["host"] == pp.HOST_NAME

    # The directory down: vlock and login still take the PIN, from the cache.
    directory.stop()
    sign_in(VLOCK, alice, alice, PIN)
    sign_in(LOGIN, alice, None, PIN)
    assert [w["kind"] for w in queued(system)] == ["login", "login"]
