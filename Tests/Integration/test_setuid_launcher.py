"""The setuid launcher (Sources/HelperLauncher/launcher.c), as installed: built for a test
directory (root-owned, 0755) with the Swift helper beside it as pam_passkey_authenticator, the
launcher setuid root, and both run by a real unprivileged account through setpriv (real uid =
the account, as a screen locker runs it).

What an unprivileged caller puts in the environment changes nothing the helper prints or
does: byte-identical stdout, stderr and exit status with and without it. The same variables do
change what the Swift helper prints when it is itself setuid and started directly (so the
comparison can fail). And what the launcher hands over — uids, gids, groups, environment,
descriptors, arguments — is seen by a probe program in the authenticator's place."""
import os
import shutil
import subprocess
import tempfile

import pytest
from fido2 import cbor

from conftest import ROOT
from ptyprograms import HELPER_PROTOCOL

BUILD_SCRIPT = ROOT / "Sources/HelperLauncher/build.sh"
CLEAN_ENVIRONMENT = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]

# What the caller starts it with in every run, and what a hostile caller adds.
BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def poison(d):
    return {
        "SWIFT_DEBUG_HELP": "YES",
        "SWIFT_BACKTRACE": "enable=yes",
        "SWIFT_DETERMINISTIC_HASHING": "1",
        "LD_LIBRARY_PATH": "/tmp/x",
        "LD_PRELOAD": str(d / "evil.so"),
        "OPENSSL_CONF": str(d / "evil.cnf"),
        "OPENSSL_MODULES": "/tmp/x",
        "TSS2_LOG": "all+trace",
        "TSS2_TCTI": "swtpm:path=/tmp/x/swtpm.sock",
        "MALLOC_CHECK_": "3",
        "MALLOC_PERTURB_": "165",
        "GLIBC_TUNABLES": "glibc.malloc.check=3:glibc.malloc.perturb=165",
        "LC_ALL": "de_DE.UTF-8",
        "TMPDIR": "/tmp/x",
    }


EVIL_SO = r"""
#include <unistd.h>
__attribute__((constructor)) static void announce(void) {
    static const char line[] = "evil.so was loaded\n";
    (void)!write(2, line, sizeof line - 1);
}
"""

# Stands in for the authenticator: prints what the launcher handed over.
PROBE_C = r"""
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
    uid_t r, e, s; gid_t gr, ge, gs; gid_t groups[256];
    getresuid(&r, &e, &s); getresgid(&gr, &ge, &gs);
    int n = getgroups(256, groups);
    printf("uid %u %u %u\ngid %u %u %u\ngroups %d\n", r, e, s, gr, ge, gs, n);
    for (int i = 0; i < argc; i++) printf("arg %s\n", argv[i]);
    for (char **v = environ; *v; v++) printf("env %s\n", *v);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *x;
    while ((x = readdir(d)) != NULL) {
        if (x->d_name[0] == '.' || atoi(x->d_name) == dirfd(d)) continue;
        printf("fd %s\n", x->d_name);
    }
    return 42;
}
"""


def build_launcher(out, target):
    p = subprocess.run([str(BUILD_SCRIPT), str(out), str(target)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    os.chown(out, 0, 0)
    os.chmod(out, 0o4755)


@pytest.fixture(scope="module")
def tree(build_dir):
    """A root-owned 0755 directory every account can reach: the launcher (4755), the Swift
    helper as the authenticator it starts (0755), a setuid copy of the Swift helper started
    directly (the comparison), the evil library and configuration, and a probe."""
    from accounts import require_root
    require_root()
    d = tempfile.mkdtemp(prefix="pkt-launcher-", dir="/tmp")
    try:
        os.chmod(d, 0o755)
        import pathlib
        d = pathlib.Path(d)
        shutil.copy(build_dir / "pam_passkey_helper", d / "pam_passkey_authenticator")
        os.chmod(d / "pam_passkey_authenticator", 0o755)
        build_launcher(d / "pam_passkey_helper", d / "pam_passkey_authenticator")
        shutil.copy(build_dir / "pam_passkey_helper", d / "swift_helper_setuid")
        os.chmod(d / "swift_helper_setuid", 0o4755)
        (d / "evil.c").write_text(EVIL_SO)
        subprocess.run(["cc", "-shared", "-fPIC", "-o", d / "evil.so", d / "evil.c"], check=True)
        (d / "evil.cnf").write_text("openssl_conf = evil\n[evil\nthis is not a configuration file\n")
        (d / "probe.c").write_text(PROBE_C)
        subprocess.run(["cc", "-O2", "-o", d / "probe", d / "probe.c"], check=True)
        os.chmod(d / "probe", 0o755)
        build_launcher(d / "probe_launcher", d / "probe")
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def as_account(account, argv, env=None, input=b"", groups="--clear-groups", **kwargs):
    """`argv` run by `account` with `env` added to its environment: setpriv makes real and
    effective uid and gid the account's, then env(1), running as the account, sets the
    variables and starts the program, as a hostile caller would (so no root process before it
    sees them). A setuid program starts with real uid = the account."""
    full = ["setpriv", f"--reuid={account.uid}", f"--regid={account.uid}", groups, "--",
            "/usr/bin/env", *[f"{k}={v}" for k, v in (env or {}).items()], *map(str, argv)]
    p = subprocess.run(full, env=BASE_ENV, input=input, capture_output=True, timeout=60, **kwargs)
    return (p.returncode, p.stdout, p.stderr)


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def unframe(data: bytes):
    """The frames in what the helper wrote (Sources/HelperProtocol/Framing.swift)."""
    frames = []
    while data:
        assert len(data) >= 4, data
        n = int.from_bytes(data[:4], "big")
        frames.append(cbor.decode(data[4:4 + n]))
        data = data[4 + n:]
    return frames


STATUS_REQUEST = frame(cbor.encode({"v": HELPER_PROTOCOL, "op": "status"}))

INVOCATIONS = {
    "version": (["--version"], b""),
    "bad argument": (["--frobnicate"], b""),
    "--conf from a user": (["--conf", "/tmp/x/pam_passkey.conf"], b""),
    "empty stdin": ([], b""),
    "status request": ([], STATUS_REQUEST),
}


def unchanged_by(account, argv, stdin, extra):
    """(result without `extra`, result with it). The result without is taken before and after
    and must be the same both times: the machine's own policy and state (which the helper
    reads for a user) may be changed by another test on this machine in between; then again."""
    for _ in range(3):
        before = as_account(account, argv, input=stdin)
        poisoned = as_account(account, argv, env=extra, input=stdin)
        after = as_account(account, argv, input=stdin)
        if before == after:
            return before, poisoned
    pytest.fail(f"{argv}: two runs without the variables differ: {before} / {after}")


@pytest.mark.parametrize("name", list(INVOCATIONS))
def test_the_callers_environment_changes_nothing_through_the_launcher(tree, make_account, name):
    account = make_account("launch")
    argv, stdin = INVOCATIONS[name]
    clean, poisoned = unchanged_by(account, [tree / "pam_passkey_helper", *argv], stdin, poison(tree))
    assert poisoned == clean, (name, clean, poisoned)
    code, out, err = clean
    if name == "version":
        assert (code, out, err) == (0, f"pam_passkey_helper, helper protocol {HELPER_PROTOCOL}\n".encode(), b"")
    elif name in ("bad argument", "--conf from a user"):
        assert code == 2 and out == b"" and err.count(b"\n") == 1, clean
    elif name == "empty stdin":
        assert (code, out) == (1, b""), clean
    else:
        # The launcher refuses nothing it should serve: the account's status request is answered.
        assert code == 0 and err == b"", clean
        [reply] = unframe(out)
        assert reply["reply"] == "status" and [r["kind"] for r in reply["reports"]] in (["software"], ["tpm"]), reply


@pytest.mark.parametrize("variable", ["SWIFT_DEBUG_HELP", "LD_PRELOAD", "OPENSSL_CONF", "TSS2_LOG", "MALLOC_CHECK_"])
def test_each_variable_alone_changes_nothing(tree, make_account, variable):
    account = make_account("launch")
    extra = {variable: poison(tree)[variable]}
    clean, poisoned = unchanged_by(account, [tree / "pam_passkey_helper"], STATUS_REQUEST, extra)
    assert poisoned == clean, (variable, clean, poisoned)


def test_without_the_launcher_the_swift_runtime_reads_the_environment(tree, make_account):
    """The comparison above can fail: the Swift helper itself setuid, started directly by the
    account, prints the Swift runtime's help as root when SWIFT_DEBUG_HELP=YES."""
    account = make_account("launch")
    clean, poisoned = unchanged_by(account, [tree / "swift_helper_setuid", "--version"], b"", {"SWIFT_DEBUG_HELP": "YES"})
    assert clean == (0, f"pam_passkey_helper, helper protocol {HELPER_PROTOCOL}\n".encode(), b"")
    assert poisoned != clean
    assert b"Swift runtime debugging" in poisoned[1] + poisoned[2], poisoned


def test_what_the_launcher_hands_over(tree, make_account):
    account = make_account("launch")
    probe = str(tree / "probe")
    # An extra descriptor, closed stdin, supplementary groups and the whole hostile environment.
    with open("/etc/hostname", "rb") as extra_fd:
        os.set_inheritable(extra_fd.fileno(), True)
        code, out, err = as_account(account, [tree / "probe_launcher", "one", "two words", "--conf", "/x"], env=poison(tree),
                                    groups="--init-groups", input=None, stdin=subprocess.DEVNULL,
                                    pass_fds=(extra_fd.fileno(),))
    assert code == 42 and err == b"", (code, out, err)
    lines = out.decode().splitlines()
    # Real uid the caller's (the helper serves that account only); gid root everywhere, no
    # supplementary groups: what the helper writes is root:root.
    assert lines[:3] == [f"uid {account.uid} 0 0", "gid 0 0 0", "groups 0"], lines
    assert [l[4:] for l in lines if l.startswith("arg ")] == [probe, "one", "two words", "--conf", "/x"]
    assert [l[4:] for l in lines if l.startswith("env ")] == CLEAN_ENVIRONMENT
    assert [l[3:] for l in lines if l.startswith("fd ")] == ["0", "1", "2"]

    # Closed standard descriptors are opened (on /dev/null or, as glibc does for a setuid start,
    # /dev/full), never left for the helper's first file to take.
    p = subprocess.run(["sh", "-c", f'exec "$0" <&- 2>&-', str(tree / "probe_launcher")], capture_output=True, timeout=60)
    assert p.returncode == 42 and [l for l in p.stdout.decode().splitlines() if l.startswith("fd ")] == ["fd 0", "fd 1", "fd 2"]

    # Started by root, it gives the same fixed environment.
    p = subprocess.run(["/usr/bin/env", *[f"{k}={v}" for k, v in poison(tree).items()], tree / "probe_launcher"],
                       env=BASE_ENV, capture_output=True, timeout=60)
    assert p.returncode == 42 and p.stderr == b"", p
    lines = p.stdout.decode().splitlines()
    assert lines[:2] == ["uid 0 0 0", "gid 0 0 0"], lines
    assert [l[4:] for l in lines if l.startswith("env ")] == CLEAN_ENVIRONMENT


@pytest.mark.parametrize("damage, complaint", [
    ("missing", b"cannot open {p}: No such file or directory"),
    ("group-writable", b"{p} is writable by group or others"),
    ("setuid", b"{p} must not be setuid or setgid (mode 0755)"),
    ("not root's", b"{p} is not owned by root"),
    ("symlink", b"{p} is not a regular file"),
])
def test_a_launcher_whose_authenticator_is_unsafe_runs_nothing(tree, make_account, damage, complaint):
    account = make_account("launch")
    d = tree / ("damaged-" + "".join(c for c in damage if c.isalpha()))
    d.mkdir(mode=0o755)
    target = d / "authenticator"
    if damage == "symlink":
        os.symlink(tree / "probe", target)
    elif damage != "missing":
        shutil.copy(tree / "probe", target)
        os.chmod(target, {"group-writable": 0o775, "setuid": 0o4755, "not root's": 0o755}[damage])
        if damage == "not root's":
            os.chown(target, account.uid, account.uid)
    build_launcher(d / "launcher", target)
    code, out, err = as_account(account, [d / "launcher", "--version"])
    assert (code, out) == (127, b""), (code, out, err)
    assert err == b"pam_passkey_helper: " + complaint.replace(b"{p}", bytes(target)) + b"\n", err


def test_the_launcher_is_static_with_full_relro(build_dir):
    launcher = build_dir / "pam_passkey_launcher"
    headers = subprocess.run(["readelf", "-lW", launcher], capture_output=True, text=True, check=True).stdout
    dynamic = subprocess.run(["readelf", "-dW", launcher], capture_output=True, text=True, check=True).stdout
    # No program interpreter and no libraries: no dynamic loader ever reads the environment.
    assert "INTERP" not in headers and "NEEDED" not in dynamic, headers + dynamic
    assert "GNU_RELRO" in headers and "BIND_NOW" in dynamic, headers + dynamic
    stack = next(l for l in headers.splitlines() if "GNU_STACK" in l)
    assert "RWE" not in stack, stack
    # Compiled to start the authenticator where install.sh and the package put it.
    strings = subprocess.run(["strings", launcher], capture_output=True, text=True, check=True).stdout
    assert "pam_passkey launcher target=/usr/libexec/pam_passkey/pam_passkey_authenticator" in strings.splitlines()
