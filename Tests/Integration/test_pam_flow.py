"""The second-device flow of DESIGN.md inside real libpam (pam_start_confdir in this
process), with a real account, the real helper process and pam_unix for the password. Two
simulated hosts share one registry. Every prompt and message the user sees is asserted."""
import pamdriver
from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt

PIN_A, PIN_B = "482913", "605718"


def test_second_device_story(fleet, make_account, syslog):
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")

    # 1. First login on A: password, offer, PIN setup.
    r = a.login(alice, [alice.password, "y", PIN_A, PIN_A])
    assert r.ok, r
    assert r.transcript == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN,
                            ("info", "Passkey created. Next time you can sign in here with your PIN.")], r
    creds = fleet.credentials(alice)
    assert [c["hostName"] for c in creds] == ["host-a"]

    # 2. Next login on A: the PIN alone.
    r = a.login(alice, [PIN_A])
    assert r.ok, r
    assert r.transcript == [pin_prompt(alice, "host-a")], r

    # 3. On B: no PIN prompt, where the passkeys are, the password, an offer, PIN setup.
    r = b.login(alice, [alice.password, "y", PIN_B, PIN_B])
    assert r.ok, r
    assert r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create(),
                            choose_pin(), CONFIRM_PIN, ("info", "Passkey created. You now have passkeys on 2 computers.")], r
    assert sorted(c["hostName"] for c in fleet.credentials(alice)) == ["host-a", "host-b"]

    # 4. B with its PIN alone; A still with its own.
    r = b.login(alice, [PIN_B])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # The sign counters moved and each use was recorded with its host.
    for c in fleet.credentials(alice):
        assert c["signCount"] >= 1 and c["lastUsed"]["host"] == c["hostName"], c

    # One syslog line per decision, none with a PIN or the password.
    lines = syslog.read()
    assert any("decision=passkey" in l and f"user=\"{alice.name}\"" in l for l in lines), lines
    assert any("decision=step_aside reason=credentials_elsewhere" in l for l in lines), lines
    assert not any(PIN_A in l or PIN_B in l or alice.password in l for l in lines)
