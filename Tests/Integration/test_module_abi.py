"""pam_passkey.so is loaded into sshd, login and gdm: it must export only the PAM entry
points and depend only on system libraries, never on a Swift toolchain's location."""
import re
import subprocess

import pytest

# libcrypto, libtss2 and libfido2 are opened on first use (Sources/CLibcryptoLoader, CTSS2,
# CFIDO2), so no binary names them.
ALLOWED = {"libpam.so.0", "libc.so.6", "libm.so.6", "libstdc++.so.6",
           "libgcc_s.so.1", "ld-linux-x86-64.so.2", "linux-vdso.so.1", "libaudit.so.1",
           "libcap-ng.so.0", "libdl.so.2", "libpthread.so.0", "libz.so.1"}
# The module and the helper define the static runtime's math functions themselves
# (Sources/CRuntimeOverrides/libm.c) and open libm only if one is called: not in DT_NEEDED.
ALLOWED_FOR = {"pam_passkey.so": ALLOWED - {"libm.so.6"}, "pam_passkey_helper": ALLOWED - {"libm.so.6"},
               "passkeyctl": ALLOWED}


def test_exports_only_pam_sm(build_dir):
    out = subprocess.run(["nm", "-D", "--defined-only", build_dir / "pam_passkey.so"],
                         check=True, capture_output=True, text=True).stdout
    exported = {line.split()[-1] for line in out.splitlines()
                if line.split()[1] in ("T", "D", "B", "W", "R", "V")}
    assert exported == {"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt"}


def test_needs_only_system_libraries(build_dir):
    for binary, allowed in ALLOWED_FOR.items():
        out = subprocess.run(["ldd", build_dir / binary], check=True, capture_output=True, text=True).stdout
        libs = {line.split()[0].split("/")[-1] for line in out.splitlines() if line.strip()}
        assert libs <= allowed, f"{binary} links {libs - allowed}"
        assert "swift" not in out, f"{binary} depends on the Swift toolchain:\n{out}"


def test_helper_reaches_the_tpm_through_libtss2(build_dir):
    """The helper loads libtss2 when it talks to a TPM (dlopen by soname, Sources/CTSS2/shim.h),
    not on every start: with `authenticator = software`, or no TPM, it never maps them. The
    TCTI loader and the response-code library are not linked; the helper names every library
    it loads. That the TPM is reached through them is what test_pam_tpm.py and the helper's
    TPM unit tests (swtpm) check."""
    out = subprocess.run(["ldd", build_dir / "pam_passkey_helper"], check=True, capture_output=True, text=True).stdout
    assert "libtss2-tctildr.so.0" not in out and "libtss2-rc.so.0" not in out, out
    program = (build_dir / "pam_passkey_helper").read_bytes()
    for soname in ("libtss2-esys.so.0", "libtss2-tctildr.so.0", "libtss2-mu.so.0", "libtss2-rc.so.0"):
        assert soname.encode() + b"\0" in program, f"the helper does not load {soname}"


# Each binary started or loaded afresh for every login, and the file that orders its .bss
# variables and functions (lld's --symbol-ordering-file, scripts/update-symbol-order.sh).
ORDERED = {"pam_passkey.so": "Module", "pam_passkey_helper": "Helper"}


def symbol_order(binary):
    from pathlib import Path
    order = Path(__file__).resolve().parents[2] / "Sources" / ORDERED[binary] / "symbol-order.txt"
    return order, [line.strip() for line in order.read_text().splitlines() if line.strip()]


def symbols(build_dir, kinds, binary="pam_passkey.so"):
    """{name: (address, size)} of the binary's symbols of the nm kinds given."""
    out = subprocess.run(["nm", "-S", "--defined-only", build_dir / binary], check=True,
                         capture_output=True, text=True).stdout
    return {f[3]: (int(f[0], 16), int(f[1], 16)) for f in (line.split() for line in out.splitlines())
            if len(f) == 4 and f[2] in kinds}


@pytest.mark.parametrize("binary", ORDERED)
def test_symbol_order_names_the_binary_s_functions(build_dir, binary):
    """The order file lists the functions the usual logins run (and, for the helper, the
    requests they make), which the linker places together. Functions get renamed as the code
    changes; when most entries no longer name a function of the binary, the file is stale and
    the page faults grow back."""
    order, wanted = symbol_order(binary)
    present = symbols(build_dir, "tTwWbB", binary)
    found = sum(1 for name in wanted if name in present)
    assert len(wanted) > 200 and found >= 0.8 * len(wanted), (
        f"{found} of {len(wanted)} functions and .bss variables in {order} are in {binary}: "
        "run scripts/update-symbol-order.sh")


@pytest.mark.parametrize("binary", ORDERED)
def test_the_linker_puts_the_ordered_bss_variables_first(build_dir, binary):
    """The file's first part, the .bss variables a step-aside (the helper: a status request)
    touches, is applied too: the first of them lie together at the start of .bss (lld orders
    every output section by the file; each page of .bss a process touches costs it two page
    faults and 4 kB)."""
    _, wanted = symbol_order(binary)
    variables = symbols(build_dir, "bB", binary)
    listed = [n for n in wanted if n in variables]
    assert len(listed) > 20, f"only {len(listed)} .bss variables of {binary} in its symbol-order.txt: run scripts/update-symbol-order.sh"
    sections = subprocess.run(["readelf", "-SW", build_dir / binary], check=True, capture_output=True, text=True).stdout
    bss = int(re.search(r"\]\s+\.bss\s+NOBITS\s+([0-9a-f]+)", sections).group(1), 16)
    # The first eight (from the runtime's objects and the project's; without the order they
    # lie up to 240 kB apart) share the first page.
    first = [n for n in listed if variables[n][1] <= 4096][:8]
    far = {n: hex(variables[n][0] - bss) for n in first if variables[n][0] - bss >= 4096}
    assert not far, f"ordered .bss variables of {binary} beyond the first page of .bss (offsets): {far}"


@pytest.mark.parametrize("binary", ORDERED)
def test_the_linker_lays_the_ordered_functions_out_together(build_dir, binary):
    """The order is applied, not only accepted: the functions the file names lie together at
    the start of the code, within three times their own size. (gold took the file, said
    nothing, and left half of them spread over the module's 4.9 MB.) The compiler puts a
    file's public functions in sections of their own and the rest of the file's functions in
    one shared section, which the linker moves whole: hence the margin, and the first function
    named within the first 64 kB, not at the very start."""
    _, wanted = symbol_order(binary)
    functions = symbols(build_dir, "tTwW", binary)
    ordered = [functions[n] for n in wanted if n in functions]
    start = min(address for address, _ in functions.values())
    assert ordered and ordered[0][0] - start < 64 * 1024, f"the first function named is not at the start of {binary}'s code"
    reach = start + 3 * sum(size for _, size in ordered)
    inside = sum(1 for address, _ in ordered if address < reach)
    assert inside >= 0.95 * len(ordered), f"{inside} of {len(ordered)} ordered functions of {binary} in the first {(reach - start) // 1024} kB"


def test_relative_relocations_are_packed(build_dir):
    """DT_RELR: the loader reads a few kB of relocation bitmap at dlopen, not 446 kB of
    .rela.dyn (-z pack-relative-relocs; glibc 2.36)."""
    out = subprocess.run(["readelf", "-d", build_dir / "pam_passkey.so"], check=True, capture_output=True, text=True).stdout
    assert "(RELR)" in out, out
    size = int(next(line for line in out.splitlines() if "(RELASZ)" in line).split()[-2])
    assert size < 16 * 1024, size


# libcrypto is opened on first use (Sources/CLibcryptoLoader's header has the path) by one absolute path, the file
# the system's loader would pick for libcrypto.so.3 (Debian's multiarch directory).
LIBCRYPTO = "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"


def test_module_opens_libcrypto_by_absolute_path_on_first_use(build_dir):
    """Not in the module's DT_NEEDED, so login and su do not map it for a step-aside; named
    by its absolute path, never a bare soname (the loader's search includes LD_LIBRARY_PATH
    in a PAM application that is not setuid); that path is the library ldconfig knows."""
    import os
    dynamic = subprocess.run(["readelf", "-d", build_dir / "pam_passkey.so"], check=True, capture_output=True, text=True).stdout
    assert "libcrypto" not in dynamic, dynamic
    program = (build_dir / "pam_passkey.so").read_bytes()
    assert LIBCRYPTO.encode() + b"\0" in program
    assert b"\0libcrypto.so.3\0" not in program
    cache = subprocess.run(["ldconfig", "-p"], check=True, capture_output=True, text=True).stdout
    listed = [line.split("=>")[-1].strip() for line in cache.splitlines()
              if line.strip().startswith("libcrypto.so.3 ") and "x86-64" in line]
    assert listed, cache
    assert all(os.path.samefile(path, LIBCRYPTO) for path in listed), listed
    # The helper does not link it either: it opens it through the same loader
    # (Sources/CLibcryptoLoader), whose hook installs its allocator right after the dlopen.
    # So Packaging/build-deb.sh names libssl3 in Depends itself.
    helper = subprocess.run(["readelf", "-d", build_dir / "pam_passkey_helper"], check=True, capture_output=True, text=True).stdout
    assert "libcrypto" not in helper, helper
    # And no binary's dynamic symbol table wants anything of libcrypto's.
    for binary in ("pam_passkey.so", "pam_passkey_helper"):
        symbols = subprocess.run(["nm", "-D", "--undefined-only", build_dir / binary], check=True, capture_output=True, text=True).stdout
        assert not [l for l in symbols.splitlines() if " CRYPTO_" in l or " EVP_" in l or " OPENSSL_" in l], (binary, symbols)


HIDE_LIBCRYPTO = 'mount --bind "$0" ' + LIBCRYPTO + ' && exec "$@"'


def hiding_libcrypto(directory):
    """A command prefix: the rest runs in a mount namespace where LIBCRYPTO is an empty file
    (unshare: util-linux, which scripts/install-deps.sh installs)."""
    empty = directory / "empty"
    empty.write_bytes(b"")
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", HIDE_LIBCRYPTO, str(empty)]


def helper_status(build_dir, host, prefix=(), request=None):
    """A fresh helper (the build's, run as root) answering one request (status unless told)
    for host's policy: (returncode, the frames it wrote, stderr)."""
    from fido2 import cbor
    from ptyprograms import HELPER_PROTOCOL
    payload = cbor.encode({"v": HELPER_PROTOCOL, **(request or {"op": "status"})})
    p = subprocess.run([*prefix, str(build_dir / "pam_passkey_helper"), "--conf", str(host.conf)],
                       input=len(payload).to_bytes(4, "big") + payload, capture_output=True, timeout=60,
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    frames, data = [], p.stdout
    while len(data) >= 4:
        n = int.from_bytes(data[:4], "big")
        frames.append(cbor.decode(data[4:4 + n]))
        data = data[4 + n:]
    assert data == b"", p.stdout
    return p.returncode, frames, p.stderr.decode(errors="replace")


def test_a_helper_answers_status_without_libcrypto(fleet):
    """Status needs no cryptography: the helper neither opens libcrypto for it (strace) nor
    needs it there (a mount namespace where the file is empty)."""
    a = fleet.host("host-a")
    code, [reply], err = helper_status(fleet.build_dir, a)
    assert code == 0 and reply["reply"] == "status" and [r["kind"] for r in reply["reports"]] == ["software"], (reply, err)
    code, [hidden], err = helper_status(fleet.build_dir, a, prefix=hiding_libcrypto(a.dir))
    assert code == 0 and hidden == reply, (hidden, reply, err)
    trace = a.dir / "status.strace"
    code, [traced], err = helper_status(fleet.build_dir, a, prefix=["strace", "-f", "-qq", "-e", "trace=openat,open", "-o", str(trace)])
    assert code == 0 and traced == reply, (traced, err)
    opened = trace.read_text()
    assert "pam_passkey.conf" in opened, opened
    assert "libcrypto" not in opened, opened
    # Nor libm, nor the runtime's search of /proc/self/maps for its arguments
    # (Sources/CRuntimeOverrides): it found them all the same, or it would not have read --conf.
    assert "libm.so" not in opened and "/proc/self/maps" not in opened, opened


def test_without_libcrypto_the_helper_refuses_a_ceremony_before_any_pin(fleet, make_account):
    """Status answers without the library; a passkey on this computer can be neither made nor
    used, and the helper says why at once, before a PIN question (no PIN is counted)."""
    alice = make_account("alice")
    a = fleet.host("host-a")
    make = {"op": "make", "user": alice.name, "rp": "pam_passkey.test", "cdh": bytes(32), "uh": b"alice"}
    get = {"op": "get", "user": alice.name, "rp": "pam_passkey.test", "cdh": bytes(32), "allow": [bytes(16)]}
    for request in (make, get):
        code, frames, err = helper_status(fleet.build_dir, a, prefix=hiding_libcrypto(a.dir), request=request)
        assert [f.get("reply") for f in frames] == ["failure"], (request["op"], frames, err)
        assert frames[0]["code"] == "unavailable", frames
        assert "libcrypto is not available" in frames[0]["message"] and LIBCRYPTO in frames[0]["message"], frames


def test_the_helper_installs_its_huge_page_allocator_when_it_opens_libcrypto(fleet, make_account):
    """A passkey's PIN check runs scrypt (1 MiB of working memory at pin_kdf_cost = 10) in a
    helper that opened libcrypto on first use: the block still comes from the large-block
    allocator (Sources/Helper/LargeBlockAllocator.swift), mapped and marked MADV_HUGEPAGE,
    so CRYPTO_set_mem_functions went in before OpenSSL's first allocation."""
    alice = make_account("alice")
    a = fleet.host("host-a")
    trace = a.dir / "helper.strace"
    run_helper_under(a, f"strace -f -qq -e trace=openat,madvise -o {trace}")
    r = a.login(alice, [alice.password, "y", "482913", "482913"])
    assert r.ok, r
    trace.unlink()
    r = a.login(alice, ["482913"])
    assert r.ok, r
    lines = trace.read_text().splitlines()
    opened = [i for i, l in enumerate(lines) if LIBCRYPTO in l and "openat" in l and "= -1" not in l]
    huge = [i for i, l in enumerate(lines) if "MADV_HUGEPAGE" in l and l.rstrip().endswith("= 0")]
    assert opened and huge and opened[0] < huge[0], "\n".join(lines)


def run_helper_under(host, command):
    """host's policy then starts its helper through a script: `command` (a shell command
    prefix: strace, nsenter) running the helper with the module's arguments."""
    import os
    script = host.dir / "helper-wrapped"
    script.write_text(f'#!/bin/sh\nexec {command} {host.policy["helper"]} "$@"\n')
    os.chmod(script, 0o755)
    host.set_policy(helper=str(script))


def footprint_login(build_dir, host, user, answer, *, namespace_prefix=()):
    """One login through host's login stack in a fresh passkey-footprint-probe (a C program
    linked with libpam alone, login-like: no libcrypto of its own); returns (returncode,
    output, the probe's /proc/self/smaps after the login)."""
    import tempfile
    (host.confdir / "permit").write_text("auth required pam_permit.so\n")
    with tempfile.NamedTemporaryFile(prefix="smaps-", dir=host.dir) as smaps:
        r = subprocess.run([*namespace_prefix, str(build_dir / "passkey-footprint-probe"), "login", str(host.confdir), user.name,
                            answer, str(build_dir / "pam_passkey.so"), "login"],
                           capture_output=True, text=True, timeout=60,
                           env={"PASSKEY_BENCH_SMAPS": smaps.name, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        return r.returncode, r.stdout + r.stderr, open(smaps.name).read()


def test_neither_a_step_aside_nor_a_passkey_login_maps_libcrypto_or_libm(fleet, make_account):
    """The assertion is verified in Swift (Sources/Crypto/P256Arithmetic.swift): the host
    process of a passkey login never maps libcrypto, only the helper does. Nor libm: the
    runtime's math functions are the module's own forwarders, and the one a login calls
    (ceil) is computed there (Sources/CRuntimeOverrides/libm.c)."""
    alice = make_account("alice")
    a = fleet.host("host-a")
    # No passkey yet: the module steps aside and pam_unix takes the password.
    code, out, smaps = footprint_login(fleet.build_dir, a, alice, alice.password)
    assert code == 0, out
    assert "libcrypto" not in smaps and "libm.so" not in smaps, smaps
    r = a.login(alice, [alice.password, "y", "482913", "482913"])
    assert r.ok, r
    # The PIN is not alice's password: pam_unix would refuse it, so 0 is the passkey's.
    code, out, smaps = footprint_login(fleet.build_dir, a, alice, "482913")
    assert code == 0, out
    assert "libcrypto" not in smaps and "libm.so" not in smaps, smaps


def test_loading_the_module_does_not_search_proc_self_maps(fleet, make_account):
    """The static runtime's own way to find a process's arguments reads /proc/self/maps (longer
    in sshd or gdm than anywhere) at every dlopen; the module takes them from .init_array
    instead (Sources/CRuntimeOverrides/arguments.c), and opens neither it nor libm."""
    alice = make_account("alice")
    a = fleet.host("host-a")
    trace = a.dir / "load.strace"
    code, out, _ = footprint_login(fleet.build_dir, a, alice, alice.password,
                                   namespace_prefix=["strace", "-f", "-qq", "-e", "trace=openat,open", "-o", str(trace)])
    assert code == 0, out
    opened = trace.read_text()
    assert "pam_passkey.so" in opened and "pam_passkey.conf" in opened, opened
    assert "/proc/self/maps" not in opened and "libm.so" not in opened, opened


def test_without_libcrypto_in_the_host_process_a_passkey_login_and_a_step_aside_work(fleet, make_account, syslog):
    """In a mount namespace where the library's file is empty: the module never needed it,
    so the passkey login (PIN, verified in Swift) and the step-aside both work there."""
    alice, bob = make_account("alice"), make_account("bob")
    a = fleet.host("host-a")
    # The helper needs libcrypto for the PIN check (it opens it on first use,
    # Sources/CLibcryptoLoader), so it runs outside the namespace (the module alone is without
    # the library there): a launcher that enters this process's mount namespace.
    import os
    run_helper_under(a, f"nsenter --mount=/proc/{os.getpid()}/ns/mnt --")
    r = a.login(alice, [alice.password, "y", "482913", "482913"])
    assert r.ok, r
    hide = hiding_libcrypto(a.dir)
    code, out, smaps = footprint_login(fleet.build_dir, a, alice, "482913", namespace_prefix=hide)
    assert code == 0, out
    assert "libcrypto" not in smaps
    lines = syslog.read()
    assert any("passkey-footprint-probe" in line and "decision=success reason=passkey_verified" in line
               for line in lines), "\n".join(lines)
    assert not any("libcrypto" in line for line in lines), lines
    code, out, smaps = footprint_login(fleet.build_dir, a, bob, bob.password, namespace_prefix=hide)
    assert code == 0, out
    assert "libcrypto" not in smaps


def test_only_the_helper_hooks_libcrypto_s_first_open(build_dir):
    """The allocator belongs to the process: the module, in someone else's, registers no hook
    with the loader (Sources/CLibcryptoLoader), and the loader adds no weak undefined symbol
    to it (those it has are the C runtime's start files')."""
    from conftest import ROOT
    users = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "Sources").rglob("*.swift")
                   if "pam_passkey_crypto_on_first_open" in p.read_text())
    assert users == ["Sources/Helper/LargeBlockAllocator.swift"], users
    symbols = subprocess.run(["nm", "-D", build_dir / "pam_passkey.so"], check=True, capture_output=True, text=True).stdout
    weak = {l.split()[-1] for l in symbols.splitlines() if l.split()[0] in ("w", "v")}
    assert weak <= {"_ITM_deregisterTMCloneTable", "_ITM_registerTMCloneTable", "__cxa_finalize@GLIBC_2.2.5", "__gmon_start__"}, weak
