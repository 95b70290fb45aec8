"""The second-device flow with host B's passkey in a TPM (swtpm) and host A's in the
software authenticator: the module does not care which backend a host uses."""
import pytest

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt

SOFTWARE_AAGUID = "8f5c86a8-678f-4cf3-b055-7a7ef59ef0a1"
TPM_AAGUID = "b7b28067-6ad5-4a0a-91c8-76c1a366ddbe"


@pytest.fixture
def tpm(tmp_path):
    from swtpm import SoftwareTPM
    t = SoftwareTPM(tmp_path / "swtpm")
    yield t
    t.stop()


def test_host_b_on_a_tpm_host_a_on_software(fleet, make_account, tpm):
    alice = make_account("alice")
    a = fleet.host("host-a", authenticator="software")
    b = fleet.host("host-b", authenticator="tpm", tcti=tpm.tcti)

    r = a.login(alice, [alice.password, "y", "482913", "482913"])
    assert r.ok, r
    r = b.login(alice, [alice.password, "y", "605718", "605718"])
    assert r.ok, r
    assert r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create(),
                            choose_pin(), CONFIRM_PIN, ("info", "Passkey created. You now have passkeys on 2 computers.")], r
    by_host = {c["hostName"]: c for c in fleet.credentials(alice)}
    assert by_host["host-a"]["aaguid"] == SOFTWARE_AAGUID
    assert by_host["host-b"]["aaguid"] == TPM_AAGUID

    r = b.login(alice, ["605718"])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r
    r = a.login(alice, ["482913"])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # A wrong PIN on the TPM host, then the password.
    r = b.login(alice, ["111111", "222222", "333333", alice.password])
    assert r.ok and r.transcript[-1] == PASSWORD and r.transcript.count(pin_prompt(alice, "host-b")) == 3, r


def test_tpm_gone_means_step_aside_and_the_password(fleet, make_account, tpm, syslog):
    alice = make_account("alice")
    b = fleet.host("host-b", authenticator="tpm", tcti=tpm.tcti)
    r = b.login(alice, [alice.password, "y", "605718", "605718"])
    assert r.ok, r
    tpm.stop()
    r = b.login(alice, [alice.password])
    assert r.ok and pin_prompt(alice, "host-b") not in r.transcript and PASSWORD in r.transcript, r
    r = b.login(alice, ["wrong"])
    assert not r.ok, r
    # A TPM that is not there is an unavailable authenticator, not a broken one: the helper
    # says so as a typed state, and the module logs it as such at login and after the password.
    lines = [l for l in syslog.read() if f'user="{alice.name}"' in l and "pam_passkey(login:" in l]
    login = [l for l in lines if "login user=" in l and "decision=step_aside" in l and "no_credentials" not in l]
    append = [l for l in lines if "append user=" in l and "decision=no_offer" in l]
    assert login and all("reason=authenticator_unavailable:" in l and tpm.tcti in l for l in login), lines
    assert append and all("reason=authenticator_unavailable:" in l for l in append), lines
    assert not any("authenticator_broken" in l for l in lines), lines


def test_no_tpm_configured_is_unavailable_and_nothing_is_offered(fleet, make_account, tmp_path, syslog):
    bob = make_account("bob")
    missing = f"swtpm:path={tmp_path}/no-such-tpm.sock"
    b = fleet.host("host-b", authenticator="tpm", tcti=missing)
    r = b.login(bob, [bob.password])
    assert r.ok and r.transcript == [PASSWORD], r
    [line] = [l for l in syslog.read() if f'user="{bob.name}"' in l and "append user=" in l]
    assert "decision=no_offer reason=authenticator_unavailable:" in line and missing in line, line
