"""registry = ldap through the real module in real libpam, the real helper, pam_unix, and
Debian's slapd with the shipped schema and access rules (ldapfleet.py): hosts learn each
other's passkeys from the directory, through pam_passkey_directory and each host's cache."""
import os
import time

import pytest

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt
from ldapfleet import directory_program, directory_record, ldap_host, queue, running_directory, second_host_enrolls, start_directory

PIN_A, PIN_B = "482913", "605718"


@pytest.fixture(scope="module")
def directory():
    with running_directory() as s:
        yield s


def test_second_device_story_through_the_directory(fleet, directory, make_account, syslog):
    alice = make_account("alice")
    a, b = ldap_host(fleet, directory, "host-a"), ldap_host(fleet, directory, "host-b")

    # A: password, offer, PIN setup. The credential reaches the directory.
    r = a.login(alice, [alice.password, "y", PIN_A, PIN_A])
    assert r.ok, r
    assert r.transcript == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN,
                            ("info", "Passkey created. Next time you can sign in here with your PIN.")], r
    assert [c["hostName"] for c in directory_record(directory, alice)["credentials"]] == ["host-a"]
    assert queue(a) == []

    # A again: the PIN alone.
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # B has never seen alice: it asks the directory, and knows where her passkey is.
    second_host_enrolls(b, alice, PIN_B, directory)

    r = b.login(alice, [PIN_B])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # Offers reached the directory at once; sign counts and last uses are queued until the
    # next refresh of alice on that host, or a sync: then each from its own host.
    assert len(queue(a)) == 2 and len(queue(b)) == 1
    for host in (a, b):
        assert ctl(host, "sync").returncode == 0
    record = directory_record(directory, alice)
    for c in record["credentials"]:
        assert c["signCount"] >= 1 and c["lastUsed"]["host"] == c["hostName"], c
    assert [o["answer"] for o in record["offers"]["recent"]] == ["accepted", "accepted"], record["offers"]
    assert queue(a) == [] and queue(b) == []
    # Nothing went through a files registry; each host has its cache, with the sync time.
    assert list(fleet.registry.iterdir()) == []
    assert (a.cache / f"{alice.name}.json").exists() and (b.cache / f"{alice.name}.synced").exists()
    lines = syslog.read()
    assert any("decision=step_aside reason=credentials_elsewhere" in l for l in lines), lines
    assert not any(PIN_A in l or PIN_B in l or alice.password in l or a.account_password in l for l in lines)


@pytest.fixture
def own_directory():
    """A slapd of this test's own, to stop and pause."""
    with running_directory() as s:
        yield s


def timed_login(host, user, answers, **kwargs):
    start = time.monotonic()
    r = host.login(user, answers, **kwargs)
    return r, time.monotonic() - start


TIMEOUT = 2.0   # registry_timeout in ldapfleet
BOUND = TIMEOUT + 0.5


def test_directory_stopped_then_hung_logins_are_bounded_and_queued_writes_arrive(fleet, own_directory, make_account):
    from ldapfleet import forget_failures, restart
    directory = own_directory
    alice, bob = make_account("alice"), make_account("bob")
    # registry_refresh = 0: every login asks the directory first (the worst case for waiting).
    a = ldap_host(fleet, directory, "host-a", registry_refresh="0s")
    b = ldap_host(fleet, directory, "host-b", registry_refresh="0s")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert b.login(alice, [alice.password, "y", PIN_B, PIN_B]).ok
    counts = {c["hostName"]: c["signCount"] for c in directory_record(directory, alice)["credentials"]}

    # Stopped: connection refused. PIN logins from the cache on both hosts, quickly.
    directory.stop()
    for host, pin in ((a, PIN_A), (b, PIN_B)):
        r, took = timed_login(host, alice, [pin])
        assert r.ok and r.transcript == [pin_prompt(alice, host.name)], r
        assert took < BOUND, took
    # A user this host never synced: no cache to trust, so the passkey steps aside; the password works.
    r, took = timed_login(b, bob, [bob.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert took < 2 * BOUND, took
    assert len(queue(a)) >= 1 and len(queue(b)) >= 1

    # Hung: slapd accepts connections (the kernel's backlog) and answers nothing.
    restart(directory)
    directory.pause()
    try:
        for host, pin in ((a, PIN_A), (b, PIN_B)):
            forget_failures(host)
            r, took = timed_login(host, alice, [pin])
            assert r.ok and r.transcript == [pin_prompt(alice, host.name)], r
            assert TIMEOUT - 0.2 < took < BOUND, took
        # Another login right after does not wait again (the failure is remembered a while).
        r, took = timed_login(a, alice, [PIN_A])
        assert r.ok and took < 1.0, (r, took)
        # A password login (authenticate and setcred) waits once, at most.
        forget_failures(b)
        r, took = timed_login(b, bob, [bob.password])
        assert r.ok and r.transcript == [PASSWORD], r
        assert took < BOUND, took
    finally:
        directory.resume()

    # Back: a sync sends what was queued, in order, and nothing is lost.
    queued_a, queued_b = len(queue(a)), len(queue(b))
    assert queued_a >= 2 and queued_b >= 2, (queued_a, queued_b)
    for host in (a, b):
        r = directory_program(host, "sync")
        assert r.returncode == 0, r.stdout + r.stderr
        assert queue(host) == []
    after = {c["hostName"]: c for c in directory_record(directory, alice)["credentials"]}
    assert after["host-a"]["signCount"] == counts["host-a"] + 3, (counts, after)
    assert after["host-b"]["signCount"] == counts["host-b"] + 2, (counts, after)
    assert after["host-a"]["lastUsed"]["host"] == "host-a" and after["host-b"]["lastUsed"]["host"] == "host-b"
    # And logins ask the directory again: the refresh before this login sent what was
    # queued; this login's own counter waits for the next one.
    forget_failures(a)
    stamp = (a.cache / f"{alice.name}.synced").read_text()
    time.sleep(1)
    r = a.login(alice, [PIN_A])
    assert r.ok and len(queue(a)) == 1, r
    assert (a.cache / f"{alice.name}.synced").read_text() != stamp


def test_a_cache_older_than_max_offline_steps_aside_while_the_directory_is_down(fleet, own_directory, make_account, syslog):
    directory = own_directory
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a", registry_max_offline="7d")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    directory.stop()
    # Within registry_max_offline the cache serves.
    synced = a.cache / f"{alice.name}.synced"
    synced.write_text(f"{int(time.time()) - 6 * 86400}\n")
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    # Past it, with the directory down: the passkey steps aside with its own reason.
    synced.write_text(f"{int(time.time()) - 8 * 86400}\n")
    r, took = timed_login(a, alice, [alice.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert took < BOUND, took
    lines = syslog.read()
    assert any("decision=step_aside reason=registry_offline" in l and alice.name in l for l in lines), lines


def ctl(host, *args, timeout=120):
    import subprocess
    return subprocess.run([str(host.build_dir / "passkeyctl"), args[0], "--conf", str(host.conf), *args[1:]],
                          capture_output=True, text=True, timeout=timeout)


def test_revocations_reach_the_directory_and_every_host(fleet, directory, make_account):
    """passkeyctl revoke on a host, and an administrator's ldapmodify: each stops the
    credential on the other host within registry_refresh."""
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a", registry_refresh="1s")
    b = ldap_host(fleet, directory, "host-b", registry_refresh="1s")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert b.login(alice, [alice.password, "y", PIN_B, PIN_B]).ok
    r = b.login(alice, [PIN_B])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r

    # On A, A's own passkey: revoked in the directory at once (the host may revoke its own).
    r = ctl(a, "revoke", alice.name, "--host", "host-a")
    assert r.returncode == 0, r.stderr
    states = {c["hostName"]: c["revoked"] for c in directory_record(directory, alice)["credentials"]}
    assert states == {"host-a": True, "host-b": False}, states
    assert queue(a) == []

    # An administrator revokes B's passkey in the directory; B stops using it within registry_refresh.
    from ldaprecords import credential_dn
    from ldapfleet import BASE
    b_id = [c["id"] for c in directory_record(directory, alice)["credentials"] if c["hostName"] == "host-b"][0]
    directory.modify(f"dn: {credential_dn(alice.name, b_id, BASE)}\nchangetype: modify\n"
                     "delete: pamPasskeyState\npamPasskeyState: active\n-\nadd: pamPasskeyState\npamPasskeyState: revoked\n")
    time.sleep(1.1)
    r = b.login(alice, [alice.password, "n"])
    assert r.ok and r.transcript[0] == PASSWORD, r


def test_writes_the_access_rules_refuse_are_set_aside_and_block_nothing(fleet, directory, make_account):
    """Host B, bound as itself, through pam_passkey_directory: it cannot move host A's sign
    count, plant a credential bound to A, or revoke A's credential. Each forged write in B's
    queue is refused by slapd, kept aside as .rejected-*, and B's own writes still go through."""
    import copy
    import json
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a")
    b = ldap_host(fleet, directory, "host-b")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert b.login(alice, [alice.password, "y", PIN_B, PIN_B]).ok
    before = {c["hostName"]: c for c in directory_record(directory, alice)["credentials"]}
    cache = json.loads((b.cache / f"{alice.name}.json").read_text())
    planted = copy.deepcopy([c for c in cache["credentials"] if c["hostName"] == "host-a"][0])
    planted["id"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    now = int(time.time())
    forged = [
        {"kind": "login", "credentialIDs": [before["host-a"]["id"]], "signCount": 4_000_000},
        {"kind": "register", "credential": planted, "credentialIDs": []},
        {"kind": "revoke", "credentialIDs": [before["host-a"]["id"]], "revokedBy": "host-b"},
    ]
    d = b.state / "directory-queue"
    names = []
    for i, w in enumerate(forged):
        name = f"{i + 1:020d}-0000000001.json"
        (d / name).write_text(json.dumps({"user": alice.name, "time": now, "host": "host-b", **w}))
        os.chmod(d / name, 0o600)
        names.append(name)
    r = b.login(alice, [PIN_B])
    assert r.ok, r
    r = ctl(b, "sync")
    assert r.returncode == 0 and "3 writes refused" in r.stdout, r
    after = {c["id"]: c for c in directory_record(directory, alice)["credentials"]}
    assert set(after) == {before["host-a"]["id"], before["host-b"]["id"]}, "nothing planted"
    assert after[before["host-a"]["id"]] == before["host-a"], "host-a's credential untouched"
    assert after[before["host-b"]["id"]]["signCount"] > before["host-b"]["signCount"]
    assert queue(b) == [] and all((d / f".rejected-{n}").exists() for n in names)


def test_concurrent_writers_lose_no_sign_count_and_no_offer(fleet, directory, make_account):
    """Two hosts, each with 200 queued logins (increasing counters) and 200 offers, pushed by
    several runs at once: the counters end at the highest, and every offer is in the log once."""
    import json
    import subprocess
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a")
    b = ldap_host(fleet, directory, "host-b")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert b.login(alice, [alice.password, "y", PIN_B, PIN_B]).ok
    creds = {c["hostName"]: c for c in directory_record(directory, alice)["credentials"]}
    offers_before = len(directory_record(directory, alice)["offers"]["recent"])
    now = int(time.time())
    n = 200
    for host in (a, b):
        d = host.state / "directory-queue"
        for i in range(n):
            for kind, extra in (("login", {"credentialIDs": [creds[host.name]["id"]], "signCount": 10 + i}),
                                ("offer", {"answer": "declined", "service": "login"})):
                w = {"kind": kind, "user": alice.name, "time": now + i, "host": host.name, **extra}
                name = d / f"{(now + i) * 10**9 + (kind == 'offer'):020d}-{os.getpid():010d}.json"
                name.write_text(json.dumps(w))
                os.chmod(name, 0o600)
    runs = [subprocess.Popen([str(h.build_dir / "pam_passkey_directory"), "--conf", str(h.conf), "push"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for h in (a, b, a, b)]
    for p in runs:
        p.wait(120)
    for h in (a, b):
        r = directory_program(h, "push", timeout=120)
        assert r.returncode == 0, r.stdout
        assert queue(h) == []
    record = directory_record(directory, alice)
    after = {c["hostName"]: c for c in record["credentials"]}
    assert after["host-a"]["signCount"] == 10 + n - 1 and after["host-b"]["signCount"] == 10 + n - 1, after
    assert len(record["offers"]["recent"]) == offers_before + 2 * n, len(record["offers"]["recent"])


def test_passkeyctl_sync_and_status(fleet, own_directory, make_account):
    import json
    directory = own_directory
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    status = json.loads(ctl(a, "status", "--json").stdout)
    assert status["registry"]["backend"] == "ldap" and status["registry"]["reachable"] is True, status["registry"]
    assert status["registry"]["queued_writes"] == 0 and status["registry"]["cached_users"] == 1
    directory.pause()
    try:
        start = time.monotonic()
        status = json.loads(ctl(a, "status", "--json").stdout)
        assert time.monotonic() - start < 10
        assert status["registry"]["reachable"] is False
        r = a.login(alice, [PIN_A])
        assert r.ok, r
    finally:
        directory.resume()
    assert len(queue(a)) == 1
    r = ctl(a, "sync")
    assert r.returncode == 0 and "sent 1 queued writes" in r.stdout, r
    assert queue(a) == []
    r = ctl(a, "sync", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["queued"] == 0, r


def test_a_host_binding_with_sasl_external_over_ldapi(fleet, own_directory, make_account):
    """ldap_bind = sasl_external (the default): slapd maps the peer credentials of
    pam_passkey_directory (root) on its ldapi socket to the host's account, and the access
    rules apply to that account: the enrollment is accepted as host-a's, and host-b sees it."""
    directory = own_directory
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a")
    b = ldap_host(fleet, directory, "host-b")
    # After this, root on the ldapi socket is host-a (and no longer manages cn=config).
    directory.config_modify("dn: cn=config\nchangetype: modify\nadd: olcAuthzRegexp\nolcAuthzRegexp: "
                            f'"gidNumber=0\\+uidNumber=0,cn=peercred,cn=external,cn=auth" "{a.account_dn}"\n')
    a.set_policy(ldap_bind="sasl_external", ldap_uri=directory.ldapi)
    r = ctl(a, "status", "--json")
    import json
    assert json.loads(r.stdout)["registry"]["reachable"] is True, r.stdout
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert [c["hostName"] for c in directory_record(directory, alice)["credentials"]] == ["host-a"]
    r = b.login(alice, [alice.password, "n"])
    assert r.ok and r.transcript[0] == ("info", "Your passkey is on another computer (host-a)."), r


def test_registry_online_required_never_trusts_the_cache_alone(fleet, own_directory, make_account, syslog):
    directory = own_directory
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a", registry_online="required")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    directory.stop()
    r, took = timed_login(a, alice, [alice.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert took < 2 * BOUND, took
    assert any("reason=registry_offline" in l and "registry_online = required" in l for l in syslog.read())


def test_a_socket_that_never_answers_bounds_the_login(fleet, directory, make_account):
    """ldap_uri at a loopback socket that listens and never answers (the kernel completes the
    connect): a user this host has a fresh-enough cache for signs in with the PIN, one it never
    synced gets the password; neither waits more than registry_timeout + 0.5 s."""
    import socket
    alice, bob = make_account("alice"), make_account("bob")
    a = ldap_host(fleet, directory, "host-a")
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        a.set_policy(ldap_uri=f"ldap://127.0.0.1:{silent.getsockname()[1]}/", registry_refresh="0s")
        r, took = timed_login(a, alice, [PIN_A])
        assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
        assert TIMEOUT - 0.2 < took < BOUND, took
        from ldapfleet import forget_failures
        forget_failures(a)
        r, took = timed_login(a, bob, [bob.password])
        assert r.ok and r.transcript == [PASSWORD], r
        assert took < BOUND, took
    finally:
        silent.close()


def test_a_security_keys_counter_reaches_the_directory_at_its_login(fleet, directory, make_account, tmp_path):
    """A key signs on every host, and each host checks the counter it last read: so its
    count is sent at the login, not left for the next refresh as a host-bound passkey's is."""
    import json
    import subprocess
    from securitykey import virtual_key
    key_pin, link = "271828", tmp_path / "securitykey"
    alice = make_account("alice")
    a = ldap_host(fleet, directory, "host-a", security_keys=str(link), security_key_timeout="5s")
    b = ldap_host(fleet, directory, "host-b", security_keys=str(link), security_key_timeout="5s")
    with virtual_key(pin=key_pin, link=link) as key:
        r = subprocess.run([str(a.build_dir / "passkeyctl"), "enroll", alice.name, "--security-key", "--pin-stdin", "--json",
                            "--conf", str(a.conf)], input=f"{key_pin}\n", capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        made = json.loads(r.stdout)["credential"]
        last = 0
        for host in (a, b):
            assert host.login(alice, [key_pin]).ok
            # The count the login verified (the key's own counter also moves with each silent
            # probe) is in the directory already, and nothing waits in the queue.
            [mine] = json.loads((host.cache / f"{alice.name}.json").read_text())["credentials"]
            [c] = directory_record(directory, alice)["credentials"]
            assert c["signCount"] == mine["signCount"] > last and c["lastUsed"]["host"] == host.name, (c, mine)
            assert queue(host) == [] and not list((host.state / "directory-queue").glob(".rejected-*"))
            last = c["signCount"]
    assert made["id"] == c["id"]
    # A passkey bound to the host: its counter waits in the queue for the next refresh.
    assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
    assert a.login(alice, [PIN_A]).ok
    assert [json.loads((a.state / "directory-queue" / n).read_text())["kind"] for n in queue(a)] == ["login"]


def test_the_ca_certificates_for_ldaps_are_checked_as_roots_files(fleet, directory, make_account, tmp_path):
    """Over TLS, ldap_tls_cacert decides which server the host gives its bind to: a file
    others may write, a link or a missing file is refused before any connection, and libldap
    reads the copy that was checked."""
    import shutil
    import subprocess
    from slapd import free_port
    h = ldap_host(fleet, directory, "host-a")
    certs = tmp_path / "certs"
    certs.mkdir(mode=0o755)
    ca = certs / "ca.pem"
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", ca)
    os.chmod(ca, 0o644)
    h.set_policy(ldap_uri=f"ldaps://127.0.0.1:{free_port()}/", ldap_tls_cacert=str(ca))

    def check():
        return directory_program(h, "check")

    r = check()   # nothing listens there: the file passed, the connection did not
    assert r.returncode == 2 and "Can't contact LDAP server" in r.stdout, r
    os.chmod(ca, 0o664)
    r = check()
    assert r.returncode == 2 and "ldap_tls_cacert" in r.stdout and str(ca) in r.stdout and "Can't contact" not in r.stdout, r
    os.chmod(ca, 0o644)
    os.rename(ca, certs / "real.pem")
    os.symlink(certs / "real.pem", ca)
    r = check()
    assert r.returncode == 2 and "ldap_tls_cacert" in r.stdout and "Can't contact" not in r.stdout, r
    os.unlink(ca)
    r = check()
    assert r.returncode == 2 and f"ldap_tls_cacert {ca} does not exist" in r.stdout, r
    # Without TLS the file is not read at all.
    h.set_policy(ldap_uri=directory.uri)
    assert check().returncode == 0


def make_ca(where, name):
    """A CA and a server certificate it signed for 127.0.0.1 (PEM files)."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: where / f"{name}-{n}.pem" for n in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    for n, p in paths.items():
        os.chmod(p, 0o600 if n == "key" else 0o644)
    return paths


def test_a_host_over_ldaps_trusts_only_the_configured_ca(fleet, make_account, tmp_path):
    """registry = ldap over ldaps://: with ldap_tls_cacert naming the directory's CA the
    second-device story works; with another CA the host refuses the server and steps aside
    to the password, never sending its bind."""
    certs = tmp_path / "certs"
    certs.mkdir(mode=0o755)
    ours, other = make_ca(certs, "fleet-ca"), make_ca(certs, "other-ca")
    tls_directory = start_directory(tls=(str(ours["cert"]), str(ours["key"])))
    try:
        alice = make_account("alice")
        a = ldap_host(fleet, tls_directory, "host-a")
        a.set_policy(ldap_uri=tls_directory.ldaps_uri, ldap_tls_cacert=str(ours["ca"]))
        r = directory_program(a, "check")
        assert r.returncode == 0 and r.stdout.startswith("reachable; bound as cn=host-a"), r
        assert a.login(alice, [alice.password, "y", PIN_A, PIN_A]).ok
        assert [c["hostName"] for c in directory_record(tls_directory, alice)["credentials"]] == ["host-a"]

        b = ldap_host(fleet, tls_directory, "host-b")
        b.set_policy(ldap_uri=tls_directory.ldaps_uri, ldap_tls_cacert=str(other["ca"]))
        r = directory_program(b, "check")
        assert r.returncode == 2 and "Can't contact LDAP server" in r.stdout, r
        assert f"does not chain to ldap_tls_cacert ({other['ca']})" in r.stdout and "openssl s_client" in r.stdout, r
        # B cannot vouch for alice's record: the passkey steps aside and the password decides.
        r = b.login(alice, [alice.password, "n"])
        assert r.ok and r.transcript[0] == PASSWORD, r
    finally:
        tls_directory.remove()
