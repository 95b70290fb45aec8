"""registry = ldap through the real module in real libpam, the real helper, pam_unix, and
Debian's slapd with the shipped schema and access rules (ldapfleet.py): hosts learn each
other's passkeys from the directory, through pam_passkey_directory and each host's cache."""
import time

import pytest

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create, pin_prompt
from ldapfleet import directory_program, directory_record, ldap_host, queue, start_directory

PIN_A, PIN_B = "482913", "605718"


@pytest.fixture(scope="module")
def directory():
    s = start_directory()
    try:
        yield s
    finally:
        s.remove()


def test_second_device_story_through_the_directory(fleet, directory, make_account, syslog):
    alice = make_account("alice")
    a, b = ldap_host(fleet, directory, "host-a"), ldap_host(fleet, directory, "host-b")

    # A: password, offer, PIN setup. The credential reaches the directory.
    r = a.login(alice, [alice.password, "y", PIN_A, PIN_A])
    assert r.ok, r
    assert r.transcript == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN,
                            ("info", "Passkey created. Next time you can sign in here with your PIN.")], r
    assert [c["hostName"] for c in directory_record(directory, alice)["credentials"]] == ["host-a"]
    assert queue(a) == []

    # A again: the PIN alone.
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # B has never seen alice: it asks the directory, and knows where her passkey is.
    r = b.login(alice, [alice.password, "y", PIN_B, PIN_B])
    assert r.ok, r
    assert r.transcript == [("info", "Your passkey is on another computer (host-a)."), PASSWORD, offer_create(),
                            choose_pin(), CONFIRM_PIN, ("info", "Passkey created. You now have passkeys on 2 computers.")], r
    assert sorted(c["hostName"] for c in directory_record(directory, alice)["credentials"]) == ["host-a", "host-b"]

    r = b.login(alice, [PIN_B])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-b")], r
    r = a.login(alice, [PIN_A])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r

    # Sign counts and last uses reached the directory, each from its own host; the offers too.
    record = directory_record(directory, alice)
    for c in record["credentials"]:
        assert c["signCount"] >= 1 and c["lastUsed"]["host"] == c["hostName"], c
    assert [o["answer"] for o in record["offers"]["recent"]] == ["accepted", "accepted"], record["offers"]
    assert queue(a) == [] and queue(b) == []
    # Nothing went through a files registry; each host has its cache, with the sync time.
    assert list(fleet.registry.iterdir()) == []
    assert (a.cache / f"{alice.name}.json").exists() and (b.cache / f"{alice.name}.synced").exists()
    lines = syslog.read()
    assert any("decision=step_aside reason=credentials_elsewhere" in l for l in lines), lines
    assert not any(PIN_A in l or PIN_B in l or alice.password in l or a.account_password in l for l in lines)
