"""pam_passkey as installed on this machine (`scripts/install.sh` into /, enabled with
`pam-auth-update --enable passkey passkey-append`), in the programs people sign in through,
each a real program from Debian's packages driven through a pseudo-terminal from the uid a
person would have:

  login       /bin/login run by root, as a console's getty runs it
  su, su -    run by bob, for alice (su is setuid root: real uid bob)
  sudo        `sudo -k`, then `sudo id` run by alice, with a line in /etc/sudoers.d
  vlock       run by alice: Debian's console locker, the model of a screen locker (it
              authenticates the locking user; setuid root, real uid alice)
  pamtester   `pamtester login alice authenticate` run by alice: a PAM application that
              runs entirely as the user, as graphical screen lockers do

For each: the PIN signs in without a password prompt, an empty PIN gives the password, a
wrong PIN is refused (and logged), the offer appears only where policy allows, records land
under the person who signed in, and answers of 256 and 4,000 bytes at every prompt the
module makes neither crash the program nor let anyone in.

(sshd with remote_sessions = allow is in test_sshd.py.)
"""
import os
import re
import secrets
import time

import pytest

import ptyprograms as pp

PIN = "482913"
WRONG_PIN = "135790"
MAX_ATTEMPTS = 10          # pin_max_attempts in the test policy (ptyprograms.InstalledSystem)
OFFER = "Create a passkey for this computer? Next time you can sign in with a PIN. [Y/n/never] "
CHOOSE = "Choose a PIN (at least 6 digits): "
CONFIRM = "Confirm PIN: "
CREATED = "Passkey created."
NOT_CREATED = "No passkey was created; your password still works."
TOO_LONG = "PINs are at most 63 characters."
BROKEN = "Passkeys are not working on this computer right now."


def pin_prompt(user) -> str:
    return f"PIN for {user}'s passkey on {pp.HOST_NAME}: "


def wrong_pin(left: int) -> str:
    return f"Wrong PIN. {left} attempts left before this passkey is locked."


# -- the system, the people, the log ----------------------------------------------------------

@pytest.fixture(scope="module")
def system(build_dir):
    from accounts import require_root
    require_root()
    installed = pp.InstalledSystem(build_dir)
    try:
        # vlock's package ships no PAM file (it falls back to "other"): a site gives it one.
        if not (pp.PAM_D / "vlock").exists():
            installed.service_file("vlock", "# written by test_programs.py\n@include common-auth\n@include common-account\n")
        yield installed
    finally:
        installed.close()


class Log:
    """What pam_syslog and the helper wrote since a mark."""

    def __init__(self, capture):
        self.capture = capture

    def mark(self) -> int:
        return len(self.capture.read())

    def since(self, mark: int) -> list:
        return self.capture.read()[mark:]

    def module(self, mark: int, user=None, service=None) -> list:
        lines = [l for l in self.since(mark) if "pam_passkey(" in l]
        if user is not None:
            lines = [l for l in lines if f'user="{user}"' in l or f"user={user} " in l]
        if service is not None:
            lines = [l for l in lines if f'service="{service}"' in l or f"service={service} " in l]
        return lines


@pytest.fixture(scope="module")
def log(system):
    from syslogcapture import SyslogCapture
    capture = SyslogCapture.when_free()
    try:
        yield Log(capture)
    finally:
        capture.close()


class People:
    def __init__(self, system):
        self.alice = system.account("alice")
        self.bob = system.account("bob")
        system.sudoers([f"{self.alice.name} ALL=(ALL:ALL) ALL", f"{self.bob.name} ALL=(ALL:ALL) ALL"])


@pytest.fixture(scope="module")
def people(system):
    return People(system)


def first_console_login(alice) -> pp.Ended:
    """alice's first login at the console: the password, then the offer, answered as a
    person would (a PIN chosen and confirmed), then her shell."""
    t = pp.Terminal(["/bin/login"])
    try:
        t.expect("login: ")
        t.type(alice.name)
        t.expect("Password: ")
        t.type(alice.password)
        t.expect(OFFER)
        t.type("y")
        t.expect(CHOOSE)
        t.type(PIN)
        t.expect(CONFIRM)
        t.type(PIN)
        t.expect(CREATED)
        t.expect("$ ")
        assert shell_whoami(t) == alice.name
        ended = t.finish()
    finally:
        t.kill()
    return ended


@pytest.fixture(scope="module")
def enrolment(system, people, log):
    """alice's first login at the console. Everything she saw, and what was logged."""
    mark = log.mark()
    ended = first_console_login(people.alice)
    return ended, log.module(mark, user=people.alice.name)


@pytest.fixture
def alice_passkey(enrolment, system, people):
    """alice has her passkey here, with a full count of PIN attempts (an administrator's
    `passkeyctl unlock`, so one test's wrong PINs do not change the next one's message)."""
    p = system.passkeyctl("unlock", people.alice.name)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(system.credentials(people.alice)) == 1
    return PIN


def shell_whoami(t: pp.Terminal) -> str:
    """At the prompt of the shell the program started: who am I? Then leave it."""
    # What the shell prints differs from the echo of what was typed.
    t.type("printf 'w%so=%s.\\n' h \"$(id -un)\"; exit")
    t.expect("who=")
    t.expect(".\r\n")
    return t.seen.rsplit("who=", 1)[1].split(".\r\n", 1)[0]


def expect_pin_prompt(t: pp.Terminal, program, target):
    """The PIN prompt for target's passkey; fails at once when the program asks for the
    password instead (the module stepped aside), saying what the person saw."""
    t.expect_first(pin_prompt(target), program.password_prompt(target))


# -- the programs -------------------------------------------------------------------------------

class Program:
    """How one program is started for `target` by `by`, what its password prompt says, how
    a person tells they got in, and what it prints when it refuses."""
    name = ""
    service = ""
    silent = False      # PAM_SILENT: info and error lines suppressed, prompts still shown
    refusals = ()

    def start(self, target, by) -> pp.Terminal:
        raise NotImplementedError

    def password_prompt(self, target) -> str:
        return "Password: "

    def got_in(self, t: pp.Terminal, target) -> pp.Ended:
        raise NotImplementedError

    def refused(self, t: pp.Terminal) -> pp.Ended:
        t.expect(*self.refusals)
        return t.finish()

    def not_in(self, target) -> tuple:
        """What the program prints instead when it did not let the person in."""
        return (self.password_prompt(target), *self.refusals)


class Login(Program):
    name = service = "login"
    refusals = ("Login incorrect",)

    def start(self, target, by=None):
        t = pp.Terminal(["/bin/login"])
        t.expect("login: ")
        t.type(target.name)
        return t

    def got_in(self, t, target):
        t.expect_first("$ ", *self.not_in(target))
        assert shell_whoami(t) == target.name, t.screen()
        return t.finish()

    def refused(self, t):
        t.expect("Login incorrect")
        t.expect("login: ")      # asks again; the console stays shut
        t.kill()
        return None


class Su(Program):
    refusals = ("su: Authentication failure",)

    def __init__(self, login_shell: bool):
        self.login_shell = login_shell
        self.name = "su-l" if login_shell else "su"
        self.service = self.name

    def start(self, target, by):
        return pp.Terminal(["su", "-", target.name] if self.login_shell else ["su", target.name], person=by)

    def got_in(self, t, target):
        t.expect_first("$ ", *self.not_in(target))
        assert shell_whoami(t) == target.name, t.screen()
        return t.finish()


class Sudo(Program):
    name = service = "sudo"
    silent = True
    refusals = ("Sorry, try again.", "incorrect password attempt")

    def start(self, target, by):
        assert target.name == by.name, "sudo authenticates the invoking user"
        # On the same terminal: sudo's cached credentials are per terminal. exec, so the
        # exit status (or signal) is sudo's own.
        return pp.Terminal(["/bin/sh", "-c", "sudo -k; exec sudo id"], person=by)

    def password_prompt(self, target):
        return f"[sudo] password for {target.name}: "

    def got_in(self, t, target):
        t.expect_first("uid=0(root)", *self.not_in(target))
        return t.finish()


class Vlock(Program):
    name = service = "vlock"
    refusals = ("Please press [ENTER] to unlock.",)    # locked again

    def start(self, target, by):
        assert target.name == by.name, "vlock unlocks for the user who locked"
        t = pp.Terminal(["vlock"], person=by)
        t.expect("Please press [ENTER] to unlock.")
        t.type("")
        return t

    def password_prompt(self, target):
        return "Password: "     # (vlock puts "USER's " before the first line the module prints)

    def got_in(self, t, target):
        # vlock ends (exit status 0) only when the terminal is unlocked.
        return t.expect_end(*self.not_in(target))


class Pamtester(Program):
    """pamtester run by `by` (None: root), service login."""
    service = "login"
    refusals = ("pamtester: Authentication failure", "pamtester: Authentication service cannot retrieve")

    def __init__(self, ops=("authenticate",), as_root=False):
        self.ops = ops
        self.as_root = as_root
        self.name = "pamtester-root" if as_root else "pamtester"

    def start(self, target, by):
        return pp.Terminal(["pamtester", "login", target.name, *self.ops], person=None if self.as_root else by)

    def got_in(self, t, target):
        if "pamtester: successfully authenticated" not in t.seen:    # (printed before an offer)
            t.expect_first("pamtester: successfully authenticated", *self.not_in(target))
        if "setcred" in self.ops:
            t.expect("pamtester: credential info has successfully been set")
        return t.finish()


LOGIN, SU, SU_L, SUDO, VLOCK, PAMTESTER = Login(), Su(False), Su(True), Sudo(), Vlock(), Pamtester()
PROGRAMS = [LOGIN, SU, SU_L, SUDO, VLOCK, PAMTESTER]


def who_runs(program, people):
    """(the account signing in, the account running the program)"""
    if program in (SU, SU_L):
        return people.alice, people.bob
    return people.alice, people.alice


def assert_got_in(ended: pp.Ended, t: pp.Terminal):
    assert not ended.killed and ended.status == 0, f"{t.argv}: {ended.describe()}:\n{t.screen()}"


def sign_in(program, target, by, pin: str, password: str = None) -> pp.Terminal:
    """target signs in through `program` run by `by`: `pin` at the PIN prompt, then (after
    an empty PIN) `password` at the password prompt. Fails unless they got in."""
    t = program.start(target, by)
    try:
        expect_pin_prompt(t, program, target)
        t.type(pin)
        if password is not None:
            t.expect(program.password_prompt(target))
            t.type(password)
        ended = program.got_in(t, target)
    finally:
        t.kill()
    assert_got_in(ended, t)
    return t


def assert_nothing_under_root(system):
    """A sudo by alice records alice, never root (whom sudo makes PAM_USER for pam_setcred)."""
    for top in (system.registry, system.state):
        found = [str(p) for p in top.rglob("*") if p.name in ("root.json", ".root.json.lock")]
        assert found == [], f"files for root: {found}"


# -- the stack is the site's ------------------------------------------------------------------

def test_pam_auth_update_put_the_passkey_around_the_password_in_every_programs_stack(system):
    auth = [l.split() for l in system.common_auth.splitlines() if l.startswith("auth")]
    modules = [next(w for w in l if w.endswith(".so")) for l in auth]
    # The passkey first, jumping over pam_unix and pam_deny onto pam_permit when it succeeds;
    # the append step after the primary block.
    assert modules[:4] == ["pam_passkey.so", "pam_unix.so", "pam_deny.so", "pam_permit.so"], system.common_auth
    assert auth[0] == ["auth", "[success=2", "default=ignore]", "pam_passkey.so"], system.common_auth
    assert ["auth", "optional", "pam_passkey.so", "append"] in auth[4:], system.common_auth
    for service in ("login", "su", "su-l", "sudo", "sudo-i", "vlock"):
        assert "common-auth" in auth_files(service), f"/etc/pam.d/{service} does not reach common-auth"


def auth_files(service: str) -> set:
    """The files a service's auth stack reads, following @include and include/substack."""
    seen, todo = set(), [service]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        text = (pp.PAM_D / name).read_text()
        todo += re.findall(r"^\s*@include\s+(\S+)", text, re.M)
        todo += re.findall(r"^\s*-?auth\s+(?:include|substack)\s+(\S+)", text, re.M)
    return seen


def test_login_offers_a_passkey_after_the_password_and_creates_it(enrolment, system, people):
    ended, lines = enrolment
    seen = ended.seen
    assert not ended.killed and ended.status == 0, ended.describe()
    # The order a person meets them in.
    order = [seen.index(s) for s in ("Password: ", OFFER, CHOOSE, CONFIRM, CREATED, "who=")]
    assert order == sorted(order), seen
    assert pin_prompt(people.alice) not in seen
    creds = system.credentials(people.alice)
    assert [(c["hostName"], c["kind"]) for c in creds] == [(pp.HOST_NAME, "platform")], creds
    history = system.history(people.alice)
    assert history["counters"]["offers"] == 1 and history["counters"]["accepted"] == 1, history
    assert any("decision=offer reason=create" in l for l in lines), lines
    assert any("decision=created" in l for l in lines), lines


# -- the PIN, the empty PIN, a wrong PIN, in each program ---------------------------------------

@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_the_pin_signs_in_without_a_password(program, alice_passkey, system, people, log):
    target, by = who_runs(program, people)
    before = system.credentials(target)[0]
    counts = system.history(target)["counters"]["passkeyLogins"]
    mark = log.mark()
    started = int(time.time())
    t = program.start(target, by)
    try:
        expect_pin_prompt(t, program, target)
        after_prompt = t.mark()
        t.type(alice_passkey)
        ended = program.got_in(t, target)
    finally:
        t.kill()
    assert_got_in(ended, t)
    assert "password" not in t.since(after_prompt).lower(), t.screen()
    assert OFFER not in t.seen and BROKEN not in t.seen, t.screen()
    # The use is recorded under the person who signed in.
    now = system.credentials(target)[0]
    assert now["signCount"] > before["signCount"], (before, now)
    assert now["lastUsed"]["host"] == pp.HOST_NAME and now["lastUsed"]["time"] >= started, now
    # Written from a user's program: still root's file and writable by root only, or the
    # next login would refuse to read it (see also test_state_written_from_the_programs_is_roots).
    st = os.stat(system.registry / f"{target.name}.json")
    assert (st.st_uid, st.st_mode & 0o022) == (0, 0), (st.st_uid, oct(st.st_mode))
    if program is not PAMTESTER:     # (see test_a_program_running_as_the_user_keeps_the_users_history)
        assert system.history(target)["counters"]["passkeyLogins"] == counts + 1
    lines = log.module(mark, user=target.name, service=program.service)
    assert any("decision=success reason=passkey_verified" in l for l in lines), log.since(mark)
    if program is SUDO:
        assert_nothing_under_root(system)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_an_empty_pin_gives_the_password(program, alice_passkey, system, people, log):
    target, by = who_runs(program, people)
    fallbacks = system.history(target)["counters"]["fallbacks"].get("cancelled", 0)
    mark = log.mark()
    started = int(time.time())
    t = program.start(target, by)
    try:
        expect_pin_prompt(t, program, target)
        t.type("")
        t.expect(program.password_prompt(target))
        t.type(target.password)
        ended = program.got_in(t, target)
    finally:
        t.kill()
    assert_got_in(ended, t)
    assert "Wrong PIN" not in t.seen and OFFER not in t.seen, t.screen()
    lines = log.module(mark, user=target.name, service=program.service)
    assert any("decision=step_aside reason=cancelled" in l for l in lines), log.since(mark)
    # The cancel is history of the person who signed in (it feeds cancel_threshold); so is
    # the password login after it, recorded at pam_setcred (vlock and pamtester here call
    # pam_authenticate only).
    history = system.history(target)
    if program is not PAMTESTER:     # (see test_a_program_running_as_the_user_keeps_the_users_history)
        assert history["host"].get("lastCancel", 0) >= started, history
    if program not in (VLOCK, PAMTESTER):
        assert history["counters"]["fallbacks"].get("cancelled", 0) == fallbacks + 1, history
    if program is SUDO:
        assert_nothing_under_root(system)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_a_wrong_pin_is_refused_and_logged(program, alice_passkey, system, people, log):
    target, by = who_runs(program, people)
    mark = log.mark()
    t = program.start(target, by)
    try:
        expect_pin_prompt(t, program, target)
        t.type(WRONG_PIN)
        after_wrong = t.mark()
        expect_pin_prompt(t, program, target)   # asked again: the wrong PIN did not get in
        t.type(alice_passkey)
        ended = program.got_in(t, target)
    finally:
        t.kill()
    assert_got_in(ended, t)
    refusal = t.since(after_wrong)
    if program.silent:
        assert "Wrong PIN" not in t.seen, t.screen()
    else:
        assert wrong_pin(MAX_ATTEMPTS - 1) in refusal, t.screen()
    assert "password" not in refusal.lower(), t.screen()
    # Each wrong PIN is a line of its own, as pam_unix logs each wrong password.
    failed = [l for l in log.module(mark, user=target.name, service=program.service)
              if "decision=failed reason=wrong_pin" in l]
    assert len(failed) == 1, log.since(mark)


def test_a_program_running_as_the_user_keeps_the_users_history(alice_passkey, system, people):
    """A screen locker running as alice (pamtester here): her passkey login and her
    cancelled PIN prompt are this host's history of her, as they are from login or su. The
    history feeds decisions (cancel_threshold: a user who always answers the PIN prompt of
    her screen locker with Enter is asked less) and passkeyctl report; the module running
    as alice cannot write it, the setuid helper it asks can."""
    alice = people.alice
    before = system.history(alice)
    started = int(time.time())
    sign_in(PAMTESTER, alice, alice, alice_passkey)
    sign_in(PAMTESTER, alice, alice, "", alice.password)
    after = system.history(alice)
    assert after["counters"]["passkeyLogins"] == before["counters"]["passkeyLogins"] + 1, after
    assert after["host"].get("lastPasskeyLogin", 0) >= started, after
    assert after["host"].get("lastCancel", 0) >= started, after


def test_state_written_from_the_programs_is_roots(alice_passkey, system, people):
    """The module and the helper it starts do not run with group root in these programs:
    login has set the user's group before pam_setcred (where alice's passkey was created),
    and su, sudo and vlock are setuid root but not setgid (the caller's group). Whatever
    they write into the registry and the host state (keys, host secret, PIN counters,
    history) must still be root:root (README "Files"), not owned by the group of the user
    who enrolled first or ran su."""
    alice, bob = people.alice, people.bob
    sign_in(SU, alice, bob, alice_passkey)
    sign_in(SUDO, alice, alice, "", alice.password)
    sign_in(VLOCK, alice, alice, alice_passkey)
    foreign = []
    for top in (system.registry, system.state):
        for path in [top, *top.rglob("*")]:
            st = os.lstat(path)
            if (st.st_uid, st.st_gid) != (0, 0):
                foreign.append(f"{path.relative_to(system.dir)} {st.st_uid}:{st.st_gid}")
    assert foreign == [], f"not root:root (alice is {alice.gid}, bob {bob.gid}): {foreign}"


def test_three_wrong_pins_and_a_wrong_password_keep_the_console_shut(alice_passkey, system, people, log):
    alice = people.alice
    mark = log.mark()
    t = LOGIN.start(alice)
    try:
        for attempt in range(3):
            expect_pin_prompt(t, LOGIN, alice)
            t.type(WRONG_PIN)
            if attempt < 2:
                t.expect_first(wrong_pin(MAX_ATTEMPTS - 1 - attempt), pin_prompt(alice), "Password: ")
        t.expect("Password: ")
        t.type("not-" + alice.password)
        LOGIN.refused(t)
    finally:
        t.kill()
    assert "who=" not in t.seen and "Last login" not in t.seen, t.screen()
    failed = [l for l in log.module(mark, user=alice.name, service="login") if "decision=failed reason=wrong_pin" in l]
    assert len(failed) == 3, log.since(mark)
    assert not any("decision=success" in l for l in log.module(mark, user=alice.name)), log.since(mark)


# -- the offer: only where policy allows ------------------------------------------------------

NO_OFFER = [SU, SU_L, SUDO, VLOCK, Pamtester(ops=("authenticate", "setcred"))]


@pytest.mark.parametrize("program", NO_OFFER, ids=lambda p: p.name + ("-setcred" if isinstance(p, Pamtester) else ""))
def test_no_offer_outside_login(program, system, people, log):
    """bob has no passkey: after his password, login would offer one; su, sudo, vlock and a
    program running as the user never do."""
    bob = people.bob
    by = people.alice if program in (SU, SU_L) else bob
    mark = log.mark()
    t = program.start(bob, by)
    try:
        t.expect(program.password_prompt(bob))
        t.type(bob.password)
        ended = program.got_in(t, bob)
    finally:
        t.kill()
    assert_got_in(ended, t)
    assert "passkey" not in t.seen.lower(), t.screen()
    assert system.credentials(bob) == [] and "offers" not in system.record(bob), system.record(bob)
    lines = log.module(mark)
    assert not any("decision=offer" in l for l in lines), lines
    if program in (SU, SU_L):
        assert any(f'user="{bob.name}"' in l and "decision=no_offer reason=skipped_service" in l for l in lines), lines
    if program is SUDO:
        # sudo makes root PAM_USER before pam_setcred: the append step still speaks of bob.
        assert not any('user="root"' in l for l in lines), lines
        assert_nothing_under_root(system)
    if isinstance(program, Pamtester):
        assert any(f'user="{bob.name}"' in l and "decision=no_offer reason=unprivileged_caller" in l
                   for l in lines), lines


def test_sudo_by_alice_never_records_anything_under_root(alice_passkey, system, people, log):
    alice = people.alice
    mark = log.mark()
    sign_in(SUDO, alice, alice, alice_passkey)
    sign_in(SUDO, alice, alice, "", alice.password)
    assert_nothing_under_root(system)
    assert not any('user="root"' in l for l in log.module(mark)), log.since(mark)
    assert system.history(alice)["counters"]["fallbacks"].get("cancelled", 0) >= 1


# -- another account ----------------------------------------------------------------------------

def test_a_user_asking_about_another_account_gets_no_pin_prompt(alice_passkey, system, people, log):
    """bob runs the screen-locker path (a PAM application running as himself) for alice:
    no PIN prompt for her passkey, nothing about it, and none of her PIN attempts used."""
    alice, bob = people.alice, people.bob
    before = system.history(alice)
    mark = log.mark()
    t = pp.Terminal(["pamtester", "login", alice.name, "authenticate"], person=bob)
    try:
        i = t.expect(pin_prompt(alice), "Password: ")
        assert i == 1, f"bob was asked for alice's PIN:\n{t.screen()}"
        t.type("")
        ended = PAMTESTER.refused(t)
    finally:
        t.kill()
    assert not ended.killed and ended.status != 0, ended.describe()
    assert "passkey" not in t.seen.lower(), t.screen()
    assert system.history(alice) == before
    lines = log.module(mark, user=alice.name)
    assert any("decision=step_aside reason=other_account" in l for l in lines), log.since(mark)
    assert not any("authenticator_broken" in l or "state_unreadable" in l for l in lines), lines
    assert not [l for l in log.since(mark) if "pam_passkey_helper" in l and alice.name in l], log.since(mark)


def test_the_setuid_helper_serves_a_user_only_their_own_account(alice_passkey, system, people, log):
    alice, bob = people.alice, people.bob
    cred = pp.base64url_decode(system.credentials(alice)[0]["id"])
    probe = lambda user: {"op": "probe", "user": user.name, "rp": pp.RP_ID}
    get = {"op": "get", "user": alice.name, "rp": pp.RP_ID, "cdh": secrets.token_bytes(32), "allow": [cred]}

    as_bob = pp.HelperConversation(bob)
    try:
        own = as_bob.request(probe(bob))
        other = as_bob.request(probe(alice))
    finally:
        as_bob.close()
    assert own and own[-1]["reply"] == "probe" and [r["creds"] for r in own[-1]["reports"]] == [[]], own
    assert other and other[-1]["reply"] == "failure" and other[-1]["code"] == "not_permitted", other

    as_bob = pp.HelperConversation(bob)
    try:
        assertion = as_bob.request(get, pin=PIN.encode())
    finally:
        as_bob.close()
    assert [m for m in assertion if "ask" in m] == [], f"the helper asked bob for alice's PIN: {assertion}"
    assert assertion and assertion[-1]["reply"] == "failure" and assertion[-1]["code"] == "not_permitted", assertion

    # Root's helper holds her passkey: the refusal above is about who asked.
    as_root = pp.HelperConversation()
    try:
        held = as_root.request(probe(alice))
    finally:
        as_root.close()
    assert held[-1]["reply"] == "probe" and [c["id"] for c in held[-1]["reports"][0]["creds"]] == [cred], held
    assert held[-1]["reports"][0]["creds"][0]["left"] == MAX_ATTEMPTS, "bob's requests used up alice's PIN attempts"


# -- long answers ---------------------------------------------------------------------------------

LONG = [256, 4000]     # a terminal line holds at most 4,095 bytes in canonical mode
PIN_PROGRAMS = [LOGIN, SU, PAMTESTER]
OFFER_PROGRAMS = [LOGIN, Pamtester(ops=("authenticate", "setcred"), as_root=True)]


@pytest.mark.parametrize("size", LONG)
@pytest.mark.parametrize("program", PIN_PROGRAMS, ids=lambda p: p.name)
def test_a_long_answer_at_the_pin_prompt_is_refused_and_the_password_still_works(program, size, alice_passkey,
                                                                                 system, people):
    target, by = who_runs(program, people)
    t = program.start(target, by)
    try:
        expect_pin_prompt(t, program, target)
        t.type("7" * size)
        t.expect_first(TOO_LONG, pin_prompt(target), program.password_prompt(target))
        # Asked again, or straight to the password: either way the password gets in.
        if t.expect(pin_prompt(target), program.password_prompt(target)) == 0:
            t.type("")
            t.expect(program.password_prompt(target))
        t.type(target.password)
        ended = program.got_in(t, target)
    finally:
        t.kill()
    assert_got_in(ended, t)


def person_without_passkey(system):
    return system.account("new")


def first_login(program, person) -> pp.Terminal:
    """The password, and the offer that follows it."""
    t = program.start(person, None)
    t.expect("Password: ")
    t.type(person.password)
    t.expect_first(OFFER, "$ ", "pamtester: credential info has successfully been set", *program.refusals)
    return t


@pytest.mark.parametrize("size", LONG)
@pytest.mark.parametrize("program", OFFER_PROGRAMS, ids=lambda p: p.name)
def test_a_long_answer_to_the_offer_creates_nothing(program, size, system):
    person = person_without_passkey(system)
    t = first_login(program, person)
    try:
        after = t.mark()
        t.type("y" * size)
        ended = program.got_in(t, person)
    finally:
        t.kill()
    assert_got_in(ended, t)
    assert CHOOSE not in t.since(after) and CREATED not in t.since(after), t.screen()
    assert system.credentials(person) == []


@pytest.mark.parametrize("size", LONG)
@pytest.mark.parametrize("program", OFFER_PROGRAMS, ids=lambda p: p.name)
def test_long_answers_when_choosing_and_confirming_a_pin(program, size, system):
    """A long new PIN is refused with the rule and asked again; so is a long confirmation;
    a proper PIN after both creates the passkey."""
    person = person_without_passkey(system)
    t = first_login(program, person)
    try:
        t.type("y")
        t.expect(CHOOSE)
        t.type("5" * size)
        t.expect_first("at most 63 characters", CHOOSE, CONFIRM, NOT_CREATED)
        t.expect(CHOOSE)
        t.type(PIN)
        t.expect(CONFIRM)
        t.type("5" * size)
        # Refused (too long, or not the PIN chosen), then asked again: the confirmation, or
        # the choice from the start.
        refusal = t.expect("at most 63 characters", "The PINs did not match.", NOT_CREATED, CREATED)
        assert refusal in (0, 1), f"a long confirmation was not refused:\n{t.screen()}"
        again = t.expect(CONFIRM, CHOOSE, NOT_CREATED)
        assert again != 2, f"gave up after one long confirmation:\n{t.screen()}"
        if again == 1:
            t.type(PIN)
            t.expect_first(CONFIRM, NOT_CREATED)
        t.type(PIN)
        t.expect_first(CREATED, NOT_CREATED, CHOOSE, CONFIRM)
        ended = program.got_in(t, person)
    finally:
        t.kill()
    assert_got_in(ended, t)
    assert len(system.credentials(person)) == 1
