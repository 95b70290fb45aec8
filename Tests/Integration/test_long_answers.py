"""Huge and missing answers at every prompt pam_passkey makes, through the conversation
function of a small C program (convdriver.c, built here with cc and -lpam): the PIN prompt
of an enrolled user, and after a password login (pam_unix nodelay, a real account) the
offer, "Choose a PIN" and "Confirm PIN". A 1 MiB answer, a NULL resp or a failed
conversation must never kill the program (the exit status is not a signal), never sign
anyone in with the passkey, and never create a credential."""
import pathlib
import signal
import subprocess

import pytest

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt

HERE = pathlib.Path(__file__).resolve().parent
PIN_A = "482913"
NEW_PIN = "739154"
TOO_LONG = "PINs are at most 63 characters."
STYLES = {"echo_off": "secret", "echo_on": "prompt", "error": "error", "info": "info"}


@pytest.fixture(scope="module")
def convdriver(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("convdriver") / "convdriver"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(HERE / "convdriver.c"), "-lpam"],
                   check=True)
    return out


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x":
                out.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
            out.append({"n": "\n", "t": "\t"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class Run:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr
        self.transcript, self.answers = [], []
        self.authenticate = self.setcred = None
        for line in proc.stdout.splitlines():
            word, _, rest = line.partition(" ")
            if word == "msg":
                style, _, text = rest.partition(" ")
                self.transcript.append((STYLES.get(style, style), unescape(text)))
            elif word == "answer":
                kind, _, length = rest.partition(" ")
                self.answers.append((kind, int(length)))
            elif word == "authenticate":
                self.authenticate = int(rest.split()[0])
            elif word == "setcred":
                self.setcred = int(rest.split()[0])

    @property
    def signalled(self):
        return self.returncode < 0

    def __str__(self):
        how = (f"killed by {signal.Signals(-self.returncode).name}" if self.signalled else f"exit {self.returncode}")
        return f"convdriver {how}\nstdout:\n{self.stdout}stderr:\n{self.stderr}"

    __repr__ = __str__


def drive(convdriver, host, user, *entries, when=()) -> Run:
    """One transaction on `host`'s login service; `when` is ((prompt prefix, entry), ...)."""
    cmd = [str(convdriver)]
    for prefix, entry in when:
        cmd += ["--when", prefix, entry]
    cmd += ["login", user.name, str(host.confdir), *entries]
    run = Run(subprocess.run(cmd, capture_output=True, text=True, timeout=120))
    # Whatever the answer, the program running the module must survive it.
    if run.signalled:
        pytest.fail(str(run), pytrace=False)
    assert run.returncode in (0, 1) and run.authenticate is not None, run
    return run


def enrolled(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    r = a.login(alice, [alice.password, "y", PIN_A, PIN_A])
    assert r.ok and r.transcript[-1][1].startswith("Passkey created."), r
    [cred] = fleet.credentials(alice)
    return alice, a, cred


def assert_passkey_granted_nothing(fleet, user, cred, run):
    """pam_authenticate succeeded only through the password, and the passkey was not used."""
    if run.authenticate == 0:
        assert PASSWORD in run.transcript and ("lit", len(user.password)) in run.answers, run
    [after] = fleet.credentials(user)
    assert after["id"] == cred["id"] and after["signCount"] == cred["signCount"], (cred, after)
    assert after.get("lastUsed") == cred.get("lastUsed"), (cred, after)


@pytest.mark.parametrize("fill", ["digits", "A"])
def test_1mib_pin_at_the_pin_prompt(fleet, make_account, convdriver, fill):
    alice, a, cred = enrolled(fleet, make_account)
    # The first PIN prompt gets 1 MiB; should the module ask again, an empty PIN (the
    # password instead), so a refused answer cannot use up the attempts.
    r = drive(convdriver, a, alice, f"big:{fill}", "lit:", when=[("Password: ", f"lit:{alice.password}")])
    assert r.transcript[0] == pin_prompt(alice, "host-a"), r
    assert r.answers[0] == ("big", 1 << 20), r
    assert_passkey_granted_nothing(fleet, alice, cred, r)
    assert r.authenticate == 0 and PASSWORD in r.transcript, r
    # The user is told why (the lead's fix: every conversation answer is bounded).
    assert any(TOO_LONG in text for kind, text in r.transcript if kind in ("error", "info")), r
    # The passkey still works with its PIN.
    ok = a.login(alice, [PIN_A])
    assert ok.ok and ok.transcript == [pin_prompt(alice, "host-a")], ok


def test_1mib_pin_with_no_password_is_refused(fleet, make_account, convdriver):
    alice, a, cred = enrolled(fleet, make_account)
    # 1 MiB at every PIN prompt and nothing else: the conversation ends before any password.
    r = drive(convdriver, a, alice, when=[("PIN for", "big:digits")])
    assert r.authenticate != 0, r
    assert_passkey_granted_nothing(fleet, alice, cred, r)


@pytest.mark.parametrize("fill", ["A", "digits"])
def test_1mib_answer_to_the_offer(fleet, make_account, convdriver, fill):
    bob = make_account("bob")
    a = fleet.host("host-a")
    r = drive(convdriver, a, bob, f"lit:{bob.password}", f"big:{fill}")
    assert r.authenticate == 0 and r.transcript[:2] == [PASSWORD, offer_create()], r
    # An answer the module does not understand is "no": no PIN is asked for, nothing made.
    assert choose_pin() not in r.transcript, r
    assert fleet.credentials(bob) == []


@pytest.mark.parametrize("fill", ["digits", "A"])
def test_1mib_new_pin(fleet, make_account, convdriver, fill):
    bob = make_account("bob")
    a = fleet.host("host-a")
    # 1 MiB as the new PIN, and again should the module ask again; then no answer at all.
    r = drive(convdriver, a, bob, f"big:{fill}", f"big:{fill}",
              when=[("Password: ", f"lit:{bob.password}"), ("Create a passkey", "lit:y")])
    assert r.authenticate == 0 and r.transcript[:3] == [PASSWORD, offer_create(), choose_pin()], r
    assert ("big", 1 << 20) in r.answers, r
    assert fleet.credentials(bob) == [], r
    assert not any(text.startswith("Passkey created") for _, text in r.transcript), r


@pytest.mark.parametrize("fill", ["digits", "A"])
def test_1mib_confirm_pin(fleet, make_account, convdriver, fill):
    bob = make_account("bob")
    a = fleet.host("host-a")
    # A good new PIN, then 1 MiB to confirm it; asked again, the confirmation gets nothing.
    r = drive(convdriver, a, bob, f"big:{fill}",
              when=[("Password: ", f"lit:{bob.password}"), ("Create a passkey", "lit:y"),
                    ("Choose a PIN", f"lit:{NEW_PIN}")])
    assert r.authenticate == 0, r
    assert r.transcript[:4] == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN], r
    assert ("big", 1 << 20) in r.answers, r
    assert fleet.credentials(bob) == [], r
    assert not any(text.startswith("Passkey created") for _, text in r.transcript), r


@pytest.mark.parametrize("entry", ["null", "converr"])
def test_no_answer_at_the_pin_prompt(fleet, make_account, convdriver, entry):
    alice, a, cred = enrolled(fleet, make_account)
    r = drive(convdriver, a, alice, entry, when=[("Password: ", f"lit:{alice.password}")])
    assert r.transcript[0] == pin_prompt(alice, "host-a"), r
    assert_passkey_granted_nothing(fleet, alice, cred, r)


@pytest.mark.parametrize("entry", ["null", "converr"])
@pytest.mark.parametrize("prompt", ["Create a passkey", "Choose a PIN", "Confirm PIN"])
def test_no_answer_after_the_password(fleet, make_account, convdriver, prompt, entry):
    bob = make_account("bob")
    a = fleet.host("host-a")
    rules = [("Password: ", f"lit:{bob.password}"), ("Create a passkey", "lit:y"), ("Choose a PIN", f"lit:{NEW_PIN}"),
             ("Confirm PIN", f"lit:{NEW_PIN}")]
    rules = [(p, entry if p == prompt else e) for p, e in rules]
    r = drive(convdriver, a, bob, when=rules)
    assert r.authenticate == 0 and r.transcript[:2] == [PASSWORD, offer_create()], r
    assert fleet.credentials(bob) == [], r
