"""passkeyctl, the built executable, against simulated hosts (fleet.py): every command, its
success and failure paths, exit codes (0 done, 1 failed, 2 usage), what it prints, and what
it changes — checked through the registry file, the real helper, and real libpam logins.
A credential it enrols is verified by python-fido2 from what `list --json` prints."""
import fcntl
import json
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import tempfile
import termios
import time

import pytest
from fido2 import cbor
from fido2.attestation import Attestation, AttestationType, InvalidSignature
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestationObject, CollectedClientData, UserVerificationRequirement

from fleet import PASSWORD, offer_create, pin_prompt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN_PAGE = os.path.join(ROOT, "man", "passkeyctl.8")
PIN, OTHER_PIN = "482913", "605718"
COMMANDS = ["enroll", "import", "list", "revoke", "explain", "unlock", "status", "report", "sync", "registry"]


def ctl(host, command, *args, input=None, conf=None, **kwargs):
    """Runs `passkeyctl COMMAND --conf HOST.conf ARGS…`."""
    argv = [str(host.build_dir / "passkeyctl"), command, "--conf", str(conf or host.conf), *args]
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120, **kwargs)


def enroll(host, user, pin=PIN, *extra):
    r = ctl(host, "enroll", user.name, "--pin-stdin", *extra, input=f"{pin}\n{pin}\n")
    assert r.returncode == 0, r.stderr
    return r


def explained(host, user, *extra) -> dict:
    r = ctl(host, "explain", user if isinstance(user, str) else user.name, "--json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def held_here(host, user) -> list:
    return [h["id"] for h in explained(host, user)["authenticator"]["held"]]


def one_error_line(r) -> str:
    """Errors are one sentence on stderr after "passkeyctl: "."""
    assert r.stderr.startswith("passkeyctl: ") and r.stderr.count("\n") == 1, r.stderr
    return r.stderr


def utc(seconds) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds))


# ---------------------------------------------------------------------------------------------
# Command line


def test_help_lists_every_command_and_each_command_has_help(build_dir):
    exe = str(build_dir / "passkeyctl")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""
    listed = re.findall(r"^  (\w+) ", r.stdout, re.M)
    assert listed == COMMANDS
    for command in COMMANDS:
        for flag in ("--help", "-h"):
            r = subprocess.run([exe, command, flag], capture_output=True, text=True)
            assert r.returncode == 0 and r.stderr == "", (command, r)
            assert r.stdout.startswith(f"usage: passkeyctl {command} "), r.stdout
            assert "--conf PATH" in r.stdout
    r = subprocess.run([exe], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == "" and "usage: passkeyctl COMMAND" in r.stderr
    r = subprocess.run([exe, "help", "revoke"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == subprocess.run([exe, "revoke", "--help"], capture_output=True, text=True).stdout
    r = subprocess.run([exe, "help", "revokee"], capture_output=True, text=True)
    assert r.returncode == 2 and one_error_line(r) == "passkeyctl: unknown command revokee; see passkeyctl --help\n"


@pytest.mark.parametrize("argv, complaint", [
    (["frobnicate"], 'unknown command frobnicate; see passkeyctl --help'),
    (["list", "--bogus"], "unknown option --bogus; see passkeyctl list --help"),
    (["list", "alice", "bob"], "unexpected argument bob; see passkeyctl list --help"),
    (["enroll"], "missing USER; see passkeyctl enroll --help"),
    (["revoke", "alice"], "say which passkeys to revoke: --credential ID, --host NAME or --all"),
    (["revoke", "alice", "--all", "--host", "host-b"], "give only one of --credential, --host and --all"),
    (["revoke", "alice", "--credential"], "--credential needs a value (ID)"),
    (["list", "--json", "--json"], "--json is given more than once"),
    (["list", "--json=yes"], "--json takes no value"),
    (["explain", "alice", "--service="], "--service needs a value (NAME), not an empty one"),
    (["status", "extra"], "unexpected argument extra"),
    (["registry"], "missing export|import"),
    (["registry", "move"], "unknown action move: export or import"),
    (["registry", "export", "--bind-dn", "cn=admin"], "--bind-dn and --password-file go together"),
    (["registry", "import", "--dir", "relative"], "--dir needs an absolute path, not relative"),
    (["list", "--conf", "relative.conf"], "--conf needs an absolute path, not relative.conf"),
    (["list", "../x"], 'invalid user name "../x": it starts with "."; see passkeyctl list --help'),
    (["list", "a/b"], 'invalid user name "a/b": it contains "/"'),
    (["explain", "../x"], 'invalid user name "../x"'),
    (["enroll", "../x", "--pin-stdin"], 'invalid user name "../x"'),
    (["revoke", "../x", "--all"], 'invalid user name "../x"'),
    (["unlock", "../x"], 'invalid user name "../x"'),
    (["list", "al\x1bice"], 'invalid user name "al\\u{1b}ice": it contains the control or format character U+001B'),
    (["enroll", "root", "--label", "two\nlines", "--pin-stdin"], "--label must be one line of text"),
])
def test_bad_arguments_are_usage_errors(fleet, argv, complaint):
    a = fleet.host("host-a")
    exe = str(a.build_dir / "passkeyctl")
    # --conf after the command name, except where the case is about the command name or --conf.
    own = argv[0] not in COMMANDS or "--conf" in argv
    full = [exe] + (argv if own else [argv[0], "--conf", str(a.conf)] + argv[1:])
    r = subprocess.run(full, capture_output=True, text=True, input="")
    assert r.returncode == 2, r
    assert r.stdout == ""
    line = one_error_line(r)
    assert complaint in line, line
    assert "--help" in line
    # Nothing was read or written because of a bad command line.
    assert list(fleet.registry.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# enroll, and the module using what it enrolled


def test_enrolled_passkey_is_used_at_the_next_login_and_a_revoked_one_is_not(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")

    r = ctl(a, "enroll", alice.name, "--pin-stdin", "--label", "alice's desk", input=f"{PIN}\n{PIN}\n")
    assert r.returncode == 0, r.stderr
    [c] = fleet.credentials(alice)
    assert (c["hostName"], c["kind"], c["label"], c["revoked"]) == ("host-a", "platform", "alice's desk", False)
    assert r.stdout == (f"Created a passkey for {alice.name} on host-a.\n"
                        f"  id       {c['id']}\n"
                        f"  host     host-a\n"
                        f"  created  {utc(c['created']['time'])} UTC\n"
                        f"  label    alice's desk\n"
                        f"{alice.name} now has passkeys on 1 host.\n")
    assert PIN not in r.stdout + r.stderr
    assert held_here(a, alice) == [c["id"]]

    # The module finds it: the PIN prompt is all the user sees.
    r = a.login(alice, [PIN])
    assert r.ok, r
    assert r.transcript == [pin_prompt(alice, "host-a")], r

    r = ctl(a, "revoke", alice.name, "--credential", c["id"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"Revoked {c['id']} ({alice.name} on host-a); deleted from this host's authenticator.\n"
    [c] = fleet.credentials(alice, active_only=False)
    assert c["revoked"] and c["revokedBy"] == "passkeyctl by root on host-a", c
    assert held_here(a, alice) == []

    # Revoked: no PIN prompt; the password, then the offer of a new passkey.
    r = a.login(alice, [alice.password, "n"])
    assert r.ok, r
    assert r.transcript == [PASSWORD, offer_create()], r


def test_enroll_pin_from_stdin_refused_pins_fail_without_a_credential(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    cases = [
        (f"{PIN}\n{OTHER_PIN}\n", "the PIN was refused: the PINs did not match"),
        ("123\n123\n", "the PIN was refused: that PIN is too short: use at least 6 characters"),
        ("111111\n111111\n", "the PIN was refused: that PIN repeats one character: choose one that is harder to guess"),
        (f"{PIN}\n", "standard input ended before the PIN was confirmed, so no passkey was created for {user}; give the same PIN again on a second line"),
        ("\n", "no PIN was given, so no passkey was created"),
        ("", "no PIN was given, so no passkey was created"),
    ]
    for stdin, complaint in cases:
        r = ctl(a, "enroll", alice.name, "--pin-stdin", input=stdin)
        assert r.returncode == 1 and r.stdout == "", (stdin, r)
        assert complaint.format(user=alice.name) in one_error_line(r), (stdin, r.stderr)
        assert PIN not in r.stderr and OTHER_PIN not in r.stderr
    assert fleet.credentials(alice, active_only=False) == []
    assert held_here(a, alice) == []

    # A CRLF line end is not part of the PIN.
    enroll(a, alice, f"{PIN}\r")
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r


def test_enroll_refuses_unknown_accounts_and_a_second_passkey_unless_replacing(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")

    r = ctl(a, "enroll", "pktnosuchuser", "--pin-stdin", input=f"{PIN}\n{PIN}\n")
    assert r.returncode == 1
    assert one_error_line(r) == "passkeyctl: there is no account named pktnosuchuser on this host; create the account first (useradd, or your directory service)\n"
    assert not (fleet.registry / "pktnosuchuser.json").exists()

    enroll(a, alice)
    [old] = fleet.credentials(alice)
    r = ctl(a, "enroll", alice.name, "--pin-stdin", input=f"{OTHER_PIN}\n{OTHER_PIN}\n")
    assert r.returncode == 1
    assert one_error_line(r) == (f"passkeyctl: {alice.name} already has a passkey on this host ({old['id'][:10]}…); use passkeyctl "
                                 f"unlock {alice.name} for a locked one, or enroll again with --replace\n")
    assert fleet.credentials(alice) == [old]

    r = ctl(a, "enroll", alice.name, "--pin-stdin", "--replace", "--json", input=f"{OTHER_PIN}\n{OTHER_PIN}\n")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    [new] = fleet.credentials(alice)
    assert out["credential"]["id"] == new["id"] != old["id"]
    assert out["replaced"] == [old["id"]] and out["hosts_with_passkeys"] == 1
    replaced = [c for c in fleet.credentials(alice, active_only=False) if c["id"] == old["id"]][0]
    assert replaced["revoked"] and replaced["revokedBy"] == "replaced on host-a"
    assert held_here(a, alice) == [new["id"]]

    # The new PIN works; the old one is gone with its key.
    r = a.login(alice, [OTHER_PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r


def test_enroll_without_a_terminal_asks_for_pin_stdin(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    r = ctl(a, "enroll", alice.name, start_new_session=True, input="")
    assert r.returncode == 1
    assert one_error_line(r) == "passkeyctl: there is no terminal to ask for the PIN; give it on standard input with --pin-stdin\n"
    assert fleet.credentials(alice) == []


def test_changes_need_root(fleet):
    a = fleet.host("host-a")
    # Somewhere `nobody` can reach (pytest's own directories are root's alone).
    place = tempfile.mkdtemp(prefix="passkeyctl-")
    os.chmod(place, 0o755)
    exe = os.path.join(place, "passkeyctl")
    shutil.copy(a.build_dir / "passkeyctl", exe)
    os.chmod(exe, 0o755)
    try:
        check_refusals(a, exe)
    finally:
        shutil.rmtree(place)


def check_refusals(a, exe):
    for argv in (["enroll", "root", "--pin-stdin"], ["revoke", "root", "--all"], ["unlock", "root"]):
        r = subprocess.run(["runuser", "-u", "nobody", "--", str(exe), argv[0], "--conf", str(a.conf)] + argv[1:],
                           capture_output=True, text=True, input="")
        assert r.returncode == 1, r
        assert f"passkeyctl {argv[0]} changes the registry and this host's authenticator, so it must run as root; run it with sudo" in one_error_line(r)


class Terminal:
    """passkeyctl with a pseudo-terminal as its controlling terminal, as a person runs it."""

    def __init__(self, argv):
        self.master, self.slave = os.openpty()
        slave = self.slave

        def become_session_leader_with_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            # SIGQUIT would dump core into the working directory.
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                        preexec_fn=become_session_leader_with_terminal, close_fds=True)
        self.output = b""

    def expect(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never appeared; got {self.output!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self.output += os.read(self.master, 4096)

    def type(self, line):
        os.write(self.master, line.encode() + b"\n")

    @property
    def echo(self) -> bool:
        return bool(termios.tcgetattr(self.slave)[3] & termios.ECHO)

    def finish(self, timeout=60) -> int:
        rc = self.process.wait(timeout)
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk
        return rc

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
        os.close(self.slave)


def test_enroll_at_the_terminal_reads_the_pin_without_echo(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    t = Terminal([str(a.build_dir / "passkeyctl"), "enroll", alice.name, "--conf", str(a.conf)])
    try:
        assert t.echo
        t.expect(f"Creating a passkey for {alice.name} on host-a.\r\nChoose a PIN (at least 6 digits): ")
        assert not t.echo
        t.type("12")
        t.expect("That PIN is too short: use at least 6 characters.\r\nChoose a PIN (at least 6 digits): ")
        t.type(PIN)
        t.expect("Confirm PIN: ")
        assert not t.echo
        t.type(PIN)
        assert t.finish() == 0, t.output
        assert t.echo
    finally:
        t.close()
    text = t.output.decode()
    assert PIN not in text and "12\r\n" not in text, text
    [c] = fleet.credentials(alice)
    assert f"Created a passkey for {alice.name} on host-a.\r\n  id       {c['id']}" in text
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT])
def test_a_signal_during_the_pin_prompt_restores_the_terminal(fleet, make_account, sig):
    alice = make_account("alice")
    a = fleet.host("host-a")
    t = Terminal([str(a.build_dir / "passkeyctl"), "enroll", alice.name, "--conf", str(a.conf)])
    try:
        t.expect("Choose a PIN (at least 6 digits): ")
        t.type(PIN)
        t.expect("Confirm PIN: ")
        assert not t.echo
        t.process.send_signal(sig)
        assert t.finish() == -sig
        assert t.echo, "the terminal was left without echo"
    finally:
        t.close()
    assert fleet.credentials(alice) == []


# ---------------------------------------------------------------------------------------------
# list


def test_list_shows_credentials_per_user_and_for_everyone(fleet, make_account):
    alice, bob = make_account("alice"), make_account("bob")
    a, b = fleet.host("host-a"), fleet.host("host-b")

    r = ctl(a, "list")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"No passkeys are registered in {fleet.registry}.\n", "")
    r = ctl(a, "list", "pktnosuchuser")
    assert (r.returncode, r.stdout, r.stderr) == (0, "pktnosuchuser has no passkeys.\n", "")
    r = ctl(a, "list", alice.name)
    assert (r.returncode, r.stdout) == (0, f"{alice.name} has no passkeys.\n")

    enroll(a, alice, PIN, "--label", "desk")
    enroll(b, alice)
    enroll(b, bob)
    assert a.login(alice, [PIN]).ok
    ca, cb = sorted(fleet.credentials(alice), key=lambda c: c["hostName"])
    ctl(a, "revoke", alice.name, "--host", "host-b")

    r = ctl(a, "list", alice.name)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["ID", "HOST", "KIND", "CREATED", "LAST USED", "SIGNS", "STATE", "WRONG PINS", "LABEL"]
    # In the registry's order: by creation time, then id (these two may share a second).
    rows = [re.split(r"\s{2,}", l.rstrip()) for l in lines[1:]]
    assert [row[0] for row in rows] == [c["id"] for c in fleet.credentials(alice, active_only=False)]
    assert sorted(rows, key=lambda row: row[1]) == [
        [ca["id"], "host-a", "platform", utc(ca["created"]["time"]), utc(ca["lastUsed"]["time"]), "1", "active", "0 of 5", "desk"],
        [cb["id"], "host-b", "platform", utc(cb["created"]["time"]), "never", "0", "revoked", "-"]]

    r = ctl(b, "list")
    assert r.returncode == 0, r.stderr
    rows = [re.split(r"\s{2,}", l.rstrip()) for l in r.stdout.splitlines()]
    assert rows[0][:3] == ["USER", "ID", "HOST"]
    assert sorted((row[0], row[2], row[7]) for row in rows[1:]) == sorted(
        [(alice.name, "host-a", "active"), (alice.name, "host-b", "revoked"), (bob.name, "host-b", "active")])

    everyone = json.loads(ctl(a, "list", "--json").stdout)
    assert everyone["format"] == 1 and everyone["registry"] == str(fleet.registry)
    assert sorted(u["user"] for u in everyone["users"]) == sorted([alice.name, bob.name])
    mine = json.loads(ctl(a, "list", alice.name, "--json").stdout)
    [entry] = mine["users"]
    got = {c["id"]: c for c in entry["credentials"]}
    assert got[ca["id"]]["state"] == "active" and got[cb["id"]]["state"] == "revoked"
    assert got[ca["id"]]["sign_count"] == 1 and got[ca["id"]]["last_used_on"] == "host-a"
    assert got[cb["id"]]["last_used"] is None and got[cb["id"]]["revoked_by"] == "passkeyctl by root on host-a"
    assert got[ca["id"]]["label"] == "desk" and got[ca["id"]]["user"] == alice.name
    assert json.loads(ctl(a, "list", "pktnosuchuser", "--json").stdout)["users"] == [{"user": "pktnosuchuser", "credentials": []}]

    # A damaged record is named and does not hide the others.
    (fleet.registry / f"{bob.name}.json").write_text('{"schemaVersion": 2, "user": "%s"}' % bob.name)
    r = ctl(a, "list")
    assert r.returncode == 1
    assert [l.split()[0] for l in r.stdout.splitlines()] == ["USER", alice.name, alice.name]
    warning, error = r.stderr.splitlines()
    assert warning.startswith(f"passkeyctl: warning: {fleet.registry}/{bob.name}.json has schema version 2; this pam_passkey understands versions 1 to 1; fix: upgrade pam_passkey")
    assert error == "passkeyctl: 1 record could not be read and is not listed; fix them as the warnings say"
    r = ctl(a, "list", bob.name)
    assert r.returncode == 1 and r.stdout == ""
    assert one_error_line(r).startswith(f"passkeyctl: cannot read the passkey registry: {fleet.registry}/{bob.name}.json has schema version 2")


def check_self_attestation(attestation_object, client_data_hash):
    result = Attestation.for_type(attestation_object.fmt)().verify(
        attestation_object.att_stmt, attestation_object.auth_data, client_data_hash)
    assert result.attestation_type == AttestationType.SELF, result


def fido2_register(credential, rp_id="pam_passkey.test"):
    """python-fido2 verifies the stored registration, as a web server would at enrolment."""
    server = Fido2Server({"id": rp_id, "name": "pam_passkey"}, attestation="direct",
                         verify_origin=lambda origin: origin == f"pam://{rp_id}",
                         verify_attestation=check_self_attestation)
    client_data = CollectedClientData(websafe_decode(credential["client_data_json"]))
    attestation = AttestationObject(websafe_decode(credential["attestation_object"]))
    state = {"challenge": websafe_encode(client_data.challenge), "user_verification": UserVerificationRequirement.REQUIRED}
    return server.register_complete(state, client_data, attestation)


def test_list_json_registration_verifies_with_python_fido2(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enroll(a, alice)
    [c] = json.loads(ctl(a, "list", alice.name, "--json").stdout)["users"][0]["credentials"]

    auth_data = fido2_register(c)
    data = auth_data.credential_data
    assert data.credential_id == websafe_decode(c["id"])
    assert dict(data.public_key) == cbor.decode(websafe_decode(c["public_key"]))
    assert data.public_key.ALGORITHM == c["algorithm"] == -7
    assert str(data.aaguid) == c["aaguid"]
    assert auth_data.is_user_verified() and auth_data.counter == c["sign_count"] == 0
    client_data = json.loads(websafe_decode(c["client_data_json"]))
    assert client_data["type"] == "webauthn.create" and client_data["origin"] == "pam://pam_passkey.test"

    # The verifier is not a rubber stamp: another origin, another relying party, or a
    # clientDataJSON other than the one the attestation signed are refused.
    client_data = CollectedClientData(websafe_decode(c["client_data_json"]))
    attestation = AttestationObject(websafe_decode(c["attestation_object"]))
    state = {"challenge": websafe_encode(client_data.challenge), "user_verification": UserVerificationRequirement.REQUIRED}
    with pytest.raises(ValueError, match="Invalid origin"):
        Fido2Server({"id": "pam_passkey.test", "name": "x"}, verify_origin=lambda o: o == "https://pam_passkey.test") \
            .register_complete(state, client_data, attestation)
    with pytest.raises(ValueError, match="Wrong RP ID hash"):
        Fido2Server({"id": "example.org", "name": "x"}, verify_origin=lambda o: True).register_complete(state, client_data, attestation)
    forged = dict(json.loads(websafe_decode(c["client_data_json"])), challenge=websafe_encode(b"\x01" * 32))
    with pytest.raises(InvalidSignature):
        fido2_register(dict(c, client_data_json=websafe_encode(json.dumps(forged).encode())))


# ---------------------------------------------------------------------------------------------
# revoke


def test_revoke_failures_name_the_fix(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")

    r = ctl(a, "revoke", "pktnosuchuser", "--all")
    assert r.returncode == 1 and r.stdout == ""
    assert one_error_line(r) == "passkeyctl: pktnosuchuser has no passkeys in the registry, so there is nothing to revoke; see passkeyctl list\n"
    assert not (fleet.registry / "pktnosuchuser.json").exists()

    enroll(a, alice)
    [c] = fleet.credentials(alice)
    r = ctl(a, "revoke", alice.name, "--credential", "abcdefghijklmnopqrstuvwxyz")
    assert r.returncode == 1
    assert one_error_line(r) == f"passkeyctl: no credential abcdefghij… for {alice.name}; see passkeyctl list {alice.name}\n"
    r = ctl(a, "revoke", alice.name, "--host", "host-z")
    assert r.returncode == 1
    assert one_error_line(r) == f"passkeyctl: {alice.name} has no passkey on host host-z; see passkeyctl list {alice.name}\n"
    assert fleet.credentials(alice) == [c] and held_here(a, alice) == [c["id"]]

    # The beginning of an id is enough when it names one credential; revoking twice is harmless.
    r = ctl(a, "revoke", alice.name, "--credential", c["id"][:8], "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["credentials"] == [{"id": c["id"], "host_name": "host-a", "revoked_now": True, "deleted_here": True}]
    r = ctl(a, "revoke", alice.name, "--all")
    assert (r.returncode, r.stdout) == (0, f"Already revoked: {c['id']} ({alice.name} on host-a).\n"), r.stderr


def test_revoke_by_host_from_another_host(fleet, make_account):
    """The stolen-laptop case: host-b's passkey is revoked from host-a. host-b's authenticator
    still has the key, but no login there uses it."""
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    enroll(a, alice)
    enroll(b, alice, OTHER_PIN)
    [ca] = [c for c in fleet.credentials(alice) if c["hostName"] == "host-a"]
    [cb] = [c for c in fleet.credentials(alice) if c["hostName"] == "host-b"]

    r = ctl(a, "revoke", alice.name, "--host", "host-b")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"Revoked {cb['id']} ({alice.name} on host-b).\n"
    assert held_here(b, alice) == [cb["id"]]
    assert [c["hostName"] for c in fleet.credentials(alice)] == ["host-a"]

    r = b.login(alice, [alice.password, "n"])
    assert r.ok, r
    assert r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create()], r

    # --all on host-b revokes the rest and deletes what is left of host-b's key there.
    r = ctl(b, "revoke", alice.name, "--all")
    assert r.returncode == 0, r.stderr
    # One line per credential, in the registry's order (creation time, then id).
    lines = {f"Revoked {ca['id']} ({alice.name} on host-a).": ca["id"],
             f"Already revoked: {cb['id']} ({alice.name} on host-b); deleted from this host's authenticator.": cb["id"]}
    assert sorted(r.stdout.splitlines()) == sorted(lines), r.stdout
    assert [lines[l] for l in r.stdout.splitlines()] == [c["id"] for c in fleet.credentials(alice, active_only=False)]
    assert held_here(b, alice) == [] and held_here(a, alice) == [ca["id"]]
    assert fleet.credentials(alice) == []


# ---------------------------------------------------------------------------------------------
# explain


def test_explain_shows_both_decisions_and_their_reasons(fleet, make_account):
    alice, bob = make_account("alice"), make_account("bob")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    enroll(a, alice)
    [c] = fleet.credentials(alice)

    r = ctl(a, "explain", alice.name)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{alice.name} (uid {alice.uid}) on host-a at ")
    assert "\nlogin:  passkey [credential_usable]\n" in r.stdout
    assert "\nappend: no offer [credential_here] (if the password then succeeds)\n" in r.stdout
    assert "authenticator: healthy, holds 1 of the user's credentials" in r.stdout

    r = ctl(b, "explain", alice.name)
    assert "\nlogin:  step aside [credentials_elsewhere]\n" in r.stdout
    assert 'the user sees: "Your passkey is on another computer (host-a)."' in r.stdout
    assert "\nappend: offer [create] (if the password then succeeds)\n" in r.stdout

    e = explained(a, alice, "--rhost", "203.0.113.9", "--service", "sshd", "--tty", "ssh")
    assert (e["login"]["decision"], e["login"]["reason"]) == ("step_aside", "remote_session")
    assert e["session"] == {"service": "sshd", "rhost": "203.0.113.9", "tty": "ssh", "conversation": True, "silent": False,
                            "caller_uid": None, "remote": True}
    # Always probed, even where the module would not ask the authenticator.
    assert e["authenticator"]["held"] == [{"id": c["id"], "locked": False}]
    e = explained(a, alice, "--service", "cron")
    assert (e["login"]["reason"], e["append"]["reason"]) == ("noninteractive_service", "noninteractive_service")
    e = explained(a, alice)
    assert e["uid"] == alice.uid and e["login"]["credentials"] == [c["id"]] and e["credentials"][0]["status"] == "usable"

    # An account without passkeys and a name without an account get the same login decision;
    # explain says which it was.
    known = explained(a, bob)
    unknown = explained(a, "pktnosuchuser")
    assert known["login"] == unknown["login"]
    assert (known["login"]["decision"], known["login"]["reason"], known["login"]["message"]) == ("step_aside", "no_credentials", None)
    assert (known["append"]["reason"], unknown["append"]["reason"]) == ("create", "unknown_account")
    assert unknown["uid"] is None
    r = ctl(a, "explain", "pktnosuchuser")
    assert r.returncode == 0
    assert r.stdout.startswith("pktnosuchuser (no such account) on host-a")
    assert r.stdout.endswith("There is no account named pktnosuchuser on this host: the decision is the one for any user without passkeys.\n")


def test_explain_models_su_sudo_and_programs_that_run_as_a_user(fleet, make_account):
    """su and sudo decide as root; a screen locker (--caller-uid) only for its own account,
    never with an offer; a passkey login shows the PIN prompt the user would get."""
    alice, bob = make_account("alice"), make_account("bob")
    a = fleet.host("host-a")
    enroll(a, alice)
    for service in ("su-l", "sudo"):
        e = explained(a, alice, "--service", service)
        assert (e["login"]["decision"], e["append"]["reason"]) == ("passkey", "skipped_service"), service
        assert e["login"]["prompt"] == f"PIN for {alice.name}'s passkey on host-a: "
    own = explained(a, alice, "--caller-uid", str(alice.uid))
    assert own["session"]["caller_uid"] == alice.uid
    assert (own["login"]["decision"], own["append"]["reason"]) == ("passkey", "unprivileged_caller")
    other = explained(a, alice, "--caller-uid", str(bob.uid))
    assert (other["login"]["reason"], other["login"]["message"], other["login"]["prompt"]) == ("other_account", None, None)
    r = ctl(a, "explain", alice.name, "--caller-uid", str(bob.uid))
    assert f"the program runs as uid {bob.uid} (not root)" in r.stdout and "[other_account]" in r.stdout, r.stdout
    r = ctl(a, "explain", alice.name)
    assert f'the user is asked: "PIN for {alice.name}\'s passkey on host-a:" (an empty answer gives the password prompt)' in r.stdout, r.stdout
    r = ctl(a, "explain", alice.name, "--caller-uid", "bob")
    assert r.returncode == 2 and "--caller-uid needs a number" in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------
# unlock


def test_unlock_clears_a_pin_lockout(fleet, make_account):
    alice, bob = make_account("alice"), make_account("bob")
    a = fleet.host("host-a", pin_max_attempts=2)
    enroll(a, alice)
    [c] = fleet.credentials(alice)

    r = a.login(alice, ["000000", "111111", alice.password, "n"])
    assert ("error", "Too many wrong PINs: the passkey for this computer is locked. Use your password.") in r.transcript, r
    assert explained(a, alice)["login"]["reason"] == "credential_locked"
    r = a.login(alice, [alice.password, "n"])
    assert pin_prompt(alice, "host-a") not in r.transcript, r

    r = ctl(a, "unlock", alice.name)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{alice.name}'s passkey {c['id']} on host-a was locked; 2 PIN attempts now.\n"
    assert explained(a, alice)["login"]["reason"] == "credential_usable"
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # The lockout stays counted for the report.
    assert json.loads(ctl(a, "report", "--json").stdout)["host"]["pin_lockouts"] == 1

    r = ctl(a, "unlock", alice.name, "--json")
    assert json.loads(r.stdout)["credentials"] == [{"id": c["id"], "was_locked": False, "attempts_left_before": 2, "attempts_left": 2}]

    for who in (bob.name, "pktnosuchuser"):
        r = ctl(a, "unlock", who)
        assert r.returncode == 1 and r.stdout == ""
        assert one_error_line(r) == f"passkeyctl: this host's authenticator holds no passkey of {who}, so there is nothing to unlock; see passkeyctl list {who}\n"


# ---------------------------------------------------------------------------------------------
# status


def status_lines(r) -> list:
    return [re.split(r"\s+", l, maxsplit=2) for l in r.stdout.splitlines()]


def test_status_of_a_working_host(fleet):
    a = fleet.host("host-a")
    r = ctl(a, "status", "--pam-dir", str(a.confdir))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""
    got = status_lines(r)
    helper = str(a.build_dir / "pam_passkey_helper")
    assert ["ok", "policy", f"{a.conf} parsed"] in got
    assert ["ok", "helper", "answers: software authenticator, healthy"] in got
    assert ["info", "helper", "not setuid: only programs running as root (login, sshd, su) can use passkeys; screen lockers cannot"] in got
    assert ["ok", "state_dir", f"{a.state}: owner root, mode 0700"] in got
    assert ["ok", "registry", f"{fleet.registry}: owner root, mode 0755, 0 users"] in got
    assert ["ok", "pam", "login uses pam_passkey.so (login step, append step)"] in got
    assert ["info", "pam", "common-auth does not use pam_passkey.so"] in got
    assert not any(l[0] in ("warning", "error") for l in got), r.stdout
    assert r.stdout.endswith("\nPasskey logins can work on this host.\n")

    s = json.loads(ctl(a, "status", "--pam-dir", str(a.confdir), "--json").stdout)
    assert s["ok"] is True
    assert s["helper"]["path"] == helper and s["helper"]["backend"] == "software" and s["helper"]["problem"] is None
    assert s["helper"]["setuid"] is False and s["helper"]["owner_uid"] == 0
    assert s["host"]["name"] == "host-a" and len(s["host"]["id"]) == 32
    assert [f["file"] for f in s["pam"]["files"]] == ["login"]
    assert [l["append"] for l in s["pam"]["files"][0]["lines"]] == [False, True]
    assert s["pam"]["files"][0]["lines"][0]["module_file"] == str(a.build_dir / "pam_passkey.so")
    assert s["pam"]["common_auth"] is False

    assert s["helper"]["launcher"] is False and s["helper"]["authenticator"] is None

    # common-auth, included by another service; the installed layout: the setuid launcher and
    # the authenticator it starts.
    (a.confdir / "common-auth").write_text((a.confdir / "login").read_text())
    (a.confdir / "login").write_text("@include common-auth\n")
    launcher, authenticator = installed_layout(fleet, a)
    r = ctl(a, "status", "--pam-dir", str(a.confdir))
    assert r.returncode == 0, r.stdout
    got = status_lines(r)
    assert ["ok", "pam", "common-auth uses pam_passkey.so, so do the services including it (login)"] in got
    assert ["ok", "helper", f"{launcher}: launcher, owner root, mode 4755"] in got
    assert ["ok", "helper", f"{authenticator}: the authenticator it starts, owner root, mode 0755"] in got
    assert ["info", "helper", "setuid root: screen lockers running as the user can use passkeys (for that user only)"] in got
    assert ["ok", "helper", "answers: software authenticator, healthy"] in got
    assert not any(l[0] in ("warning", "error") for l in got), r.stdout
    s = json.loads(ctl(a, "status", "--pam-dir", str(a.confdir), "--json").stdout)
    assert s["helper"]["launcher"] is True and s["helper"]["setuid"] is True
    assert s["helper"]["authenticator"] == {"path": str(authenticator), "owner_uid": 0, "mode": "0755"}

    # The Swift helper itself setuid (no launcher): works, with a warning.
    setuid_helper = fleet.root / "helper-setuid"
    shutil.copy(helper, setuid_helper)
    os.chmod(setuid_helper, 0o4755)
    a.set_policy(helper=setuid_helper)
    r = ctl(a, "status", "--pam-dir", str(a.confdir))
    assert r.returncode == 0, r.stdout
    got = status_lines(r)
    assert ["info", "helper", "setuid root: screen lockers running as the user can use passkeys (for that user only)"] in got
    assert ["warning", "helper", f"{setuid_helper} is setuid root but is not pam_passkey's launcher, so the language runtime reads the caller's environment before the helper can clear it; install the launcher there (make install, or the package) or remove the bit: chmod u-s {setuid_helper}"] in got


def installed_layout(fleet, host):
    """The launcher (4755) and the Swift helper it starts (0755) in the fleet's directory, as
    install.sh lays them out; the host's policy names the launcher."""
    authenticator = fleet.root / "authenticator"
    shutil.copy(host.build_dir / "pam_passkey_helper", authenticator)
    os.chmod(authenticator, 0o755)
    launcher = fleet.root / "launcher"
    p = subprocess.run([os.path.join(ROOT, "Sources/HelperLauncher/build.sh"), str(launcher), str(authenticator)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    os.chmod(launcher, 0o4755)
    host.set_policy(helper=launcher)
    return launcher, authenticator


def test_status_reports_what_breaks_logins(fleet):
    a = fleet.host("host-a")

    def errors(*extra):
        r = ctl(a, "status", "--pam-dir", str(a.confdir), *extra)
        got = [l for l in status_lines(r) if l[0] == "error"]
        if got:
            assert r.returncode == 1
            n = len(got)
            assert one_error_line(r) == f"passkeyctl: {n} {'problem breaks' if n == 1 else 'problems break'} passkey logins on this host; fix what status reports as error\n"
        else:
            assert r.returncode == 0, r
        return [(topic, text) for _, topic, text in got], r

    # Policy warnings are shown, and are not errors.
    a.set_policy(bogus_key="1", pin_min_length="three")
    got, r = errors()
    assert got == []
    assert ["warning", "policy", f'{a.conf}:8: unknown key "bogus_key", ignored'] in status_lines(r)
    assert ["warning", "policy", f'{a.conf}:9: pin_min_length = "three" is not a whole number from 4 to 63; using the default (6)'] in status_lines(r)
    del a.policy["bogus_key"], a.policy["pin_min_length"]
    a.set_policy()

    missing = fleet.root / "nowhere" / "pam_passkey_helper"
    a.set_policy(helper=missing)
    assert errors()[0] == [("helper", f"{missing} does not exist; reinstall pam_passkey or fix helper = in {a.conf}")]
    writable = fleet.root / "helper-copy"
    shutil.copy(a.build_dir / "pam_passkey_helper", writable)
    os.chmod(writable, 0o775)
    a.set_policy(helper=writable)
    assert errors()[0] == [("helper", f"{writable} is writable by group or others (mode 0775); chmod go-w {writable}")]
    # A directory on its path that others can write: the module would refuse to start it, so
    # status says so too (one rule for both), instead of "ok" for a helper no login can use.
    shared = fleet.root / "shared-bin"
    shared.mkdir()
    os.chmod(shared, 0o775)
    in_shared = shared / "pam_passkey_helper"
    shutil.copy(a.build_dir / "pam_passkey_helper", in_shared)
    a.set_policy(helper=in_shared)
    assert errors()[0] == [("helper", f"directory {shared} is writable by group or others; chmod go-w {shared}")]
    a.set_policy(helper=a.build_dir / "pam_passkey_helper")

    # The launcher is fine, the authenticator it starts is not: missing, writable, setuid.
    launcher, authenticator = installed_layout(fleet, a)
    os.chmod(authenticator, 0o775)
    assert errors()[0] == [("helper", f"{authenticator} is writable by group or others (mode 0775); chmod go-w {authenticator}")]
    os.chmod(authenticator, 0o4755)
    assert errors()[0] == [("helper", f"{authenticator} is setuid or setgid (mode 4755); started directly by a user, the language runtime would read their environment with root's rights, so only the launcher {launcher} is setuid; chmod 0755 {authenticator}")]
    os.remove(authenticator)
    assert errors()[0] == [("helper", f"{authenticator}, the authenticator the launcher {launcher} starts, does not exist; reinstall pam_passkey")]
    a.set_policy(helper=a.build_dir / "pam_passkey_helper")

    os.chmod(fleet.registry, 0o777)
    [(topic, text)], _ = errors()
    assert topic == "registry" and "chmod go-w" in text and str(fleet.registry) in text
    os.chmod(fleet.registry, 0o755)

    os.rmdir(a.state)
    got, _ = errors()
    assert ("state_dir", f"{a.state} does not exist; create it: install -d -m 0700 -o root -g root {a.state}") in got
    assert any(topic == "helper" for topic, _ in got)  # the helper says its state is unusable too
    a.state.mkdir(mode=0o700)

    (a.confdir / "sudo").write_text("auth required /nonexistent/pam_passkey.so\n")
    (a.confdir / "su").write_text("-auth sufficient /nonexistent/pam_passkey.so\n")
    got, r = errors()
    assert got == [("pam", "sudo line 1 names /nonexistent/pam_passkey.so, which does not exist: every auth through sudo fails; install pam_passkey.so or remove the line")]
    assert ["warning", "pam", "su line 1 names /nonexistent/pam_passkey.so, which does not exist; libpam skips that line (-auth), so passkeys are off there; install pam_passkey.so"] in status_lines(r)
    os.remove(a.confdir / "sudo")
    os.remove(a.confdir / "su")

    # A policy file that cannot be trusted: the module steps aside; status still checks the rest.
    os.chmod(a.conf, 0o666)
    got, _ = errors()
    assert got[0][0] == "policy" and "chmod go-w" in got[0][1] and "the module steps aside on every login" in got[0][1]
    os.chmod(a.conf, 0o644)
    assert errors()[0] == []

    # Nothing in the PAM stacks: a warning, not a failure.
    os.remove(a.confdir / "login")
    got, r = errors()
    assert got == []
    assert ["warning", "pam", f"no service file in {a.confdir} uses pam_passkey.so, so nobody signs in with a passkey yet; enable it with pam-auth-update or add the pam_passkey lines to common-auth"] in status_lines(r)
    s = json.loads(ctl(a, "status", "--pam-dir", str(a.confdir), "--json").stdout)
    assert s["ok"] is True and s["pam"]["files"] == []


# ---------------------------------------------------------------------------------------------
# report


def test_report_counts_the_adoption_funnel(fleet, make_account):
    alice, bob, carol, dave = (make_account(n) for n in ("alice", "bob", "carol", "dave"))
    a, b, c = fleet.host("host-a"), fleet.host("host-b"), fleet.host("host-c")

    r = ctl(a, "report", "--json")
    assert r.returncode == 0, r.stderr
    empty = json.loads(r.stdout)
    assert empty["host"]["users"] == 0 and empty["registry"]["users"] == 0

    # On host-a: alice accepts the offer and then signs in with her passkey; bob says "n";
    # carol says "never".
    assert a.login(alice, [alice.password, "y", PIN, PIN]).ok
    assert a.login(alice, [PIN]).ok
    assert a.login(bob, [bob.password, "n"]).ok
    assert a.login(carol, [carol.password, "never"]).ok
    # Elsewhere, by passkeyctl: alice on 3 hosts, bob on 2, dave on 1, carol on none.
    enroll(b, alice)
    enroll(c, alice)
    enroll(b, bob)
    enroll(c, bob)
    enroll(b, dave)

    r = ctl(a, "report", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["host"] == {"name": "host-a", "users": 3, "passkey_logins": 1, "password_logins_after_step_aside": 3,
                           "fallbacks": {"no_credentials": 3}, "offers": 3, "accepted": 1, "declined": 1, "never": 1,
                           "unanswered": 0, "pin_lockouts": 0}
    assert got["registry"] == {"directory": str(fleet.registry), "users": 4, "without_active_passkey": 1, "on_1_host": 1,
                               "on_2_hosts": 1, "on_3_or_more_hosts": 1}
    assert got["unreadable"] == []

    text = ctl(a, "report").stdout
    figures = {k: v for k, v in re.findall(r"^ +(\S.*?)\s{2,}(\d+)$", text, re.M)}
    assert figures == {"passkey logins": "1", "password logins after stepping aside": "3", "no_credentials": "3",
                       "offers to create a passkey": "3", "accepted": "1", "declined (n)": "1", "never": "1",
                       "unanswered": "0", "PIN lockouts": "0", "with active passkeys on 1 host": "1", "on 2 hosts": "1",
                       "on 3 or more hosts": "1", "without an active passkey": "1"}, text
    assert text.startswith("This host (host-a): 3 users with history\n")
    assert f"\nRegistry ({fleet.registry}): 4 users\n" in text

    # A damaged record is named, left out, and fails the command.
    (fleet.registry / f"{dave.name}.json").write_text("{ not json")
    r = ctl(a, "report", "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["registry"]["users"] == 3
    assert f"passkeyctl: warning: {fleet.registry}/{dave.name}.json is not a valid pam_passkey file" in r.stderr
    assert r.stderr.endswith("passkeyctl: 1 record could not be read and is left out of the figures; fix them as the warnings say\n")


# ---------------------------------------------------------------------------------------------
# An unusable registry


@pytest.mark.parametrize("argv", [
    ["list"], ["list", "{user}"], ["list", "--json"], ["explain", "{user}"], ["revoke", "{user}", "--all"],
    ["enroll", "{user}", "--pin-stdin"], ["report"],
])
def test_unsafe_registry_is_refused_with_the_fix(fleet, make_account, argv):
    alice = make_account("alice")
    a = fleet.host("host-a")
    os.chmod(fleet.registry, 0o777)
    try:
        r = ctl(a, argv[0], *[x.format(user=alice.name) for x in argv[1:]], input=f"{PIN}\n{PIN}\n")
    finally:
        os.chmod(fleet.registry, 0o755)
    assert r.returncode == 1, r
    assert r.stdout == ""
    line = one_error_line(r)
    assert f"{fleet.registry} is a directory writable by group or others (mode 0777)" in line, line
    assert f"fix: chmod go-w {fleet.registry}" in line
    assert held_here(a, alice) == []


def test_unusable_policy_or_host_identity_fails_every_command(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    # Warnings are shown and the command goes on with the default.
    a.set_policy(bogus_key="1")
    r = ctl(a, "list", alice.name)
    assert (r.returncode, r.stdout) == (0, f"{alice.name} has no passkeys.\n")
    assert r.stderr == f'passkeyctl: warning: {a.conf}:8: unknown key "bogus_key", ignored\n'

    a.conf.write_bytes(b"rp_id = \xff\n")
    for argv in (["list"], ["explain", alice.name], ["report"], ["unlock", alice.name]):
        r = ctl(a, *argv)
        assert r.returncode == 1, r
        assert one_error_line(r) == f"passkeyctl: policy file {a.conf} is not UTF-8 text (invalid byte at offset 8); fix: rewrite it as plain text\n"
    a.set_policy(host_id_file=fleet.root / "no-machine-id")
    r = ctl(a, "list")
    assert r.returncode == 1
    assert one_error_line(r).startswith(f"passkeyctl: this host has no identity: host id file {fleet.root}/no-machine-id does not exist; fix: ")


# ---------------------------------------------------------------------------------------------
# The man page


def test_man_page_renders_without_warnings_and_documents_every_option(build_dir):
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings=all", "-l", MAN_PAGE], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["groff", "-man", "-ww", "-z", MAN_PAGE], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr

    text = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", MAN_PAGE], capture_output=True, text=True).stdout
    text = re.sub(r"-\n\s*", "-", text)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"):
        assert re.search(rf"^{section}$", text, re.M), section
    exe = str(build_dir / "passkeyctl")
    for command in COMMANDS:
        help_text = subprocess.run([exe, command, "--help"], capture_output=True, text=True).stdout
        assert re.search(rf"^ +passkeyctl {command}\b", text, re.M), command
        for option in re.findall(r"^  (--[a-z-]+)", help_text, re.M):
            assert option in text, (command, option)
