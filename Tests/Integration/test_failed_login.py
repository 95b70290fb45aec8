"""An offer after a wrong password (issue 19, finding 2). libpam runs pam_setcred along the
path pam_authenticate took, and an application may call it after a failure: a small C program
(failed_login.c) does, with a wrong password, answering "y" and a PIN of its choosing to
anything asked. Through the real module, real libpam and pam_unix, with a real account, it
runs against every stack the README, the pam.d/ samples and the pam-auth-update profiles show,
and against the README's old `required` stack: none of them shows an offer (every message
of each conversation is printed and checked); the safe ones still offer after the right
password, and the unsafe one is refused by the append step (`unsafe_stack`, naming the file
and line) and flagged by `passkeyctl status`."""
import os
import pathlib
import re
import secrets
import shutil
import subprocess

import pytest

import pamdriver
from fleet import offer_create

ROOT = pathlib.Path(__file__).resolve().parents[2]
OFFER = offer_create()[1]

# The policy lets every service offer and never snoozes, so each stack's own verdict shows.
POLICY = {"append_skip_services": "none", "append_snooze_days": "0", "append_max_offers": "100"}


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    out = tmp_path_factory.mktemp("failed-login") / "failed_login"
    subprocess.run(["cc", "-Wall", "-Wextra", "-Werror", "-O2", "-o", str(out),
                    str(ROOT / "Tests/Integration/failed_login.c"), "-lpam"], check=True)
    return out


def attempt(program, service, user, password, confdir=None, ruid=None):
    """Runs failed_login.c: (every message it was shown, pam_authenticate's code, pam_setcred's)."""
    env = dict(os.environ)
    if ruid is not None:
        env["FAILED_LOGIN_RUID"] = str(ruid)
    argv = [str(program), service, user.name, password] + ([str(confdir)] if confdir else [])
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    results = {m.group(1): int(m.group(2)) for m in (re.match(r"(pam_authenticate|pam_setcred) (\d+) ", l) for l in lines) if m}
    messages = [l for l in lines if not re.match(r"pam_(authenticate|setcred) \d+ ", l)]
    return messages, results["pam_authenticate"], results["pam_setcred"]


def readme_block(marker):
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if marker in l)
    opened = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    closed = next(i for i in range(opened + 1, len(lines)) if lines[i].startswith("```"))
    return "\n".join(lines[opened + 1:closed]) + "\n"


def pam_auth_update(tmp_path, *profiles):
    """The common-auth pam-auth-update writes from these profiles (ours from Packaging/, the
    others from this system), run for real with --root in a private mount namespace whose
    /var/cache/debconf is a copy: nothing of this machine's PAM or debconf state changes."""
    root = tmp_path / "pam-auth-update"
    configs = root / "usr/share/pam-configs"
    for d in (root / "etc/pam.d", root / "var/lib/pam", configs):
        d.mkdir(parents=True)
    for name in profiles:
        mine = ROOT / "Packaging/pam-configs" / name
        shutil.copy(mine if mine.exists() else pathlib.Path("/usr/share/pam-configs") / name, configs / name)
    debconf = tmp_path / "debconf"
    shutil.copytree("/var/cache/debconf", debconf)
    script = (f"mount --bind {debconf} /var/cache/debconf && "
              f"exec pam-auth-update --root {root} --force --enable passkey passkey-append")
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    assert p.returncode == 0, p.stdout + p.stderr
    return (root / "etc/pam.d/common-auth").read_text()


def render(text, host, stack_file=None):
    """A stack as written for /etc/pam.d, made to run here: pam_passkey.so is the build's, with
    the host's policy (and stack= for a private directory); pam_unix answers without its
    2-second delay and pam_faildelay waits for nothing. Control values are left as they are."""
    out = []
    for line in text.splitlines():
        rule, hash, comment = line.partition("#")
        words = rule.split()
        if not {"pam_passkey.so", "pam_unix.so", "pam_faildelay.so"} & set(words):
            out.append(line)
            continue
        if "pam_passkey.so" in words:
            rule = re.sub(r"(?<!\S)pam_passkey\.so(?!\S)", f"{host.build_dir / 'pam_passkey.so'} conf={host.conf}", rule).rstrip()
            if stack_file:
                rule += f" stack={stack_file}"
        elif "pam_unix.so" in words:
            rule = rule.rstrip() + " nodelay"
        elif "pam_faildelay.so" in words:
            rule = re.sub(r"delay=\d+", "delay=0", rule)
        out.append(rule + (f" {hash}{comment}" if hash else ""))
    return "\n".join(out) + "\n"


# Debian 12's /etc/pam.d/login, auth part. Debian's libpam reads every include named without a
# path from /etc/pam.d, even under pam_start_confdir: the private common-auth is named by path.
DEBIAN_LOGIN = """auth       optional   pam_faildelay.so  delay=3000000
auth       requisite  pam_nologin.so
@include {confdir}/common-auth
auth       optional   pam_group.so
"""


def cases():
    samples = {name: (ROOT / "pam.d" / name).read_text() for name in ("login", "sshd", "su", "passkey-auth", "common-auth")}
    """(title, service, {file name: a function of a scratch directory giving its text})."""
    samples = {name: (ROOT / "pam.d" / name).read_text() for name in ("login", "sshd", "su", "passkey-auth", "common-auth")}
    profiles = ("unix", "passkey", "passkey-append")
    return [
        ("README by hand", "login", {"login": lambda tmp: readme_block("**By hand**")}),
        ("README common-auth", "common-auth", {"common-auth": lambda tmp: readme_block("`/etc/pam.d/common-auth` then reads:")}),
    ] + [(f"pam.d/{name}", name, {name: (lambda tmp, t=text: t)}) for name, text in samples.items()] + [
        ("pam-auth-update common-auth", "common-auth", {"common-auth": lambda tmp: pam_auth_update(tmp, *profiles)}),
        ("pam-auth-update common-auth with pam_cap", "common-auth",
         {"common-auth": lambda tmp: pam_auth_update(tmp, "capability", *profiles)}),
        ("Debian login, pam-auth-update common-auth", "login",
         {"login": lambda tmp: DEBIAN_LOGIN, "common-auth": lambda tmp: pam_auth_update(tmp, *profiles)}),
    ]


CASES = cases()


def install(host, service, texts):
    """The stack in the host's private directory, every pam_passkey.so line naming the
    service's file; with copies of the common-* files it @includes, for passkeyctl status
    (libpam itself reads those from /etc/pam.d)."""
    stack_file = host.confdir / service
    for name, text in texts.items():
        text = text.replace("{confdir}", str(host.confdir))
        (host.confdir / name).write_text(render(text, host, stack_file))
        for included in re.findall(r"^@include\s+([^/\s]\S*)", text, re.M):
            if not (host.confdir / included).exists():
                shutil.copy(f"/etc/pam.d/{included}", host.confdir / included)


def status(host):
    return subprocess.run([str(host.build_dir / "passkeyctl"), "status", "--conf", str(host.conf), "--pam-dir", str(host.confdir)],
                          capture_output=True, text=True, timeout=120)


def show(capsys, title, messages):
    with capsys.disabled():
        print(f"\n  {title}: " + " | ".join(messages))


def mine(syslog, user):
    """The module's lines about this test's account (syslog here is the whole machine's)."""
    return [l for l in syslog.read() if f'user="{user.name}"' in l]


@pytest.mark.parametrize("title,service,files", CASES, ids=[c[0] for c in CASES])
def test_no_offer_after_a_wrong_password(program, fleet, make_account, tmp_path, syslog, capsys, title, service, files):
    host = fleet.host("host-a", **POLICY)
    texts = {name: make(tmp_path) for name, make in files.items()}
    assert any("pam_passkey.so append" in t for t in texts.values()), texts
    install(host, service, texts)
    user = make_account("stk")

    # su as a user runs it: pam_rootok answers for root alone.
    ruid = 65534 if service == "su" else None
    messages, auth, _ = attempt(program, service, user, "not-" + user.password, host.confdir, ruid=ruid)
    show(capsys, f"{title}, wrong password", messages)
    assert auth != pamdriver.PAM_SUCCESS
    assert messages == ["PROMPT_ECHO_OFF Password: "], messages
    assert fleet.credentials(user) == []
    # The module was on the path (its login step stepped aside), and the append step never offered.
    assert any(" failed_login: pam_passkey(" in l and "decision=step_aside" in l for l in mine(syslog, user)), mine(syslog, user)
    assert not any("decision=offer" in l or "unsafe_stack" in l for l in mine(syslog, user)), mine(syslog, user)

    # The right password, through the project's own driver: the stack is safe, so the offer comes.
    if service != "su":
        r = host.login(user, [user.password, "n"], service=service)
        assert r.ok and (("prompt", OFFER) in r.transcript), (r, mine(syslog, user))

    r = status(host)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(rf"^ok\s+pam\s+no offer can follow a failed login in .*\b{re.escape(service)}\b", r.stdout, re.M), r.stdout


REQUIRED = """auth  [success=done default=ignore]  pam_passkey.so
auth  required                       pam_unix.so
auth  optional                       pam_passkey.so append
"""


def test_required_password_line_is_refused(program, fleet, make_account, syslog, capsys):
    """The README's old stack: libpam calls the append line after the failed password. The
    append step reads the stack, refuses, and says which line to change."""
    host = fleet.host("host-a", **POLICY)
    install(host, "login", {"login": REQUIRED})
    user = make_account("stk")
    culprit = f"{host.confdir}/login line 2 (auth required pam_unix.so nodelay): a failure there (auth_err) does not stop the stack, so the append line ({host.confdir}/login line 3) runs at pam_setcred after the failed authentication; use requisite"

    messages, auth, _ = attempt(program, "login", user, "not-" + user.password, host.confdir)
    show(capsys, "required pam_unix, wrong password", messages)
    assert auth == pamdriver.PAM_AUTH_ERR
    assert messages == ["PROMPT_ECHO_OFF Password: "], messages
    assert fleet.credentials(user) == []
    refused = [l for l in mine(syslog, user) if "decision=no_offer reason=unsafe_stack" in l]
    assert len(refused) == 1 and refused[0].endswith(f"reason=unsafe_stack: {culprit}"), mine(syslog, user)

    # Fail closed: not after the right password either, as long as the stack is unsafe.
    r = host.login(user, [user.password])
    assert r.ok and r.transcript == [("secret", "Password: ")], r
    assert len([l for l in mine(syslog, user) if "reason=unsafe_stack" in l]) == 2

    r = status(host)
    assert r.returncode == 1, r.stdout
    assert re.search(rf"^error\s+pam\s+an offer can follow a failed login in login: login line 2 \(auth required pam_unix.so nodelay\): .*; use requisite$", r.stdout, re.M), r.stdout


@pytest.fixture
def etc_service():
    """Service files in /etc/pam.d (pam_start, no stack=): the append step finds its stack
    by PAM_SERVICE. Removed afterwards."""
    made = []

    def make(text):
        path = pathlib.Path("/etc/pam.d") / f"pkt-stk-{secrets.token_hex(3)}"
        path.write_text(text)
        made.append(path)
        return path

    yield make
    for path in made:
        path.unlink()


def test_stacks_in_etc_pam_d(program, fleet, make_account, etc_service, syslog, capsys):
    host = fleet.host("host-a", **POLICY)
    user = make_account("stk")
    safe = etc_service(render(readme_block("**By hand**"), host))
    unsafe = etc_service(render(REQUIRED, host))

    messages, auth, _ = attempt(program, safe.name, user, "not-" + user.password)
    show(capsys, "/etc/pam.d README by hand, wrong password", messages)
    assert auth != pamdriver.PAM_SUCCESS and messages == ["PROMPT_ECHO_OFF Password: "], messages
    r = pamdriver.authenticate(safe.name, user.name, "/etc/pam.d", [user.password, "n"])
    assert r.ok and ("prompt", OFFER) in r.transcript, r

    messages, auth, _ = attempt(program, unsafe.name, user, "not-" + user.password)
    show(capsys, "/etc/pam.d required pam_unix, wrong password", messages)
    assert auth != pamdriver.PAM_SUCCESS and messages == ["PROMPT_ECHO_OFF Password: "], messages
    assert any(l.endswith(f"reason=unsafe_stack: {unsafe} line 2 (auth required pam_unix.so nodelay): a failure there (auth_err) does not stop the stack, so the append line ({unsafe} line 3) runs at pam_setcred after the failed authentication; use requisite")
               for l in mine(syslog, user)), mine(syslog, user)
    assert fleet.credentials(user) == []


def test_only_establish_and_reinitialize(fleet, make_account, monkeypatch):
    """A refresh (a screen lock renewing credentials) or a deletion (logout) never offers."""
    host = fleet.host("host-a", **POLICY)
    user = make_account("stk")
    seen = {}
    for name, flag in (("refresh", 0x10), ("delete", 0x4), ("reinitialize", 0x8), ("establish", 0x2)):
        # pamdriver calls pam_setcred with this flag after a successful authentication.
        monkeypatch.setattr(pamdriver, "PAM_ESTABLISH_CRED", flag)
        r = host.login(user, [user.password, "n"])
        assert r.ok, r
        seen[name] = ("prompt", OFFER) in r.transcript
    assert seen == {"refresh": False, "delete": False, "reinitialize": True, "establish": True}
