"""ldap_bind = gssapi: hosts bind to the directory with Kerberos, from their keytab, the way
FreeIPA- and AD-joined hosts do (host/FQDN@REALM from /etc/krb5.keytab).

Real parts only: Debian's MIT KDC on 127.0.0.1 with a realm of the test's own (kdc.py),
Debian's slapd with a keytab for ldap/127.0.0.1 and an olcAuthzRegexp mapping each host
principal to its host account (so the shipped access rules apply to it), the real module in
real libpam (fleet.py, ldapfleet.py), and pam_passkey_directory, whose bind is the only
thing that talks Kerberos. The hosts' password files are removed: a host that did not bind
with its keytab could not bind at all.
"""
import json
import os
import pathlib
import time

import pytest

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt
from kdc import KDC
from ldapfleet import HOSTS, SUFFIX, directory_program, directory_record, forget_failures, ldap_host, queue, second_host_enrolls, start_directory
from test_directory import BOUND, PIN_A, PIN_B, TIMEOUT, ctl, timed_login

DOMAIN = "pam-passkey.test"
# host/NAME.pam-passkey.test (in the directory's default realm) is the host account cn=NAME:
# the rule a site with FQDN-named hosts writes once for all of them.
HOST_RULE = (r"uid=host/([^.,/]+)\.pam-passkey\.test,cn=gssapi,cn=auth", f"cn=$1,{HOSTS}")


def start_realm_and_directory():
    kdc = KDC().start()
    try:
        kdc.add_principal("ldap/127.0.0.1")
        keytab = kdc.keytab(kdc.dir / "slapd.keytab", "ldap/127.0.0.1")
        # The URI names 127.0.0.1; the bind asks for ldap/127.0.0.1 (SASL_NOCANON), and slapd's
        # GSSAPI acceptor is named for the same host (olcSaslHost).
        directory = start_directory(env={"KRB5_KTNAME": f"FILE:{keytab}", "KRB5_CONFIG": str(kdc.krb5_conf)},
                                    sasl_host="127.0.0.1", authz_regexp=[HOST_RULE])
    except BaseException:
        kdc.remove()
        raise
    return kdc, directory


@pytest.fixture(scope="module")
def realm():
    kdc, directory = start_realm_and_directory()
    try:
        yield kdc, directory
    finally:
        directory.remove()
        kdc.remove()


@pytest.fixture
def own_realm():
    """A KDC and a slapd of this test's own, to stop and pause."""
    kdc, directory = start_realm_and_directory()
    try:
        yield kdc, directory
    finally:
        directory.remove()
        kdc.remove()


def gssapi_host(fleet, kdc, directory, name, **policy):
    """ldapfleet.ldap_host with ldap_bind = gssapi: a principal host/NAME.pam-passkey.test in
    the KDC, its key in the host's own keytab (root, 0600), the realm's krb5.conf, and no
    password file."""
    h = ldap_host(fleet, directory, name, **policy)
    h.principal_name = f"host/{name}.{DOMAIN}"
    h.principal = kdc.principal(h.principal_name)
    kdc.run("/usr/sbin/kadmin.local", "-r", kdc.realm, "-q", f"delprinc -force {h.principal}", check=False)
    kdc.add_principal(h.principal_name)
    h.keytab = kdc.keytab(h.dir / "krb5.keytab", h.principal_name)
    h.password_file.unlink()
    h.set_policy(ldap_bind="gssapi", ldap_keytab=str(h.keytab), ldap_krb5_conf=str(kdc.krb5_conf))
    return h


def ccaches():
    return sorted(p.name for p in pathlib.Path("/tmp").glob("krb5cc*"))


def test_second_device_story_with_kerberos_binds(fleet, realm, make_account, syslog):
    kdc, directory = realm
    alice = make_account("alice")
    before = ccaches()
    a, b = gssapi_host(fleet, kdc, directory, "host-a"), gssapi_host(fleet, kdc, directory, "host-b")
    assert kdc.keytab_principals(a.keytab) == [a.principal]

    # A: password, offer, PIN setup. The credential reaches the directory, written by host-a.
    r = a.login(alice, [alice.password, "y", PIN_A, PIN_A])
    assert r.ok, r
    assert r.transcript == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN,
                            ("info", "Passkey created. Next time you can sign in here with your PIN.")], r
    assert [c["hostName"] for c in directory_record(directory, alice)["credentials"]] == ["host-a"]
    assert queue(a) == []

    # B has never seen alice: it asks the directory (bound as host-b) and knows where her passkey is.
    second_host_enrolls(b, alice, PIN_B, directory)
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    assert ctl(a, "sync").returncode == 0 and queue(a) == []

    # Each host got its tickets from the KDC with its own key: an AS exchange for its
    # principal, a service ticket for ldap/127.0.0.1.
    log = kdc.log_lines()
    for host in (a, b):
        assert any("AS_REQ" in l and "ISSUE" in l and f"{host.principal} for krbtgt/" in l for l in log), log[-5:]
        assert any("TGS_REQ" in l and "ISSUE" in l and f"{host.principal} for ldap/127.0.0.1@{kdc.realm}" in l for l in log)
    # The tickets stayed in the program's memory: no credential cache was written.
    assert ccaches() == before
    lines = syslog.read()
    assert not any(PIN_A in l or PIN_B in l or alice.password in l for l in lines)


def test_status_shows_the_kerberos_identity(fleet, realm):
    kdc, directory = realm
    a = gssapi_host(fleet, kdc, directory, "host-a")
    r = ctl(a, "status", "--json")
    registry = json.loads(r.stdout)["registry"]
    assert registry["reachable"] is True, registry
    assert registry["bind"] == f"GSSAPI (keytab {a.keytab})"
    assert registry["bound_as"] == a.principal and registry["directory_identity"] == a.account_dn, registry
    text = ctl(a, "status").stdout
    assert f"bound as {a.principal}; directory identity {a.account_dn}" in text, text

    # A principal no rule maps: the directory knows it only as itself, and status says the
    # access rules give it nothing.
    c = gssapi_host(fleet, kdc, directory, "host-c")
    kdc.add_principal("host/host-c.elsewhere.test")
    kdc.keytab(c.keytab.with_name("other.keytab"), "host/host-c.elsewhere.test")
    c.set_policy(ldap_keytab=str(c.keytab.with_name("other.keytab")))
    registry = json.loads(ctl(c, "status", "--json").stdout)["registry"]
    assert registry["reachable"] is False, registry
    assert registry["bound_as"] == kdc.principal("host/host-c.elsewhere.test"), registry
    assert registry["directory_identity"] == "uid=host/host-c.elsewhere.test,cn=gssapi,cn=auth", registry
    text = ctl(c, "status").stdout
    assert (f"bound as {kdc.principal('host/host-c.elsewhere.test')}; directory identity uid=host/host-c.elsewhere.test,"
            "cn=gssapi,cn=auth (no olcAuthzRegexp maps it to this host's account") in text, text


def test_ldap_krb5_principal_picks_the_principal_of_a_keytab_with_several(fleet, realm):
    """A keytab whose first principal is not the host's (a service's key was extracted into
    it first): by default the first binds, and no rule maps it; ldap_krb5_principal names
    the host's, with or without its realm."""
    kdc, directory = realm
    a = gssapi_host(fleet, kdc, directory, "host-a")
    nfs = "nfs/host-a.pam-passkey.test"
    kdc.run("/usr/sbin/kadmin.local", "-r", kdc.realm, "-q", f"delprinc -force {kdc.principal(nfs)}", check=False)
    kdc.add_principal(nfs)
    mixed = a.dir / "mixed.keytab"
    kdc.keytab(mixed, nfs)
    kdc.run("/usr/sbin/kadmin.local", "-r", kdc.realm, "-q", f"ktadd -k {mixed} -norandkey {a.principal}")
    assert kdc.keytab_principals(mixed) == [kdc.principal(nfs), a.principal]
    a.set_policy(ldap_keytab=str(mixed))
    registry = json.loads(ctl(a, "status", "--json").stdout)["registry"]
    assert registry["bound_as"] == kdc.principal(nfs) and registry["reachable"] is False, registry

    for name in (a.principal, a.principal_name):
        a.set_policy(ldap_krb5_principal=name)
        registry = json.loads(ctl(a, "status", "--json").stdout)["registry"]
        assert registry["reachable"] is True, registry
        assert registry["bound_as"] == a.principal and registry["directory_identity"] == a.account_dn, registry
        assert registry["bind"] == f"GSSAPI (keytab {mixed}, principal {name})"

    a.set_policy(ldap_krb5_principal="host/other.pam-passkey.test")
    r = check(a)
    assert r.returncode == 2, r
    assert (f"ldap_keytab {mixed} has no key for ldap_krb5_principal host/other.pam-passkey.test (it holds "
            f"{kdc.principal(nfs)}, {a.principal}); fix:") in r.stdout, r.stdout


def test_the_access_rules_hold_for_a_kerberos_bound_host(fleet, realm, make_account):
    """Host B, bound with its keytab: the directory refuses its forged writes to host A's
    credential (a sign count, a revocation), keeps A's credential as it was, and takes B's own."""
    kdc, directory = realm
    alice = make_account("alice")
    a, b = gssapi_host(fleet, kdc, directory, "host-a"), gssapi_host(fleet, kdc, directory, "host-b")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert b.login(alice, [alice.password, "y", PIN_B, PIN_B]).ok
    before = {c["hostName"]: c for c in directory_record(directory, alice)["credentials"]}
    now = int(time.time())
    d = b.state / "directory-queue"
    forged = [{"kind": "login", "credentialIDs": [before["host-a"]["id"]], "signCount": 4_000_000},
              {"kind": "revoke", "credentialIDs": [before["host-a"]["id"]], "revokedBy": "host-b"}]
    for i, w in enumerate(forged):
        name = d / f"{i + 1:020d}-0000000001.json"
        name.write_text(json.dumps({"user": alice.name, "time": now, "host": "host-b", **w}))
        os.chmod(name, 0o600)
    assert b.login(alice, [PIN_B]).ok
    r = ctl(b, "sync")
    assert r.returncode == 0 and "2 writes refused" in r.stdout, r
    after = {c["id"]: c for c in directory_record(directory, alice)["credentials"]}
    assert after[before["host-a"]["id"]] == before["host-a"], "host-a's credential untouched"
    assert after[before["host-b"]["id"]]["signCount"] > before["host-b"]["signCount"]


def check(host):
    return directory_program(host, "check")


def test_a_keytab_others_can_read_is_refused_and_each_failure_names_its_fix(fleet, realm, make_account):
    kdc, directory = realm
    alice = make_account("alice")
    a = gssapi_host(fleet, kdc, directory, "host-a")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok

    # Readable by its group: never used, and the message says how to fix it.
    os.chmod(a.keytab, 0o640)
    r = check(a)
    assert r.returncode == 2, r
    assert r.stdout.strip().endswith(f"ldap_keytab {a.keytab} can be read by group or others (mode 0640): whoever reads it "
                                     f"can bind to the directory as this host, so it is not used; fix: chmod 600 {a.keytab}"), r.stdout
    status = ctl(a, "status")
    assert "can be read by group or others" in status.stdout, status.stdout
    # Logins go on from the cache meanwhile.
    forget_failures(a)
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    os.chmod(a.keytab, 0o600)
    assert check(a).returncode == 0

    # Missing.
    a.set_policy(ldap_keytab=str(a.dir / "absent.keytab"))
    r = check(a)
    assert r.returncode == 2 and f"ldap_keytab {a.dir / 'absent.keytab'} does not exist; fix: join the host" in r.stdout, r.stdout
    a.set_policy(ldap_keytab=str(a.keytab))

    # A krb5.conf others may write (they could name a KDC of their own): refused too.
    conf = a.dir / "krb5.conf"
    conf.write_text(kdc.krb5_conf.read_text())
    os.chmod(conf, 0o666)
    a.set_policy(ldap_krb5_conf=str(conf))
    r = check(a)
    assert r.returncode == 2 and f"ldap_krb5_conf: {conf} is writable by group or others (mode 0666); fix: chmod go-w {conf}" in r.stdout, r.stdout
    os.chmod(conf, 0o644)
    assert check(a).returncode == 0

    # A stale keytab: the host's key was made anew elsewhere (ktadd randomizes it), this
    # keytab still has the old one.
    kdc.keytab(a.dir / "new.keytab", a.principal_name)
    r = check(a)
    assert r.returncode == 2, r
    assert (f"the key in ldap_keytab {a.keytab} for {a.principal} is not the KDC's (an old key version?); "
            "fix: extract it again") in r.stdout, r.stdout
    a.set_policy(ldap_keytab=str(a.dir / "new.keytab"))
    assert check(a).returncode == 0
    a.set_policy(ldap_keytab=str(a.keytab))
    os.replace(a.dir / "new.keytab", a.keytab)

    # A principal the KDC no longer knows (the host was deleted from the realm).
    kdc.delete_principal(a.principal_name)
    r = check(a)
    assert r.returncode == 2, r
    assert f"the KDC does not know {a.principal}, the principal that binds (from ldap_keytab {a.keytab}); fix: create it" in r.stdout, r.stdout
    assert len(r.stdout.strip().splitlines()) == 1


def test_a_directory_without_kerberos_refuses_with_a_clear_line(fleet, realm):
    """slapd with no keytab of its own (no GSSAPI acceptor): the bind fails and says where."""
    kdc, _ = realm
    missing = kdc.dir / "no-such.keytab"
    plain = start_directory(env={"KRB5_KTNAME": f"FILE:{missing}", "KRB5_CONFIG": str(kdc.krb5_conf)}, sasl_host="127.0.0.1")
    try:
        a = gssapi_host(fleet, kdc, plain, "host-a")
        start = time.monotonic()
        r = check(a)
        assert time.monotonic() - start < BOUND
        assert r.returncode == 2, r
        line = r.stdout.strip()
        assert len(line.splitlines()) == 1, line
        assert "SASL GSSAPI bind" in line and f"Key table file '{missing}' not found" in line, line
        assert "the directory server refused the Kerberos bind (the reason above is its own); fix: on the server, give slapd" in line
    finally:
        plain.remove()


def test_a_stopped_or_hung_kdc_bounds_the_login_and_the_pin_still_works(fleet, own_realm, make_account):
    kdc, directory = own_realm
    alice = make_account("alice")
    # registry_refresh = 0: every login asks the directory, so every login needs a ticket
    # (the MEMORY: cache lives as long as one run of the program).
    a = gssapi_host(fleet, kdc, directory, "host-a", registry_refresh="0s")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok

    # Hung: the KDC receives and never answers.
    kdc.pause()
    try:
        r, took = timed_login(a, alice, [PIN_A])
        assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
        # It waited for the ticket until the bind's deadline (a quarter of a second before
        # registry_timeout), and no longer.
        assert TIMEOUT - 0.5 < took < BOUND, took
        forget_failures(a)
        start = time.monotonic()
        r = ctl(a, "status", "--json")
        assert time.monotonic() - start < BOUND + 5
        assert json.loads(r.stdout)["registry"]["reachable"] is False
        # Run by hand, with no caller to kill it, the program still ends before
        # registry_timeout, and says what did not answer.
        start = time.monotonic()
        r = check(a)
        took = time.monotonic() - start
        assert TIMEOUT - 0.5 < took < TIMEOUT, took
        assert r.returncode == 2, r
        assert r.stdout == (f"directory {directory.uri}: SASL GSSAPI bind: no answer within 1.75 s (registry_timeout): a KDC that "
                            f"ldap_krb5_conf {kdc.krb5_conf} names did not answer, or the directory hung in the bind; fix: check "
                            f"that the KDC answers (KRB5_CONFIG={kdc.krb5_conf} kinit -k -t {a.keytab} {a.principal}), then the "
                            "directory\n"), r.stdout
    finally:
        kdc.resume()

    # Stopped: nobody listens; the bind fails at once and says which KDC to look at.
    kdc.stop()
    forget_failures(a)
    r, took = timed_login(a, alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    assert took < BOUND, took
    r = check(a)
    assert r.returncode == 2 and "no KDC of the realm answered; fix:" in r.stdout and str(kdc.krb5_conf) in r.stdout, r.stdout

    # Back: the queued writes go out with the next sync, bound as host-a again.
    kdc.restart()
    assert len(queue(a)) >= 2
    r = directory_program(a, "sync")
    assert r.returncode == 0, r.stdout
    assert queue(a) == []
