"""Faults, through real libpam, the real module and helper: the helper killed mid-operation,
the registry read-only, a full disk under the registry and under the host state, corrupted
registry and history files, timestamps from a clock that has since moved backwards. In
every case: a syslog line that says what is wrong, no PAM_SUCCESS without a proof (a wrong
password fails), the password still works, and no file is left torn — each one parses, or
is refused and left exactly as it was. (A missing, hanging or garbage-printing helper and an
unsafe registry directory are in test_pam_flow.py.)"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt

# After the PIN, a failure on pam_passkey's side: said once, then the password.
PASSKEY_FAILED = ("error", "Signing in with your passkey did not work this time. Use your password.")

PIN = "482913"
NOT_CREATED = ("error", "No passkey was created; your password still works.")


def require(tool, package):
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: run `make deps` (it installs the Debian package {package})")


@pytest.fixture
def mounts():
    """mount(args..., target): mounts for this test only, unmounted afterwards even when the
    test fails."""
    require("mount", "mount")
    made = []

    def mount(*args):
        target = args[-1]
        r = subprocess.run(["mount", *map(str, args)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail(f"mount {' '.join(map(str, args))} failed ({r.stderr.strip()}): these tests run as root "
                        "with CAP_SYS_ADMIN (a privileged container)")
        made.append(target)

    yield mount
    for target in reversed(made):
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def enrol(host, user, pin=PIN):
    r = host.login(user, [user.password, "y", pin, pin])
    assert r.ok and r.transcript[-1][1].startswith("Passkey created."), r


def snapshot(*roots):
    """Every file under `roots`, path → bytes (lock files are empty and irrelevant)."""
    return {p: p.read_bytes() for root in roots for p in sorted(pathlib.Path(root).rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def assert_intact(*roots, refused=()):
    """Nothing torn: every JSON file parses, except `refused` ones (left as they were by the
    caller's check), and no writer left a temporary file behind."""
    for root in roots:
        for p in pathlib.Path(root).rglob("*"):
            assert not p.name.endswith(".tmp"), f"temporary file left behind: {p}"
            if p.is_file() and p.suffix == ".json" and p not in refused:
                json.loads(p.read_text())


def assert_password_decides(host, user, rhost=None):
    """The password still gets in; a wrong one does not."""
    r = host.login(user, [user.password], rhost=rhost)
    assert r.ok and PASSWORD in r.transcript, r
    r = host.login(user, ["wrong-password"], rhost=rhost)
    assert not r.ok, r


def helper_children():
    """Processes started by this one that run the helper."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = pathlib.Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == me and comm.startswith("pam_passkey_hel"):
            found.append(int(entry))
    return found


def kill_helper():
    """SIGKILL the helper this process is talking to (it is waiting for an answer)."""
    pids = helper_children()
    assert len(pids) == 1, f"expected one helper child, found {pids}"
    os.kill(pids[0], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = pathlib.Path(f"/proc/{pids[0]}/stat").read_text().split(")")[1].split()[0] \
            if os.path.exists(f"/proc/{pids[0]}/stat") else "gone"
        if state in ("Z", "gone"):
            return
        time.sleep(0.01)
    raise AssertionError("the helper did not die")


# The helper killed mid-operation


def test_helper_killed_while_waiting_for_the_pin(fleet, make_account, syslog):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enrol(a, alice)

    def killed_then(password):
        def respond(kind, text):
            if (kind, text) == pin_prompt(alice, "host-a"):
                kill_helper()
                return PIN
            return password if (kind, text) == PASSWORD else None
        return respond

    # The PIN is typed, but the helper is gone: no passkey login; the password decides.
    r = a.login(alice, killed_then("wrong-password"))
    assert not r.ok and r.transcript == [pin_prompt(alice, "host-a"), PASSKEY_FAILED, PASSWORD], r
    r = a.login(alice, killed_then(alice.password))
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a"), PASSKEY_FAILED, PASSWORD], r
    lines = [l for l in syslog.read() if "reason=authenticator_failed" in l]
    assert len(lines) == 2 and all("decision=failed" in l and "helper:" in l for l in lines), syslog.read()

    # Nothing was damaged: the passkey works with its PIN, no helper is left running.
    assert_intact(fleet.registry, a.state)
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    assert helper_children() == []


def test_helper_killed_while_creating_a_passkey(fleet, make_account, syslog):
    bob = make_account("bob")
    a = fleet.host("host-a")

    def respond(kind, text):
        if (kind, text) == PASSWORD:
            return bob.password
        if (kind, text) == offer_create():
            return "y"
        if (kind, text) == choose_pin():
            kill_helper()
            return PIN
        return None

    # The password already signed bob in; the offer fails and says so; the login stands.
    r = a.login(bob, respond)
    assert r.ok and r.transcript == [PASSWORD, offer_create(), choose_pin(), NOT_CREATED], r
    assert fleet.credentials(bob) == []
    keyring = a.state / "authenticator" / "software" / f"{bob.name}.json"
    assert not keyring.exists() or json.loads(keyring.read_text())["credentials"] == []
    assert any("decision=not_created reason=failed" in l and "helper:" in l for l in syslog.read()), syslog.read()
    assert_intact(fleet.registry, a.state)
    r = a.login(bob, ["wrong-password"])
    assert not r.ok, r
    # The next offer works.
    r = a.login(bob, [bob.password, "y", PIN, PIN])
    assert r.ok and r.transcript[-1] == ("info", "Passkey created. Next time you can sign in here with your PIN."), r
    assert helper_children() == []


# The registry cannot be written


def two_users(fleet, make_account):
    """alice has a passkey on host-a, carol none."""
    alice, carol = make_account("alice"), make_account("carol")
    a = fleet.host("host-a")
    enrol(a, alice)
    return alice, carol, a


def check_registry_unwritable(fleet, a, alice, carol, syslog, before, why):
    # A verified assertion that cannot be recorded is not a login: the password decides.
    r = a.login(alice, [PIN, "wrong-password"])
    assert not r.ok and r.transcript == [pin_prompt(alice, "host-a"), PASSKEY_FAILED, PASSWORD], r
    r = a.login(alice, [PIN, alice.password])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a"), PASSKEY_FAILED, PASSWORD], r
    assert any("reason=authenticator_failed" in l and "could not record it" in l and why in l for l in syslog.read()), \
        syslog.read()

    # carol signs in with her password; the passkey cannot be registered, and the key the
    # helper made for it is deleted again.
    r = a.login(carol, [carol.password, "y", PIN, PIN])
    assert r.ok and r.transcript == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN, NOT_CREATED], r
    keyring = a.state / "authenticator" / "software" / f"{carol.name}.json"
    assert not keyring.exists() or json.loads(keyring.read_text())["credentials"] == []
    lines = syslog.read()
    assert any("could not record the offer in the registry" in l and why in l for l in lines), lines
    assert any("decision=not_created reason=failed" in l and "could not be registered" in l and why in l for l in lines), lines
    r = a.login(carol, ["wrong-password"])
    assert not r.ok, r

    # The registry is exactly as it was.
    assert snapshot(fleet.registry) == before


def test_registry_read_only(fleet, make_account, syslog, mounts):
    alice, carol, a = two_users(fleet, make_account)
    before = snapshot(fleet.registry)
    # Root writes through mode bits, not through a read-only mount.
    mounts("--bind", fleet.registry, fleet.registry)
    mounts("-o", "remount,bind,ro", fleet.registry)
    check_registry_unwritable(fleet, a, alice, carol, syslog, before, "Read-only file system")
    assert_intact(fleet.registry, a.state)


def fill(directory: pathlib.Path):
    """Fills the file system under `directory` to the last byte (dot-files, which no store
    reads as a user's record)."""
    for name, size in ((".filler", 1 << 16), (".filler2", 512)):
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * size)
        except OSError as e:
            assert e.errno == 28, e  # ENOSPC
        finally:
            os.close(fd)
    st = os.statvfs(directory)
    assert st.f_bavail == 0, st


def test_registry_disk_full(fleet, make_account, syslog, mounts):
    mounts("-t", "tmpfs", "-o", "size=512k,mode=0755", "pam_passkey_full", fleet.registry)
    alice, carol, a = two_users(fleet, make_account)
    fill(fleet.registry)
    before = snapshot(fleet.registry)
    check_registry_unwritable(fleet, a, alice, carol, syslog, before, "No space left on device")
    assert_intact(fleet.registry, a.state)


def test_host_state_disk_full(fleet, make_account, syslog, mounts):
    """The helper cannot write the PIN attempt counter: it must not check the PIN at all
    (an attempt it could not count would be a free guess)."""
    alice = make_account("alice")
    a = fleet.host("host-a")
    mounts("-t", "tmpfs", "-o", "size=512k,mode=0700", "pam_passkey_full", a.state)
    enrol(a, alice)
    fill(a.state)
    before = snapshot(a.state)

    r = a.login(alice, [PIN, "wrong-password"])
    assert not r.ok and PASSWORD in r.transcript, r
    r = a.login(alice, [PIN, alice.password])
    assert r.ok and r.transcript[-1] == PASSWORD, r
    assert any("reason=authenticator_failed" in l and "No space left on device" in l for l in syslog.read()), syslog.read()
    assert snapshot(a.state) == before
    assert_intact(fleet.registry, a.state)
    # Space again: the passkey works at once.
    (a.state / ".filler").unlink()
    (a.state / ".filler2").unlink()
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r


# Corrupted files

CORRUPTIONS = {
    "truncated": lambda text: text[: len(text) // 2],
    "garbage": lambda text: "\x00\x7fELF\x02garbage{{{[[[\n",
    "newer_schema": lambda text: json.dumps(dict(json.loads(text), schemaVersion=99, newField={"x": 1})),
}
EXPECTED = {
    "truncated": "is not a valid pam_passkey file",
    "garbage": "is not a valid pam_passkey file",
    "newer_schema": "has schema version 99",
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupted_registry_record(fleet, make_account, syslog, corruption):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enrol(a, alice)
    record = fleet.registry / f"{alice.name}.json"
    record.write_text(CORRUPTIONS[corruption](record.read_text()))
    before = record.read_bytes()

    # No PIN prompt (nothing to trust the passkey with), no offer; the password decides.
    r = a.login(alice, [alice.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert_password_decides(a, alice)
    lines = syslog.read()
    assert any("decision=step_aside reason=state_unreadable" in l and "cannot read the passkey registry" in l
               and EXPECTED[corruption] in l for l in lines), lines
    assert any("append" in l and "reason=state_unreadable" in l for l in lines), lines
    # Refused, never rewritten.
    assert record.read_bytes() == before
    assert_intact(fleet.registry, a.state, refused=[record])


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corrupted_history(fleet, make_account, syslog, corruption):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enrol(a, alice)
    history = a.state / "history" / f"{alice.name}.json"
    history.write_text(CORRUPTIONS[corruption](history.read_text()))
    before = history.read_bytes()

    r = a.login(alice, [alice.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert_password_decides(a, alice)
    lines = syslog.read()
    assert any("decision=step_aside reason=state_unreadable" in l and "cannot read this host's passkey history" in l
               and EXPECTED[corruption] in l for l in lines), lines
    assert history.read_bytes() == before
    assert_intact(fleet.registry, a.state, refused=[history])


# A clock that moved backwards: the files hold times from its future.

FUTURE = 30 * 86400


def shift_times(value, delta, keys=("time", "created", "lastUsed", "lastPasswordLogin", "lastPasskeyLogin",
                                   "lastCancel", "neverSince", "lastDeclined", "revokedAt")):
    """Every timestamp in a registry record or history document, moved by `delta` seconds."""
    if isinstance(value, dict):
        return {k: (v + delta if k in keys and isinstance(v, int) else shift_times(v, delta, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_times(v, delta, keys) for v in value]
    return value


def rewrite(path: pathlib.Path, change):
    path.write_text(json.dumps(change(json.loads(path.read_text())), indent=2))


def test_clock_moved_backwards(fleet, make_account, syslog):
    alice, bob, carol = make_account("alice"), make_account("bob"), make_account("carol")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    c = fleet.host("host-c", append_snooze_days=0)
    enrol(a, alice)
    now = int(time.time())

    # Everything alice did happened "30 days from now": her passkey still works, the use
    # is recorded, and elsewhere she is told where it is and offered one (one offer so far).
    rewrite(fleet.registry / f"{alice.name}.json", lambda d: shift_times(d, FUTURE))
    rewrite(a.state / "history" / f"{alice.name}.json", lambda d: shift_times(d, FUTURE))
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    used = fleet.credentials(alice)[0]["lastUsed"]
    assert used["host"] == "host-a" and abs(used["time"] - now) < 600, used
    r = b.login(alice, [alice.password, "n"])
    assert r.ok and r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create()], r
    assert_password_decides(b, alice)

    # bob was offered a passkey three times "in the future" (he said yes, then gave up on the
    # PIN). append_max_offers = 3 in any 30 days: those count, whenever the clock says they
    # were — no fourth offer.
    offers = {"recent": [{"time": now + FUTURE + i, "hostName": "host-b", "service": "login", "answer": "accepted"}
                         for i in range(3)], "unansweredInARow": 0}
    (fleet.registry / f"{bob.name}.json").write_text(
        json.dumps({"schemaVersion": 1, "user": bob.name, "credentials": [], "offers": offers}))
    r = c.login(bob, [bob.password])
    assert r.ok and r.transcript == [PASSWORD], r
    assert any(f'user="{bob.name}"' in l and "decision=no_offer reason=offer_limit" in l for l in syslog.read()), syslog.read()
    assert_password_decides(c, bob)

    # carol cancelled her PIN three times in a row "tomorrow": the prompt steps aside (safe:
    # the password works) rather than trusting a time it cannot place.
    enrol(a, carol)
    rewrite(a.state / "history" / f"{carol.name}.json",
            lambda d: dict(d, host=dict(d["host"], consecutiveCancels=3, lastCancel=now + 86400)))
    r = a.login(carol, [carol.password])
    assert r.ok and r.transcript == [("info", "Passkey paused after 3 cancelled PIN prompts."), PASSWORD], r
    assert any(f'user="{carol.name}"' in l and "reason=cancel_snooze" in l for l in syslog.read()), syslog.read()
    assert_password_decides(a, carol)
    assert_intact(fleet.registry, a.state, b.state, c.state)
