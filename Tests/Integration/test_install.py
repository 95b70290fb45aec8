"""`make install DESTDIR=...` (scripts/install.sh) into a staging tree: every file where
an administrator and the module expect it, with the owners and modes the module's checks
require, and safe to run again."""
import os
import pathlib
import stat
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE_DIR = subprocess.run(["pkg-config", "--variable=libdir", "pam"], capture_output=True, text=True,
                            check=True).stdout.strip() + "/security"

EXPECTED = {
    # path: (mode, is directory)
    f"{MODULE_DIR}/pam_passkey.so": (0o644, False),
    # The setuid launcher, and the Swift helper it starts (not setuid).
    "/usr/libexec/pam_passkey/pam_passkey_helper": (0o4755, False),
    "/usr/libexec/pam_passkey/pam_passkey_authenticator": (0o755, False),
    "/usr/sbin/passkeyctl": (0o755, False),
    "/usr/libexec/pam_passkey/pam_passkey_directory": (0o755, False),
    "/etc/security/pam_passkey.conf": (0o644, False),
    "/usr/share/man/man8/pam_passkey.8": (0o644, False),
    "/usr/share/man/man8/passkeyctl.8": (0o644, False),
    "/usr/share/man/man5/pam_passkey.conf.5": (0o644, False),
    "/usr/share/bash-completion/completions/passkeyctl": (0o644, False),
    "/usr/share/pam-configs/passkey": (0o644, False),
    "/usr/share/pam-configs/passkey-append": (0o644, False),
    "/usr/share/pam_passkey/ldap/README": (0o644, False),
    "/usr/share/pam_passkey/ldap/pam_passkey.ldif": (0o644, False),
    "/usr/share/pam_passkey/ldap/pam_passkey-access.ldif": (0o644, False),
    "/usr/share/pam_passkey/ldap/99pam_passkey.ldif": (0o644, False),
    "/lib/systemd/system/pam_passkey-sync.service": (0o644, False),
    "/lib/systemd/system/pam_passkey-sync.timer": (0o644, False),
    "/var/lib/pam_passkey": (0o755, True),
    "/var/lib/pam_passkey/registry": (0o755, True),
    "/var/lib/pam_passkey/host": (0o700, True),
    "/var/cache/pam_passkey": (0o755, True),
    "/var/cache/pam_passkey/registry": (0o755, True),
}


def install(dest, build_dir):
    p = subprocess.run([ROOT / "scripts/install.sh", str(dest), str(build_dir)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p


@pytest.fixture
def staged(tmp_path, build_dir):
    from accounts import require_root
    require_root()
    dest = tmp_path / "root"
    install(dest, build_dir)
    return dest


def test_every_file_in_place_with_owner_and_mode(staged):
    for path, (mode, is_dir) in EXPECTED.items():
        st = os.lstat(f"{staged}{path}")
        assert stat.S_ISDIR(st.st_mode) == is_dir, path
        assert stat.S_IMODE(st.st_mode) == mode, f"{path}: {oct(stat.S_IMODE(st.st_mode))}"
        assert (st.st_uid, st.st_gid) == (0, 0), path
    installed = {str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()}
    assert installed == {p.lstrip("/") for p, (_, d) in EXPECTED.items() if not d}


def test_binaries_are_the_build_with_exports_and_no_runpath(staged, build_dir):
    module = f"{staged}{MODULE_DIR}/pam_passkey.so"
    exported = subprocess.run(["nm", "-D", "--defined-only", module], capture_output=True, text=True,
                              check=True).stdout
    for symbol in ("pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt"):
        assert f" T {symbol}\n" in exported
    libexec = f"{staged}/usr/libexec/pam_passkey"
    for path in (module, f"{libexec}/pam_passkey_helper", f"{libexec}/pam_passkey_authenticator", f"{staged}/usr/sbin/passkeyctl"):
        dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
        # Loaded into sshd and run setuid: no library search next to the file.
        assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, path
    version = subprocess.run([f"{libexec}/pam_passkey_authenticator", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("pam_passkey_helper")
    # The setuid file is the launcher (static: no program interpreter), starting the
    # authenticator where it was installed.
    launcher = pathlib.Path(f"{libexec}/pam_passkey_helper").read_bytes()
    assert launcher == (build_dir / "pam_passkey_launcher").read_bytes()
    assert b"\0pam_passkey launcher target=/usr/libexec/pam_passkey/pam_passkey_authenticator\0" in launcher
    headers = subprocess.run(["readelf", "-l", f"{libexec}/pam_passkey_helper"], capture_output=True, text=True, check=True).stdout
    assert "INTERP" not in headers


def test_refuses_a_launcher_built_for_another_place(tmp_path, build_dir):
    """A launcher compiled for a test directory would start nothing (or the wrong program)
    once installed."""
    build = tmp_path / "build"
    build.mkdir()
    for name in ("pam_passkey.so", "pam_passkey_helper", "passkeyctl", "pam_passkey_directory", "passkey-docgen"):
        (build / name).symlink_to(build_dir / name)
    elsewhere = subprocess.run([ROOT / "Sources/HelperLauncher/build.sh", build / "pam_passkey_launcher",
                                "/usr/libexec/pam_passkey/pam_passkey_authenticator2"], capture_output=True, text=True)
    assert elsewhere.returncode == 0, elsewhere.stderr
    p = subprocess.run([ROOT / "scripts/install.sh", str(tmp_path / "root"), str(build)], capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr == (f"install.sh: {build}/pam_passkey_launcher was not built to start "
                        "/usr/libexec/pam_passkey/pam_passkey_authenticator; run `make build` again\n")
    assert not (tmp_path / "root" / "usr").exists()


def test_policy_and_man_page_are_generated_from_the_key_table(staged, build_dir):
    conf = (staged / "etc/security/pam_passkey.conf").read_text()
    generated = subprocess.run([build_dir / "passkey-docgen", "conf"], capture_output=True, text=True,
                               check=True).stdout
    assert conf == generated
    page = (staged / "usr/share/man/man5/pam_passkey.conf.5").read_text()
    assert "@POLICY_KEYS@" not in page and "\\fB\\%pin_min_length\\fR" in page


def test_profiles_put_login_before_unix_and_append_after_it(staged):
    login = (staged / "usr/share/pam-configs/passkey").read_text()
    append = (staged / "usr/share/pam-configs/passkey-append").read_text()
    assert "Auth-Type: Primary" in login and "[success=end default=ignore]\tpam_passkey.so\n" in login
    assert "Auth-Type: Additional" in append and "optional\tpam_passkey.so append\n" in append
    unix_priority = 256  # /usr/share/pam-configs/unix
    priority = int(next(l for l in login.splitlines() if l.startswith("Priority:")).split()[1])
    assert priority > unix_priority


def test_running_again_keeps_policy_and_state_and_tightens_modes(staged, build_dir):
    conf = staged / "etc/security/pam_passkey.conf"
    conf.write_text("pin_min_length = 8\n")
    record = staged / "var/lib/pam_passkey/registry/alice.json"
    record.write_text("{}")
    host = staged / "var/lib/pam_passkey/host"
    os.chmod(host, 0o755)
    out = install(staged, build_dir).stdout
    assert conf.read_text() == "pin_min_length = 8\n"
    assert "never overwritten" in out
    assert record.read_text() == "{}"
    assert stat.S_IMODE(os.stat(host).st_mode) == 0o700
    assert "tightened from 755 to 700" in out
    # A deliberately tighter mode is not widened.
    registry = staged / "var/lib/pam_passkey/registry"
    os.chmod(registry, 0o700)
    install(staged, build_dir)
    assert stat.S_IMODE(os.stat(registry).st_mode) == 0o700


def test_replaces_the_module_by_rename_not_in_place(staged, build_dir):
    # A process with the old module mapped keeps an intact copy: the inode changes.
    module = pathlib.Path(f"{staged}{MODULE_DIR}/pam_passkey.so")
    before = os.stat(module).st_ino
    with open(module, "rb") as held:
        install(staged, build_dir)
        assert os.stat(module).st_ino != before
        assert os.fstat(held.fileno()).st_size == os.stat(module).st_size
    assert not list(module.parent.glob(".pam_passkey.so.new.*"))


def test_refuses_a_binary_with_a_runpath(tmp_path, build_dir):
    """The Makefile builds without RUNPATH; a module built some other way would make sshd and
    login look for libraries beside it. Refused before anything is installed, naming the fix."""
    build = tmp_path / "build"
    build.mkdir()
    for name in ("pam_passkey_helper", "pam_passkey_launcher", "passkeyctl", "pam_passkey_directory", "passkey-docgen"):
        (build / name).symlink_to(build_dir / name)
    (tmp_path / "m.c").write_text("int pam_sm_authenticate(void) { return 25; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", build / "libpam_passkey.so", tmp_path / "m.c",
                    "-Wl,--enable-new-dtags,-rpath,$ORIGIN"], check=True)
    (build / "pam_passkey.so").symlink_to("libpam_passkey.so")
    p = subprocess.run([ROOT / "scripts/install.sh", str(tmp_path / "root"), str(build)], capture_output=True, text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "has a RUNPATH; build it with make build or make ship" in p.stderr, p.stderr
    assert not (tmp_path / "root" / "lib").exists() and not (tmp_path / "root" / "usr").exists()


def test_missing_build_says_what_to_do(tmp_path):
    p = subprocess.run([ROOT / "scripts/install.sh", str(tmp_path / "root"), str(tmp_path / "nobuild")],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "make build" in p.stderr
