"""The product installed into this machine as a site installs it, and the programs people sign
in through (login, su, sudo, vlock, pamtester), each driven through a pseudo-terminal from
the uid a person would have.

- `InstalledSystem`: `scripts/install.sh "" BUILD` into /, a test policy in
  /etc/security/pam_passkey.conf whose state lives in a fresh root-owned directory under
  /var/tmp, and `pam-auth-update --enable passkey passkey-append` on the system's
  common-auth. `close()` undoes every step (in reverse order, each one even when an earlier
  undo failed): the PAM files and pam-auth-update's records byte for byte, exactly the files
  install.sh put in place, and whatever was at those paths before.
- `Person`: a real local account with a password and /bin/sh.
- `Terminal`: one program on a pty; what it printed is `seen`, what the person typed is sent
  with Enter, and `finish()` says how it ended (exit status, or the signal that killed it).
  A person's program is started directly under their uid (initgroups, setgid, setuid in the
  child), so the program's own exit status is what the test sees: `runuser` would put a
  watching parent in between that turns a child killed by a signal into exit status 128+N.
- `HelperConversation`: the setuid helper spoken to directly, in its framed CBOR protocol
  (Sources/HelperProtocol/Framing.swift, Wire.swift): a 4-byte big-endian length, then a
  CBOR map.
"""
import contextlib
import fcntl
import json
import os
import pathlib
import pwd
import re
import secrets
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import pexpect

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOST_NAME = "pkt-host"
RP_ID = "pam_passkey.programs.test"
HELPER = "/usr/libexec/pam_passkey/pam_passkey_helper"
POLICY = "/etc/security/pam_passkey.conf"
# The helper protocol's version: what `pam_passkey_helper --version` prints and every request
# carries, read from its one definition (HelperProtocolVersion.current).
HELPER_PROTOCOL = int(re.search(r"public static let current = (\d+)",
                                (pathlib.Path(__file__).resolve().parents[2] / "Sources/HelperProtocol/Messages.swift").read_text()).group(1))
STATE_ROOT = "/var/lib/pam_passkey"
PAM_D = pathlib.Path("/etc/pam.d")
SUDOERS_D = pathlib.Path("/etc/sudoers.d")
PACKAGE = "libpam-passkey"
# Held while this machine's PAM stack and / are changed, so two runs of these tests (other
# worktrees, other sessions) take turns instead of undoing each other's installation.
SYSTEM_LOCK = "/run/lock/pam_passkey-system-tests.lock"
ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def staged_paths(build_dir) -> tuple:
    """(files, directories) that scripts/install.sh puts into /: what it writes into an
    empty staging tree, so the list is always the script's own."""
    stage = pathlib.Path(tempfile.mkdtemp(prefix="pkt-programs-stage-"))
    try:
        run(ROOT / "scripts/install.sh", stage, build_dir)
        files, dirs = [], []
        for p in sorted(stage.rglob("*"), key=lambda p: (len(p.parts), str(p))):
            (dirs if p.is_dir() and not p.is_symlink() else files).append("/" + str(p.relative_to(stage)))
        return files, dirs
    finally:
        shutil.rmtree(stage, True)


PAM_RECORDS = [PAM_D / f"common-{t}" for t in ("auth", "account", "password", "session",
                                                "session-noninteractive")]


def run(*args, check=True, **kwargs):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=ENV, **kwargs)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({p.returncode}): {p.stdout}{p.stderr}")
    return p


def remove(path):
    path = str(path)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


class InstalledSystem:
    """pam_passkey installed into / and enabled with pam-auth-update, for the duration of a
    test module. Every change registers its undo before the next change is made."""

    def __init__(self, build_dir: pathlib.Path, policy_extra: dict = None):
        self.build_dir = pathlib.Path(build_dir)
        self.undo = contextlib.ExitStack()
        try:
            self._undo_on_termination()
            self._lock()
            self._install()
            self._write_policy(policy_extra or {})
            self._enable()
        except BaseException:
            self.close()
            raise

    # -- setup ---------------------------------------------------------------------------

    def _undo_on_termination(self):
        """SIGTERM or SIGHUP (a CI timeout, a closed terminal) unwinds like Ctrl-C, so the
        undo runs and the machine's PAM stack is not left changed."""
        def interrupt(signum, frame):
            raise KeyboardInterrupt(f"{signal.Signals(signum).name}: undoing the system changes")
        for s in (signal.SIGTERM, signal.SIGHUP):
            self.undo.callback(signal.signal, s, signal.signal(s, interrupt))

    def _lock(self):
        fd = os.open(SYSTEM_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        deadline = time.monotonic() + 600
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise RuntimeError(f"another test run has held {SYSTEM_LOCK} for 10 minutes")
                time.sleep(1)
        self.undo.callback(os.close, fd)

    def _install(self):
        # test_deb.py installs and purges the package: give a run of it on this machine
        # time to finish.
        deadline = time.monotonic() + 300
        while self._packaged():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{PACKAGE} is installed on this machine; these tests install the build "
                                   f"themselves. Remove it first: dpkg --purge {PACKAGE}")
            time.sleep(2)
        files, dirs = staged_paths(self.build_dir)
        self.installed = files
        # What was at those paths is moved aside and comes back afterwards (a developer's own
        # `make install`, an administrator's policy file, earlier state).
        for path in files + [STATE_ROOT]:
            if os.path.lexists(path):
                aside = f"{path}.pkt-programs-{secrets.token_hex(4)}"
                os.rename(path, aside)
                self.undo.callback(os.rename, aside, path)
        # The directories install.sh will create, removed after (deepest first: the undo
        # runs in reverse), then every file it will put in place.
        for d in dirs:
            if not os.path.lexists(d):
                self.undo.callback(lambda d=d: os.path.isdir(d) and not os.path.islink(d) and shutil.rmtree(d))
        for f in files:
            self.undo.callback(remove, f)
        p = run(ROOT / "scripts/install.sh", "", self.build_dir, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"scripts/install.sh failed: {p.stdout}{p.stderr}")

    @staticmethod
    def _packaged() -> bool:
        p = run("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False)
        return p.returncode == 0 and "not-installed" not in p.stdout

    def _write_policy(self, extra: dict):
        # Root-owned and world-traversable all the way down (the users' programs read the
        # registry; pytest's tmp_path sits under 0700 directories).
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="pkt-programs-", dir="/var/tmp"))
        self.undo.callback(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        self.machine_id = self.dir / "machine-id"
        self.machine_id.write_text(secrets.token_hex(16) + "\n")
        os.chmod(self.machine_id, 0o644)
        self.registry = self.dir / "registry"
        self.registry.mkdir()
        os.chmod(self.registry, 0o755)
        self.state = self.dir / "state"
        self.state.mkdir()
        os.chmod(self.state, 0o700)
        self.policy = {
            "rp_id": RP_ID,
            "host_name": HOST_NAME,
            "host_id_file": str(self.machine_id),
            "registry_dir": str(self.registry),
            "state_dir": str(self.state),
            "pin_kdf_cost": "10",
            # Room for the wrong PINs the tests type on purpose, and no snooze from the
            # empty PINs they type on purpose.
            "pin_max_attempts": "10",
            "cancel_threshold": "100",
            **{k: str(v) for k, v in extra.items()},
        }
        text = "# written by Tests/Integration/test_programs.py; removed after the tests\n"
        text += "".join(f"{k} = {v}\n" for k, v in self.policy.items())
        pathlib.Path(POLICY).write_text(text)
        os.chown(POLICY, 0, 0)
        os.chmod(POLICY, 0o644)

    def _enable(self):
        saved = {}
        for d in ("/var/lib/pam",):
            for f in pathlib.Path(d).iterdir():
                if f.is_file():
                    saved[str(f)] = f.read_bytes()
        for f in PAM_RECORDS:
            saved[str(f)] = f.read_bytes() if f.exists() else None
        self.original_common_auth = saved[str(PAM_D / "common-auth")]

        def restore():
            for f in pathlib.Path("/var/lib/pam").iterdir():
                if f.is_file() and str(f) not in saved:
                    f.unlink()
            for path, content in saved.items():
                current = pathlib.Path(path).read_bytes() if os.path.exists(path) else None
                if current != content:
                    if content is None:
                        os.unlink(path)
                    else:
                        pathlib.Path(path).write_bytes(content)
        self.undo.callback(restore)
        self.undo.callback(run, "pam-auth-update", "--disable", "passkey", "passkey-append", check=False)
        run("pam-auth-update", "--enable", "passkey", "passkey-append")
        self.common_auth = (PAM_D / "common-auth").read_text()

    # -- things the tests add to /etc ------------------------------------------------------

    def service_file(self, name: str, text: str) -> pathlib.Path:
        """/etc/pam.d/NAME, when the program's package did not ship one; removed after."""
        path = PAM_D / name
        assert not path.exists(), path
        path.write_text(text)
        self.undo.callback(remove, path)
        return path

    def sudoers(self, lines: list) -> pathlib.Path:
        path = SUDOERS_D / f"pkt-programs-{secrets.token_hex(3)}"
        self.undo.callback(remove, path)
        path.write_text("".join(l + "\n" for l in lines))
        os.chmod(path, 0o440)
        run("visudo", "-c", "-q", "-f", path)
        return path

    def account(self, prefix: str) -> "Person":
        person = Person(prefix)
        self.undo.callback(person.remove)
        return person

    # -- what the product wrote -------------------------------------------------------------

    def record(self, user) -> dict:
        path = self.registry / f"{_name(user)}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def credentials(self, user) -> list:
        return [c for c in self.record(user).get("credentials", []) if not c.get("revoked")]

    def history_path(self, user) -> pathlib.Path:
        return self.state / "history" / f"{_name(user)}.json"

    def history(self, user) -> dict:
        path = self.history_path(user)
        return json.loads(path.read_text()) if path.exists() else {}

    def passkeyctl(self, *args):
        return run("/usr/sbin/passkeyctl", *args, check=False)

    def close(self):
        self.undo.close()


def _name(user) -> str:
    return user.name if hasattr(user, "name") else str(user)


class Person:
    """A real local account: a password, /bin/sh (su - needs a shell), no home directory."""

    def __init__(self, prefix: str):
        self.name = f"pkt{prefix}{secrets.token_hex(3)}"[:31]
        self.password = "Pw-" + secrets.token_urlsafe(12)
        run("useradd", "--no-create-home", "--shell", "/bin/sh", self.name)
        run("chpasswd", input=f"{self.name}:{self.password}\n")
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def remove(self):
        run("userdel", self.name, check=False)
        remove(f"/run/sudo/ts/{self.name}")     # sudo's cached credentials

    def __str__(self):
        return self.name


def _drop_to(person: Person):
    def drop():
        os.initgroups(person.name, person.gid)
        os.setgid(person.gid)
        os.setuid(person.uid)
    return drop


def environment(person: Person = None) -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "TERM": "dumb", "LANG": "C.UTF-8"}
    if person:
        env.update(HOME="/", USER=person.name, LOGNAME=person.name, SHELL="/bin/sh")
    else:
        env.update(HOME="/root", USER="root", LOGNAME="root", SHELL="/bin/sh")
    return env


def run_as(person: Person, *argv, **kwargs):
    return subprocess.run(list(argv), preexec_fn=_drop_to(person), env=environment(person), capture_output=True,
                          text=True, **kwargs)


class Ended:
    def __init__(self, status, signal_number, seen):
        self.status = status
        self.signal = signal_number
        self.seen = seen

    @property
    def killed(self) -> bool:
        return self.signal is not None

    def describe(self) -> str:
        if self.signal is not None:
            return f"killed by {signal.Signals(self.signal).name}"
        return f"exit status {self.status}"


class Terminal:
    """A program on a pseudo-terminal. `expect` waits for text the program prints (exact
    text, not a pattern), `type` sends a line as a person types it (then Enter)."""

    def __init__(self, argv: list, person: Person = None, timeout: float = 10):
        self.argv = argv
        self.child = pexpect.spawn(argv[0], argv[1:], env=environment(person), timeout=timeout,
                                   encoding="utf-8", codec_errors="replace", dimensions=(50, 250),
                                   preexec_fn=_drop_to(person) if person else None)
        self.seen = ""
        self.typed = []

    def _absorb(self):
        self.seen += (self.child.before or "") + (self.child.after if isinstance(self.child.after, str) else "")

    def expect(self, *texts, timeout: float = -1) -> int:
        """Waits for the first of `texts`; returns its index. Fails with everything the
        program printed when it prints none of them (or ends)."""
        try:
            i = self.child.expect_exact(list(texts), timeout=timeout)
        except (pexpect.EOF, pexpect.TIMEOUT) as e:
            self.seen += self.child.before or ""
            how = "ended" if isinstance(e, pexpect.EOF) else "went quiet"
            ended = self.finish() if isinstance(e, pexpect.EOF) else None
            raise AssertionError(f"{self.argv}: {how} ({ended.describe() if ended else 'timeout'}) before printing "
                                 f"any of {texts!r}; it printed:\n{self.screen()}") from None
        self._absorb()
        return i

    def expect_first(self, wanted: str, *instead: str):
        """Waits for `wanted`; fails at once (not at the timeout) when one of `instead`
        comes first."""
        got = self.expect(wanted, *instead)
        if got:
            raise AssertionError(f"{self.argv}: printed {instead[got - 1]!r} where {wanted!r} was expected:\n"
                                 f"{self.screen()}")

    def expect_end(self, *instead: str, timeout: float = -1) -> "Ended":
        """Waits for the program to end; fails at once when one of `instead` comes first."""
        try:
            got = self.child.expect_exact([pexpect.EOF, *instead], timeout=timeout)
        except pexpect.TIMEOUT:
            self.seen += self.child.before or ""
            raise AssertionError(f"{self.argv}: did not end; it printed:\n{self.screen()}") from None
        self.seen += self.child.before or ""
        if got:
            self.seen += self.child.after
            raise AssertionError(f"{self.argv}: printed {instead[got - 1]!r} where it should have ended:\n"
                                 f"{self.screen()}")
        return self.finish()

    def type(self, text: str):
        self.typed.append(text)
        self.child.send(text + "\r")

    def screen(self, text: str = None) -> str:
        """Printable form of what the program printed (long answers shortened)."""
        text = self.seen if text is None else text
        text = re.sub(r"(.)\1{40,}", lambda m: f"{m.group(1)}×{len(m.group(0))}", text)
        return text

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int) -> str:
        return self.seen[mark:]

    def finish(self, timeout: float = 20) -> Ended:
        """Waits for the program to end; how it ended (exit status or the killing signal)."""
        if self.child.isalive() or not self.child.closed:
            try:
                self.child.expect(pexpect.EOF, timeout=timeout)
                self.seen += self.child.before or ""
            except pexpect.TIMEOUT:
                self.seen += self.child.before or ""
                self.child.kill(signal.SIGKILL)
                self.child.close(force=True)
                raise AssertionError(f"{self.argv} did not end; it printed:\n{self.screen()}") from None
            except pexpect.EOF:
                pass
            self.child.close()
        return Ended(self.child.exitstatus, self.child.signalstatus, self.seen)

    def kill(self):
        if not self.child.closed:
            self.child.close(force=True)


# -- the helper, spoken to directly ----------------------------------------------------------

class HelperConversation:
    """The installed setuid helper started by `person` (or root), stdin/stdout as its
    channel. `request` sends one request map and returns the messages up to the reply
    (questions first, then the reply)."""

    def __init__(self, person: Person = None):
        self.proc = subprocess.Popen([HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=environment(person), preexec_fn=_drop_to(person) if person else None)

    def send(self, message: dict):
        from fido2 import cbor
        payload = cbor.encode(message)
        self.proc.stdin.write(struct.pack(">I", len(payload)) + payload)
        self.proc.stdin.flush()

    def receive(self) -> dict:
        from fido2 import cbor
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            return None
        (length,) = struct.unpack(">I", header)
        return cbor.decode(self.proc.stdout.read(length))

    def request(self, message: dict, pin: bytes = None) -> list:
        """Sends `message`; answers a PIN question with `pin` (or a cancel) once; returns
        every message received up to the reply."""
        self.send({"v": HELPER_PROTOCOL, **message})
        got = []
        while True:
            m = self.receive()
            if m is None:
                return got
            got.append(m)
            if "reply" in m:
                return got
            if "ask" in m:
                self.send({"pin": pin} if pin else {"cancel": True})
                pin = None

    def close(self) -> int:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


def base64url_decode(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
