"""The Debian package, for real on this machine: build it from the current build, install it
with dpkg, check that pam-auth-update put the login line before pam_unix and the append line
after the primary block of /etc/pam.d/common-auth, sign a real user in through pamtester with
the system's common-auth and the package's defaults, then purge it and check that
common-auth is byte for byte what it was.

Whatever happens, the fixture purges the package and puts back every PAM and debconf file
it saved, and anything that was at the package's paths before."""
import os
import pathlib
import re
import secrets
import shutil
import stat
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "libpam-passkey"
ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
COMMON = [f"/etc/pam.d/common-{t}" for t in ("auth", "account", "password", "session", "session-noninteractive")]
STATE = "/var/lib/pam_passkey"


def run(*args, input=None):
    return subprocess.run([str(a) for a in args], input=input, capture_output=True, text=True, env=ENV)


def dpkg(*args):
    """dpkg, waiting for the lock while another package operation on this machine finishes."""
    deadline = time.monotonic() + 300
    while True:
        p = run("dpkg", *args)
        if p.returncode == 0 or "lock" not in p.stderr or time.monotonic() > deadline:
            return p
        time.sleep(2)


def known_to_dpkg():
    p = run("dpkg-query", "-W", "-f=${Status}", PACKAGE)
    return p.returncode == 0 and "not-installed" not in p.stdout


@pytest.fixture(scope="module")
def deb(build_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    p = run(ROOT / "Packaging/build-deb.sh", build_dir, out)
    assert p.returncode == 0, p.stderr
    path = pathlib.Path(p.stdout.strip().splitlines()[-1])
    assert path.is_file()
    return path


def members(deb, part):
    """Names in the package's data (--fsys-tarfile) or control (--ctrl-tarfile) archive."""
    tar = subprocess.run(["dpkg-deb", part, deb], capture_output=True, check=True).stdout
    return subprocess.run(["tar", "-t"], input=tar, capture_output=True, check=True).stdout.decode().splitlines()


def package_paths(deb):
    return [n[1:] for n in members(deb, "--fsys-tarfile") if not n.endswith("/")]


@pytest.fixture
def system(deb):
    """Saves the PAM and debconf state the package touches and restores it afterwards."""
    from accounts import require_root
    require_root()
    if known_to_dpkg():
        pytest.fail(f"{PACKAGE} is already on this machine; this test installs and purges it. "
                    f"Remove it first: dpkg --purge {PACKAGE}")
    saved = {}
    for d in ("/var/lib/pam", "/var/cache/debconf"):
        for f in pathlib.Path(d).iterdir():
            if f.is_file():
                saved[str(f)] = f.read_bytes()
    for f in COMMON:
        saved[f] = pathlib.Path(f).read_bytes() if os.path.exists(f) else None
    # Files from `make install` at the package's paths: moved aside, so purging cannot take them.
    aside = {}
    for path in package_paths(deb) + [STATE]:
        if os.path.lexists(path):
            aside[path] = f"{path}.test-deb-{secrets.token_hex(4)}"
            os.rename(path, aside[path])
    service = f"/etc/pam.d/pkt-deb-{secrets.token_hex(3)}"
    try:
        yield service
    finally:
        if os.path.exists(service):
            os.unlink(service)
        if known_to_dpkg():
            dpkg("--purge", PACKAGE)
        for path, content in saved.items():
            current = pathlib.Path(path).read_bytes() if os.path.exists(path) else None
            if current != content:
                if content is None:
                    os.unlink(path)
                else:
                    pathlib.Path(path).write_bytes(content)
        for path, moved in aside.items():
            if os.path.lexists(path):
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
            os.rename(moved, path)


def control_field(deb, name):
    return run("dpkg-deb", "-f", deb, name).stdout.strip()


def test_control_fields(deb, build_dir):
    assert control_field(deb, "Package") == PACKAGE
    assert control_field(deb, "Version") == (ROOT / "VERSION").read_text().strip()
    assert control_field(deb, "Architecture") == run("dpkg", "--print-architecture").stdout.strip()
    assert control_field(deb, "Section") == "admin"
    assert control_field(deb, "Priority") == "optional"
    assert re.fullmatch(r".+ <[^ ]+@[^ ]+>", control_field(deb, "Maintainer"))
    depends = {d.split()[0] for d in control_field(deb, "Depends").split(", ")}
    assert {"libpam0g", "libssl3", "libpam-runtime"} <= depends
    needed = ""
    for binary in ("pam_passkey.so", "pam_passkey_helper", "passkeyctl"):
        needed += run("objdump", "-p", build_dir / binary).stdout
    # A TPM library dependency exactly when a binary links one.
    assert ("libtss2" in needed) == any(d.startswith("libtss2") for d in depends)
    assert not any("swift" in d for d in depends)
    control = members(deb, "--ctrl-tarfile")
    for member in ("control", "conffiles", "md5sums", "postinst", "prerm", "postrm"):
        assert f"./{member}" in control


def blocks(common_auth):
    """The auth lines of common-auth in pam-auth-update's primary and additional blocks."""
    lines = common_auth.splitlines()
    start = lines.index('# here are the per-package modules (the "Primary" block)')
    fallback = lines.index("# here's the fallback if no module succeeds")
    additional = lines.index('# and here are more per-package modules (the "Additional" block)')
    end = lines.index("# end of pam-auth-update config")
    auth = lambda ls: [l for l in ls if l.startswith("auth")]
    return auth(lines[start:fallback]), auth(lines[fallback:additional]), auth(lines[additional:end])


def pamtester(service, user, answers):
    return run("pamtester", "-v", service, user, "authenticate", "setcred", input="".join(f"{a}\n" for a in answers))


def test_install_login_purge(deb, system, make_account):
    service = system
    original = pathlib.Path("/etc/pam.d/common-auth").read_bytes()

    p = dpkg("-i", deb)
    assert p.returncode == 0, p.stdout + p.stderr
    assert run("dpkg", "--verify", PACKAGE).stdout == "", "installed files differ from the package's md5sums"
    assert "/etc/security/pam_passkey.conf" in run("dpkg-query", "-W", "-f=${Conffiles}", PACKAGE).stdout

    # pam-auth-update enabled both profiles: the login line first in the primary block (so a
    # passkey is tried before the password), the append line after it.
    common_auth = pathlib.Path("/etc/pam.d/common-auth").read_text()
    primary, fallback, additional = blocks(common_auth)
    login = [i for i, l in enumerate(primary) if re.search(r"\spam_passkey\.so\s*$", l)]
    unix = [i for i, l in enumerate(primary) if re.search(r"\spam_unix\.so\b", l)]
    assert len(login) == 1 and len(unix) == 1 and login[0] < unix[0], common_auth
    jump = re.match(r"auth\s+\[success=(\d+) default=ignore\]", primary[login[0]])
    assert jump, primary[login[0]]
    # A passkey success jumps over the password and pam_deny, onto pam_permit.
    stack = primary + fallback
    assert "pam_permit.so" in stack[login[0] + int(jump.group(1)) + 1], common_auth
    assert [l.split() for l in additional if "pam_passkey.so" in l] == [["auth", "optional", "pam_passkey.so", "append"]]
    assert common_auth.count("pam_passkey.so") == 2

    # The module's state directories, root-owned, as its file checks require.
    for path, mode in ((STATE + "/registry", 0o755), (STATE + "/host", 0o700)):
        st = os.stat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (mode, 0), path
    # The setuid launcher, and the Swift helper it starts, not setuid.
    helper = os.stat("/usr/libexec/pam_passkey/pam_passkey_helper")
    assert (stat.S_IMODE(helper.st_mode), helper.st_uid) == (0o4755, 0)
    authenticator = os.stat("/usr/libexec/pam_passkey/pam_passkey_authenticator")
    assert (stat.S_IMODE(authenticator.st_mode), authenticator.st_uid) == (0o755, 0)
    # As installed, passkeyctl status finds both and the helper answers through the launcher.
    status = [re.split(r"\s+", l, maxsplit=2) for l in run("/usr/sbin/passkeyctl", "status").stdout.splitlines()]
    for finding in (["ok", "helper", "/usr/libexec/pam_passkey/pam_passkey_helper: launcher, owner root, mode 4755"],
                    ["ok", "helper", "/usr/libexec/pam_passkey/pam_passkey_authenticator: the authenticator it starts, owner root, mode 0755"],
                    ["ok", "helper", "answers: software authenticator, healthy"]):
        assert finding in status, status
    # Stripped for the package, the module still exports its entry points.
    module_dir = run("pkg-config", "--variable=libdir", "pam").stdout.strip() + "/security"
    exported = run("nm", "-D", "--defined-only", module_dir + "/pam_passkey.so").stdout
    assert {"pam_sm_authenticate", "pam_sm_setcred"} <= {l.split()[-1] for l in exported.splitlines()}

    # A real user, the system's common-auth, the package's defaults: the password signs in.
    # An offer to create a passkey may follow it (answered "n"); a wrong password gets none.
    user = make_account("deb")
    pathlib.Path(service).write_text("@include common-auth\n")
    ok = pamtester(os.path.basename(service), user.name, [user.password, "n", "n"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "successfully authenticated" in ok.stderr + ok.stdout
    assert "credential info has successfully been set" in ok.stderr + ok.stdout
    bad = pamtester(os.path.basename(service), user.name, ["not-" + user.password, "y", "123456", "123456"])
    assert bad.returncode != 0
    assert "Authentication failure" in bad.stderr + bad.stdout
    assert "passkey" not in (bad.stderr + bad.stdout).lower(), "an offer followed a wrong password"

    p = dpkg("--purge", PACKAGE)
    assert p.returncode == 0, p.stdout + p.stderr
    assert pathlib.Path("/etc/pam.d/common-auth").read_bytes() == original
    assert not os.path.lexists(STATE)
    assert not os.path.lexists("/etc/security/pam_passkey.conf")
    assert not os.path.lexists("/usr/share/pam-configs/passkey")
    assert not known_to_dpkg()
    # The stack still works without the module.
    again = pamtester(os.path.basename(service), user.name, [user.password])
    assert again.returncode == 0, again.stdout + again.stderr


def test_remove_keeps_passkeys_and_policy_until_purge(deb, system):
    assert dpkg("-i", deb).returncode == 0
    conf = pathlib.Path("/etc/security/pam_passkey.conf")
    conf.write_text(conf.read_text() + "pin_min_length = 8\n")
    record = pathlib.Path(STATE + "/registry/someone.json")
    record.write_text("{}")
    p = dpkg("-r", PACKAGE)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "pam_passkey" not in pathlib.Path("/etc/pam.d/common-auth").read_text()
    assert not os.path.exists("/usr/libexec/pam_passkey/pam_passkey_helper")
    assert not os.path.exists("/usr/libexec/pam_passkey/pam_passkey_authenticator")
    assert record.read_text() == "{}"
    assert conf.read_text().endswith("pin_min_length = 8\n")
    # Installing again keeps the administrator's policy (a conffile) and turns the module on.
    assert dpkg("-i", deb).returncode == 0
    assert conf.read_text().endswith("pin_min_length = 8\n")
    assert "pam_passkey.so append" in pathlib.Path("/etc/pam.d/common-auth").read_text()
    assert dpkg("--purge", PACKAGE).returncode == 0
    assert not os.path.lexists(STATE) and not conf.exists()
