"""pam_passkey.so is loaded into sshd, login and gdm: it must export only the PAM entry
points and depend only on system libraries, never on a Swift toolchain's location."""
import subprocess

ALLOWED = {"libpam.so.0", "libcrypto.so.3", "libc.so.6", "libm.so.6", "libstdc++.so.6",
           "libgcc_s.so.1", "ld-linux-x86-64.so.2", "linux-vdso.so.1", "libaudit.so.1",
           "libcap-ng.so.0", "libdl.so.2", "libpthread.so.0", "libz.so.1"}
# The helper talks to the TPM through libtss2, which it loads when it uses a TPM (ESAPI pulls
# in SAPI and the marshalling library; the TCTI itself is dlopen()ed by the loader); until
# Package.swift drops CTSS2's pkg-config link, libtss2-esys is still linked. Only the helper:
# the module never touches the TPM.
TSS2 = {"libtss2-esys.so.0", "libtss2-tctildr.so.0", "libtss2-mu.so.0", "libtss2-rc.so.0", "libtss2-sys.so.1"}
ALLOWED_FOR = {"pam_passkey.so": ALLOWED, "pam_passkey_helper": ALLOWED | TSS2, "passkeyctl": ALLOWED}


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


def test_section_order_names_the_module_s_functions(build_dir):
    """Sources/Module/section-order.txt lists the functions the usual logins run, which the
    linker places together. Functions get renamed as the code changes; when most entries no
    longer name a function of the module, the file is stale and the footprint grows back."""
    from pathlib import Path
    order = Path(__file__).resolve().parents[2] / "Sources" / "Module" / "section-order.txt"
    wanted = [line.strip()[len(".text."):] for line in order.read_text().splitlines() if line.strip()]
    out = subprocess.run(["nm", build_dir / "pam_passkey.so"], check=True, capture_output=True, text=True).stdout
    present = {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}
    found = sum(1 for name in wanted if name in present)
    assert len(wanted) > 200 and found >= 0.8 * len(wanted), (
        f"{found} of {len(wanted)} functions in {order} are in the module: run scripts/update-section-order.sh")
