"""The second-device flow (docs/ARCHITECTURE.md) inside real libpam (pam_start_confdir in this
process), with a real account, the real helper process and pam_unix for the password. Two
simulated hosts share one registry. Every prompt and message the user sees is asserted."""
import pamdriver
from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt

PIN_A, PIN_B = "482913", "605718"


def test_second_device_story(fleet, make_account, syslog):
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")

    # 1. First login on A: password, offer, PIN setup.
    r = a.login(alice, [alice.password, "y", PIN_A, PIN_A])
    assert r.ok, r
    assert r.transcript == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN,
                            ("info", "Passkey created. Next time you can sign in here with your PIN.")], r
    creds = fleet.credentials(alice)
    assert [c["hostName"] for c in creds] == ["host-a"]

    # 2. Next login on A: the PIN alone.
    r = a.login(alice, [PIN_A])
    assert r.ok, r
    assert r.transcript == [pin_prompt(alice, "host-a")], r

    # 3. On B: no PIN prompt, where the passkeys are, the password, an offer, PIN setup.
    r = b.login(alice, [alice.password, "y", PIN_B, PIN_B])
    assert r.ok, r
    assert r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create(),
                            choose_pin(), CONFIRM_PIN, ("info", "Passkey created. You now have passkeys on 2 computers.")], r
    assert sorted(c["hostName"] for c in fleet.credentials(alice)) == ["host-a", "host-b"]

    # 4. B with its PIN alone; A still with its own.
    r = b.login(alice, [PIN_B])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # The sign counters moved and each use was recorded with its host.
    for c in fleet.credentials(alice):
        assert c["signCount"] >= 1 and c["lastUsed"]["host"] == c["hostName"], c

    # One syslog line per decision, none with a PIN or the password.
    lines = syslog.read()
    assert any("decision=passkey" in l and f"user=\"{alice.name}\"" in l for l in lines), lines
    assert any("decision=step_aside reason=credentials_elsewhere" in l for l in lines), lines
    assert not any(PIN_A in l or PIN_B in l or alice.password in l for l in lines)


def enrol_by_password(host, user, pin):
    """A first password login on `host` that accepts the offer and chooses `pin`."""
    r = host.login(user, [user.password, "y", pin, pin])
    assert r.ok and r.transcript[-1][0] == "info" and r.transcript[-1][1].startswith("Passkey created."), r
    return r


def wrong(n):
    return [f"{n}0{n}1{n}2"]


def test_lockout_then_password_then_heal_replaces_the_passkey(fleet, make_account):
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    enrol_by_password(a, alice, PIN_A)
    r = b.login(alice, [alice.password, "y", PIN_B, PIN_B])
    assert r.ok, r
    old_b = [c["id"] for c in fleet.credentials(alice) if c["hostName"] == "host-b"]

    # Three wrong PINs in one login (pin_max_attempts = 5): then the password.
    r = b.login(alice, ["111111", "222222", "333333", alice.password])
    assert r.ok, r
    assert r.transcript == [pin_prompt(alice, "host-b"),
                            ("error", "Wrong PIN. 4 attempts left before this passkey is locked."), pin_prompt(alice, "host-b"),
                            ("error", "Wrong PIN. 3 attempts left before this passkey is locked."), pin_prompt(alice, "host-b"),
                            ("error", "Wrong PIN. 2 attempts left before this passkey is locked."),
                            PASSWORD], r

    # Two more: locked. The password still works, and the heal offer replaces the passkey.
    new_pin = "739154"
    r = b.login(alice, ["444444", "555555", alice.password, "y", new_pin, new_pin])
    assert r.ok, r
    assert r.transcript == [pin_prompt(alice, "host-b"),
                            ("error", "Wrong PIN. 1 attempt left before this passkey is locked."), pin_prompt(alice, "host-b"),
                            ("error", "Too many wrong PINs: the passkey for this computer is locked. Use your password."),
                            PASSWORD,
                            ("prompt", "Replace your locked passkey for this computer with a new one (new PIN)? [Y/n/never] "),
                            choose_pin(), CONFIRM_PIN,
                            ("info", "Passkey created. You now have passkeys on 2 computers.")], r
    all_creds = fleet.credentials(alice, active_only=False)
    assert [c["revoked"] for c in all_creds if c["id"] in old_b] == [True]
    active_b = [c for c in fleet.credentials(alice) if c["hostName"] == "host-b"]
    assert len(active_b) == 1 and active_b[0]["id"] not in old_b

    # The old PIN is gone with the old key; the new one signs in. A is untouched.
    r = b.login(alice, [new_pin])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r


def test_no_then_never(fleet, make_account):
    bob = make_account("bob")
    a = fleet.host("host-a")
    c = fleet.host("host-c", append_snooze_days=0)

    r = a.login(bob, [bob.password, "n"])
    assert r.ok and r.transcript == [PASSWORD, offer_create()], r
    # Within append_snooze_days (14 by default, and the log is shared): no offer, anywhere
    # that keeps the default.
    r = a.login(bob, [bob.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert fleet.credentials(bob) == []

    # On a host whose policy has no snooze, the offer comes back; "never" ends it there.
    r = c.login(bob, [bob.password, "never"])
    assert r.ok and r.transcript == [PASSWORD, offer_create(), ("info", "You will not be asked again on this computer.")], r
    r = c.login(bob, [bob.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert fleet.credentials(bob) == []


def test_remote_session_gets_the_password_and_no_offer(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enrol_by_password(a, alice, PIN_A)
    r = a.login(alice, [alice.password], rhost="203.0.113.5")
    assert r.ok and r.transcript == [PASSWORD], r
    r = a.login(alice, ["not-the-password"], rhost="203.0.113.5")
    assert not r.ok and r.transcript == [PASSWORD], r
    # A user without a passkey gets no offer over a remote session either.
    carol = make_account("carol")
    r = a.login(carol, [carol.password], rhost="2001:db8::7")
    assert r.ok and r.transcript == [PASSWORD], r
    # Loopback counts as local.
    r = a.login(alice, [PIN_A], rhost="127.0.0.1")
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r


def test_wrong_password_gets_no_offer_and_no_access(fleet, make_account):
    dave = make_account("dave")
    a = fleet.host("host-a")
    r = a.login(dave, ["wrong-password", "y", PIN_A, PIN_A])
    assert not r.ok and r.transcript == [PASSWORD], r
    assert fleet.credentials(dave) == []


def test_unknown_user_looks_like_a_user_without_passkeys(fleet, make_account, syslog):
    erin = make_account("erin")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    known = b.login(erin, ["wrong-password"])
    unknown = b.login("pktnosuchuser", ["wrong-password"])
    assert known.transcript == unknown.transcript == [PASSWORD]
    assert not known.ok and not unknown.ok
    lines = [l for l in syslog.read() if "pam_passkey(login:auth)" in l]
    reasons = [l.split("decision=", 1)[1] for l in lines]
    assert reasons == ["step_aside reason=no_credentials: the user has no active passkey"] * 2, lines


def test_silent_and_no_conversation(fleet, make_account):
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    enrol_by_password(a, alice, PIN_A)
    # PAM_SILENT: no "your passkey is on host-a" line, and no offer.
    r = b.login(alice, [alice.password], flags=pamdriver.PAM_SILENT)
    assert r.ok and r.transcript == [PASSWORD], r
    # No conversation at all: the module steps aside, and nothing can grant access.
    r = a.login(alice, [], conversation=False)
    assert not r.ok and r.transcript == []


def test_faults_leave_the_password_working_and_grant_nothing_without_it(fleet, make_account, syslog, tmp_path):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enrol_by_password(a, alice, PIN_A)
    import os
    import time

    # The registry directory became writable by others: refused, the password decides.
    os.chmod(fleet.registry, 0o777)
    try:
        r = a.login(alice, [alice.password])
        assert r.ok and r.transcript == [PASSWORD], r
        r = a.login(alice, ["wrong"])
        assert not r.ok, r
    finally:
        os.chmod(fleet.registry, 0o755)
    assert any("reason=state_unreadable" in l and "chmod go-w" in l for l in syslog.read()), syslog.read()

    # The helper is missing.
    a.set_policy(helper="/usr/libexec/pam_passkey_missing/pam_passkey_helper")
    r = a.login(alice, [alice.password])
    assert r.ok and PASSWORD in r.transcript and pin_prompt(alice, "host-a") not in r.transcript, r
    r = a.login(alice, ["wrong"])
    assert not r.ok, r
    assert any("authenticator_unavailable" in l and "pam_passkey_missing" in l for l in syslog.read()), syslog.read()

    # The helper hangs: killed after helper_timeout, then the password.
    hang_dir = tmp_path / "hang"
    hang_dir.mkdir(mode=0o755)
    hanging = hang_dir / "helper"
    # A duration of its own, so that the check below finds this test's helper and no other sleep.
    nap = f"60.{os.getpid()}"
    hanging.write_text(f"#!/bin/sh\nexec sleep {nap}\n")
    os.chmod(hanging, 0o755)
    a.set_policy(helper=str(hanging), helper_timeout="2s")
    start = time.monotonic()
    r = a.login(alice, [alice.password])
    elapsed = time.monotonic() - start
    assert r.ok and PASSWORD in r.transcript, r
    assert elapsed < 10, elapsed
    r = a.login(alice, ["wrong"])
    assert not r.ok, r
    assert any("no answer within 2 s" in l for l in syslog.read()), syslog.read()

    # The helper answers garbage, and stays until the module hangs up: had it exited at once,
    # the module's request could meet a closed socket first (another failure, another line).
    hanging.write_text("#!/bin/sh\nprintf '\\000\\000\\000\\005hello'\nexec cat >/dev/null\n")
    r = a.login(alice, [alice.password])
    assert r.ok and PASSWORD in r.transcript, r
    assert any("malformed helper message" in l for l in syslog.read()), syslog.read()
    # No hung helpers are left behind.
    import subprocess
    assert subprocess.run(["pgrep", "-f", f"^sleep {nap}$"], capture_output=True).returncode == 1


def test_host_names_from_the_registry_cannot_write_to_the_terminal(fleet, make_account, syslog):
    """Whoever can write the shared registry chooses host names; they reach the user's screen
    and syslog only as printable text."""
    import json
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    enrol_by_password(a, alice, PIN_A)
    path = fleet.registry / f"{alice.name}.json"
    record = json.loads(path.read_text())
    record["credentials"][0]["hostName"] = "evil\x1b[2J\x1b]0;owned\x07\nPassword: " + "x" * 200
    path.write_text(json.dumps(record))
    r = b.login(alice, [alice.password, "n"])
    assert r.ok, r
    info = r.infos[0]
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in info), repr(info)
    assert info.startswith("Your passkey is on another computer (evil[2J]0;ownedPassword: xxx") and len(info) < 200, info
    assert not any("\x1b" in line for line in syslog.read())


def test_unknown_module_arguments_are_logged_and_ignored(fleet, make_account, syslog):
    alice = make_account("alice")
    a = fleet.host("host-a")
    a.set_stack("""auth  [success=done default=ignore]  {module} conf={conf} try_first_pass
auth  requisite                      pam_unix.so nodelay
auth  optional                       {module} conf={conf} append
""")
    r = a.login(alice, [alice.password, "n"])
    assert r.ok and r.transcript[0] == PASSWORD, r
    assert any('unknown module argument "try_first_pass" ignored' in l for l in syslog.read()), syslog.read()
