"""The Debian packages, for real on this machine: built from the shipping build (`make ship`:
no -enable-testing) as `make deb` builds them, checked as a Debian packager would (lintian
--pedantic, readelf, a backtrace symbolised from the -dbgsym package, two packaging runs
byte for byte), then installed with dpkg: pam-auth-update put the login line before pam_unix
and the append line after the primary block of /etc/pam.d/common-auth, a real user signs in
through pamtester with the system's common-auth and the package's defaults, and purging it
leaves common-auth byte for byte what it was.

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
VERSION = (ROOT / "VERSION").read_text().strip()
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


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
def ship_dir():
    """Where `make ship` put the products that are installed and packaged."""
    d = pathlib.Path(os.environ.get("PAM_PASSKEY_SHIP_BUILD", ROOT / ".build" / "ship" / "release"))
    if not (d / "pam_passkey.so").exists() or not (d / "pam_passkey_launcher").exists():
        pytest.fail(f"{d} has no shipping build: run `make ship` first")
    return d


def build_debs(ship_dir, out):
    """Packaging/build-deb.sh, as `make deb` runs it: (main package, -dbgsym package)."""
    p = run(ROOT / "Packaging/build-deb.sh", ship_dir, out)
    assert p.returncode == 0, p.stderr
    *_, dbgsym, main = [pathlib.Path(l) for l in p.stdout.strip().splitlines()]
    assert main.name == f"{PACKAGE}_{VERSION}_{ARCH}.deb" and main.is_file()
    assert dbgsym.name == f"{PACKAGE}-dbgsym_{VERSION}_{ARCH}.deb" and dbgsym.is_file()
    return main, dbgsym


@pytest.fixture(scope="module")
def debs(ship_dir, tmp_path_factory):
    return build_debs(ship_dir, tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="module")
def deb(debs):
    return debs[0]


@pytest.fixture(scope="module")
def unpacked(debs, tmp_path_factory):
    """Both packages unpacked into one tree, as installing both would lay them out."""
    root = tmp_path_factory.mktemp("unpacked")
    for d in debs:
        subprocess.run(["dpkg-deb", "-x", d, root], check=True)
    return root


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


def test_control_fields(deb, ship_dir):
    assert control_field(deb, "Package") == PACKAGE
    assert control_field(deb, "Version") == VERSION
    assert control_field(deb, "Architecture") == ARCH
    assert control_field(deb, "Section") == "admin"
    assert control_field(deb, "Priority") == "optional"
    maintainer = control_field(deb, "Maintainer")
    assert re.fullmatch(r".+ <[^ ]+@[^ ]+\.[a-z]+>", maintainer) and "localhost" not in maintainer
    # The changelog's last entry is this version, by the maintainer of the control file.
    changelog = subprocess.run(["dpkg-parsechangelog", "-l", ROOT / "Packaging/debian/changelog", "-S", "Version"],
                               capture_output=True, text=True).stdout.strip()
    assert changelog == VERSION
    depends = {d.split()[0] for d in control_field(deb, "Depends").split(", ")}
    assert {"libpam0g", "libssl3", "libpam-runtime"} <= depends
    needed = ""
    for binary in ("pam_passkey.so", "pam_passkey_helper", "passkeyctl"):
        needed += run("objdump", "-p", ship_dir / binary).stdout
    # No binary links a TPM library (the helper opens them when it uses a TPM): they are
    # recommended, each library the helper opens, and not depended on.
    assert "libtss2" not in needed and not any(d.startswith("libtss2") for d in depends)
    assert "libstdc++" not in needed, "the C++ runtime is linked in"
    # libldap is for pam_passkey_directory alone: never in a login, the helper or passkeyctl.
    assert "libldap" not in needed and "liblber" not in needed
    assert "libldap-2.5" in run("objdump", "-p", ship_dir / "pam_passkey_directory").stdout
    recommends = {d.split()[0] for d in control_field(deb, "Recommends").split(", ")}
    # And Cyrus SASL's GSSAPI plugin, which libldap loads for ldap_bind = gssapi.
    assert recommends == {"libtss2-esys-3.0.2-0", "libtss2-mu0", "libtss2-rc0", "libtss2-tctildr0",
                          "libsasl2-modules-gssapi-mit"}, recommends
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
    # The bash completion, where bash-completion looks for it.
    assert os.path.isfile("/usr/share/bash-completion/completions/passkeyctl")
    # The directory sync timer and its service: valid units, installed but not enabled.
    units = ["/lib/systemd/system/pam_passkey-sync.service", "/lib/systemd/system/pam_passkey-sync.timer"]
    verify = run("systemd-analyze", "verify", "--man=no", *units)
    assert verify.returncode == 0 and verify.stderr == "", verify
    assert "ExecStart=/usr/sbin/passkeyctl sync" in pathlib.Path(units[0]).read_text()
    assert not os.path.lexists("/etc/systemd/system/timers.target.wants/pam_passkey-sync.timer")
    assert run("/usr/sbin/passkeyctl", "--version").stdout == f"passkeyctl {VERSION}\n"
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


# ---------------------------------------------------------------------------------------------
# As a Debian packager checks a package


def test_lintian_pedantic_reports_no_error_or_warning(debs):
    """Every tag lintian --pedantic shows (info included); an error or a warning fails, and so
    does an override that no longer matches anything (Packaging/debian/lintian-overrides)."""
    p = run("lintian", "--info", "--display-info", "--display-experimental", "--pedantic",
            "--no-tag-display-limit", *debs)
    tags = [l for l in p.stdout.splitlines() if re.match(r"[EWIPXO]: ", l)]
    print("\n".join(tags) or "lintian: no tags")
    assert p.returncode == 0, p.stdout + p.stderr
    bad = [t for t in tags if t[0] in "EW" or re.search(r"\b(unused|mismatched)-override\b", t)]
    assert bad == [], "\n".join(bad)


def elf_files(root):
    return {name: root / path for name, path in (
        ("module", next((root / "lib").glob("*/security/pam_passkey.so")).relative_to(root)),
        ("launcher", pathlib.Path("usr/libexec/pam_passkey/pam_passkey_helper")),
        ("authenticator", pathlib.Path("usr/libexec/pam_passkey/pam_passkey_authenticator")),
        ("passkeyctl", pathlib.Path("usr/sbin/passkeyctl")),
        ("directory", pathlib.Path("usr/libexec/pam_passkey/pam_passkey_directory")))}


def readelf(*args):
    p = run("readelf", "-W", *args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def exported(path):
    """Symbols the file defines in its dynamic symbol table with global or weak binding."""
    rows = [l.split() for l in readelf("--dyn-syms", path).splitlines()]
    return {r[7].split("@")[0] for r in rows if len(r) >= 8 and r[0].rstrip(":").isdigit()
            and r[4] in ("GLOBAL", "WEAK") and r[6] != "UND"}


def test_packaged_binaries_are_hardened_stripped_and_export_only_what_they_must(unpacked, ship_dir, build_dir):
    elfs = elf_files(unpacked)
    for name, path in elfs.items():
        dynamic, segments, sections = readelf("-d", path), readelf("-l", path), readelf("-S", path)
        assert re.search(r"\(FLAGS\)\s+BIND_NOW", dynamic) or re.search(r"FLAGS_1.*\bNOW\b", dynamic), (name, dynamic)
        assert "GNU_RELRO" in segments, (name, segments)
        # Constants are read-only for the life of the process: .rodata is not writable (the
        # compiler's writable conformance records go to .data.rel.ro instead,
        # scripts/link/relro-rodata.ld), and .data.rel.ro lies inside RELRO.
        table = {m.group(1): (int(m.group(2), 16), int(m.group(3), 16), m.group(4)) for m in re.finditer(
            r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s", sections)}
        assert "W" not in table[".rodata"][2], (name, table[".rodata"])
        if ".data.rel.ro" in table:
            relro = re.search(r"GNU_RELRO\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x([0-9a-f]+)", segments)
            start, size = int(relro.group(1), 16), int(relro.group(2), 16)
            address, length, _ = table[".data.rel.ro"]
            assert start <= address and address + length <= start + size, (name, hex(address), hex(start), hex(size))
        assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, (name, dynamic)
        # Stripped (dh_strip): no symbol table, no debugging information; the build id and a
        # debug link say where the -dbgsym package has them.
        assert not re.search(r"\] \.symtab|\] \.debug_", sections), (name, sections)
        assert ".gnu_debuglink" in sections and "Build ID" in readelf("-n", path), name
    # No Swift symbol (nor any other) exported by the executables; the module exports its
    # PAM entry points and nothing else (its version script).
    assert exported(elfs["authenticator"]) == set()
    assert exported(elfs["passkeyctl"]) == set()
    assert exported(elfs["directory"]) == set()
    module = exported(elfs["module"])
    assert {"pam_sm_authenticate", "pam_sm_setcred"} <= module and all(s.startswith("pam_sm_") for s in module), module
    # The launcher is a static PIE: no interpreter, no shared library.
    assert "INTERP" not in readelf("-l", elfs["launcher"]) and "NEEDED" not in readelf("-d", elfs["launcher"])
    # Nothing in either package names the checkout it was built in (the binaries before
    # stripping stand for the debug files, which are compressed).
    unstripped = [ship_dir / n for n in ("pam_passkey.so", "pam_passkey_helper", "passkeyctl", "pam_passkey_launcher")]
    for path in list(unpacked.rglob("*")) + unstripped:
        if path.is_file() and not path.is_symlink() or path in unstripped:
            assert str(ROOT).encode() not in path.read_bytes(), path
    # What ships was compiled without -enable-testing; the tests' build has it.
    shipped = compiled_for_testing(ship_dir)
    assert {"PAMModule", "pam_passkey_helper", "passkeyctl", "Storage"} <= shipped.keys()
    assert [m for m, testable in shipped.items() if testable and not m.endswith("Tests")] == []
    assert compiled_for_testing(build_dir)["Storage"]


def compiled_for_testing(build):
    """Module name → whether SwiftPM's build manifest compiles it with -enable-testing."""
    manifest = (build.resolve().parent.parent / "release.yaml").read_text()
    modules = {}
    for args in re.findall(r"^    args: \[(.*)\]$", manifest, re.M):
        name = re.search(r'"-module-name","([^"]+)"', args)
        if name:
            modules[name.group(1)] = modules.get(name.group(1), False) or '"-enable-testing"' in args
    return modules


def test_debug_symbols_package_symbolises_a_backtrace_of_the_helper(debs, unpacked):
    """gdb finds the -dbgsym package's file by the build id and names the Swift function and
    source line of a frame in the stripped authenticator; without it the frame is ??."""
    authenticator = unpacked / "usr/libexec/pam_passkey/pam_passkey_authenticator"
    debug_dir = unpacked / "usr/lib/debug"
    ids = [re.search(r"Build ID: ([0-9a-f]+)", readelf("-n", p)).group(1) for p in elf_files(unpacked).values()]
    for i in ids:
        assert (debug_dir / ".build-id" / i[:2] / f"{i[2:]}.debug").is_file(), i
    assert sorted(control_field(debs[1], "Build-Ids").split()) == sorted(ids)

    def backtrace(directory):
        p = run("gdb", "-batch", "-nx", "-iex", f"set debug-file-directory {directory}",
                "-ex", "break write", "-ex", "run", "-ex", "bt", "--args", authenticator, "--version")
        assert p.returncode == 0, p.stdout + p.stderr
        frames = [l for l in p.stdout.splitlines() if l.startswith("#")]
        assert frames, p.stdout + p.stderr
        return frames

    with_symbols = backtrace(debug_dir)
    assert any(re.search(r" in pam_passkey_helper_main \(\) at /usr/src/pam-passkey/Sources/Helper/main\.swift:\d+$", f)
               for f in with_symbols), "\n".join(with_symbols)
    without = backtrace(unpacked / "nowhere")
    assert not any("main.swift" in f for f in without), "\n".join(without)


def test_two_packaging_runs_give_byte_identical_packages(debs, ship_dir, tmp_path):
    """Reproducible: the same build packaged again (another directory, another moment) gives
    the same bytes; every time in the packages is the last commit's."""
    again = build_debs(ship_dir, tmp_path)
    for first, second in zip(debs, again):
        assert first.read_bytes() == second.read_bytes(), first.name
    epoch = int(subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%ct"], capture_output=True, text=True).stdout)
    for d in debs:
        for part in ("--fsys-tarfile", "--ctrl-tarfile"):
            tar = subprocess.run(["dpkg-deb", part, d], capture_output=True, check=True).stdout
            listing = subprocess.run(["tar", "-tv", "--full-time", "--utc"], input=tar, capture_output=True, check=True).stdout.decode()
            times = set(re.findall(r" (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ", listing))
            assert times == {time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))}, (d.name, part, times)
            assert all(" root/root " in l for l in listing.splitlines()), listing


def test_readme_depends_list_is_the_packages(deb):
    """README.md's list of what the package depends on is the Depends field, name for name."""
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"<!-- depends:begin -->(.*?)<!-- depends:end -->", readme, re.S)
    assert listed, "README.md has no <!-- depends:begin --> … <!-- depends:end --> list"
    names = set(re.findall(r"`([a-z0-9][a-z0-9.+-]+)`", listed.group(1)))
    depends = {d.split()[0] for d in control_field(deb, "Depends").split(", ")}
    assert names == depends, f"README lists {sorted(names)}; the package depends on {sorted(depends)}"
    listed = re.search(r"<!-- recommends:begin -->(.*?)<!-- recommends:end -->", readme, re.S)
    assert listed, "README.md has no <!-- recommends:begin --> … <!-- recommends:end --> list"
    names = set(re.findall(r"`([a-z0-9][a-z0-9.+-]+)`", listed.group(1)))
    recommends = {d.split()[0] for d in control_field(deb, "Recommends").split(", ")}
    assert names == recommends, f"README lists {sorted(names)}; the package recommends {sorted(recommends)}"
