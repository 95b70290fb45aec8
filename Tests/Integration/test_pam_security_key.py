"""FIDO2 security keys through real libpam (pam_start_confdir in this process), the real
helper and unmodified libfido2, with the software key of securitykey/ plugged in behind a
pty. Two simulated hosts share one registry: a key enrolled on host A signs in on host B
with no offer, because the passkey travels with the key. Every prompt and line the user
sees is asserted, and what the registry holds."""
import base64
import hashlib
import json
import os
import subprocess

import pytest

from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.attestation import AttestationType, PackedAttestation
from fido2.cose import ES256
from fido2.webauthn import AttestationObject, CollectedClientData

from fleet import PASSWORD
from securitykey import Touch, virtual_key
from securitykey import fido2tools as tools

KEY_PIN = "271828"
RP = "pam_passkey.test"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_pin_prompt(user):
    return ("secret", f"Security key PIN for {user.name}: ")


TOUCH = ("info", "Touch your security key.")
NOT_PLUGGED_IN = ("info", "Your passkey is on a security key that is not plugged in.")


def ctl(host, *args, input=None):
    argv = [str(host.build_dir / "passkeyctl"), args[0], "--conf", str(host.conf), *args[1:]]
    return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120)


@pytest.fixture
def link(tmp_path):
    return tmp_path / "securitykey"


@pytest.fixture
def hosts(fleet, link):
    """Two hosts that look for a security key at `link` (as a udev rule's /dev/yubikey)."""
    return (fleet.host("host-a", security_keys=str(link), security_key_timeout="5s"),
            fleet.host("host-b", security_keys=str(link), security_key_timeout="5s"))


def enrol_key(host, user):
    r = ctl(host, "enroll", user.name, "--security-key", "--pin-stdin", "--json", input=f"{KEY_PIN}\n")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["credential"]


def test_a_key_enrolled_on_host_a_signs_in_on_a_and_on_b_with_no_offer(hosts, fleet, link, make_account, syslog):
    alice = make_account("alice")
    a, b = hosts
    with virtual_key(pin=KEY_PIN, link=link) as key:
        made = enrol_key(a, alice)
        assert len(key.credentials) == 1 and key.credentials[0].id == b64d(made["id"])
        [c] = fleet.credentials(alice)
        assert (c["kind"], c["hostName"], c["transports"]) == ("roaming", "host-a", ["usb"]), c

        for host in (a, b):
            before = key.credentials[0].sign_count
            r = host.login(alice, [KEY_PIN])
            assert r.ok, r
            assert r.transcript == [key_pin_prompt(alice), TOUCH], r
            [c] = fleet.credentials(alice)
            assert c["lastUsed"]["host"] == host.name and c["signCount"] == key.credentials[0].sign_count > before, c

    # No offer was made on B, and no second credential exists.
    assert len(fleet.credentials(alice)) == 1
    lines = syslog.read()
    assert any("decision=success reason=passkey_verified" in l for l in lines), lines
    assert not any(KEY_PIN in l for l in lines), lines


def test_unplugged_key_is_one_line_then_the_password(hosts, link, make_account):
    alice = make_account("alice")
    a, b = hosts
    with virtual_key(pin=KEY_PIN, link=link):
        enrol_key(a, alice)
    r = b.login(alice, [alice.password, "n"])
    assert r.ok, r
    assert r.transcript[:2] == [NOT_PLUGGED_IN, PASSWORD], r


@pytest.mark.parametrize("touch", [Touch.REFUSED, Touch.NEVER])
def test_touch_refused_or_not_given_falls_back_to_the_password(hosts, link, make_account, touch):
    alice = make_account("alice")
    a, _ = hosts
    with virtual_key(pin=KEY_PIN, link=link, touch_timeout=1.0) as key:
        enrol_key(a, alice)
        key.touch = touch
        r = a.login(alice, [KEY_PIN, alice.password])
        assert r.ok, r
        assert r.transcript == [key_pin_prompt(alice), TOUCH, ("error", "The security key was not touched. Use your password."),
                                PASSWORD], r


def test_wrong_key_pin_is_refused_and_the_keys_retries_are_reported(hosts, link, make_account, syslog):
    alice = make_account("alice")
    a, _ = hosts
    with virtual_key(pin=KEY_PIN, link=link) as key:
        enrol_key(a, alice)
        retries = key.pin.retries
        r = a.login(alice, ["000000", KEY_PIN])
        assert r.ok, r
        assert r.transcript == [key_pin_prompt(alice), TOUCH,
                                ("error", f"Wrong PIN. The security key allows {retries - 1} more attempts before it blocks its PIN."),
                                key_pin_prompt(alice), TOUCH], r
        assert key.pin.retries == retries, "a right PIN gives the key its retries back"
    assert any("reason=wrong_pin" in l for l in syslog.read())


def test_a_registry_public_key_that_does_not_match_is_refused(hosts, fleet, link, make_account, syslog):
    alice = make_account("alice")
    a, _ = hosts
    with virtual_key(pin=KEY_PIN, link=link):
        enrol_key(a, alice)
        # Another key's public key in the registry: the key's signature cannot verify with it.
        path = fleet.registry / f"{alice.name}.json"
        record = json.loads(path.read_text())
        other = ES256.from_cryptography_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        record["credentials"][0]["publicKey"] = base64.urlsafe_b64encode(cbor.encode(other)).rstrip(b"=").decode()
        path.write_text(json.dumps(record))
        r = a.login(alice, [KEY_PIN, alice.password])
        assert r.ok, r
        assert r.transcript == [key_pin_prompt(alice), TOUCH,
                                ("error", "Signing in with your passkey did not work this time. Use your password."), PASSWORD], r
    assert any("reason=assertion_rejected" in l for l in syslog.read())


def test_the_enrolment_attestation_verifies_with_python_fido2(hosts, link, make_account):
    alice = make_account("alice")
    a, _ = hosts
    with virtual_key(pin=KEY_PIN, link=link):
        made = enrol_key(a, alice)
    attestation = AttestationObject(b64d(made["attestation_object"]))
    client_data = CollectedClientData(b64d(made["client_data_json"]))
    assert attestation.fmt == "packed"
    result = PackedAttestation().verify(attestation.att_stmt, attestation.auth_data, client_data.hash)
    assert result.attestation_type == AttestationType.SELF
    assert attestation.auth_data.credential_data.credential_id == b64d(made["id"])
    assert attestation.auth_data.is_user_verified() and attestation.auth_data.is_user_present()


def test_the_module_does_not_load_libfido2(build_dir):
    needed = subprocess.run(["readelf", "-d", str(build_dir / "pam_passkey.so")], capture_output=True, text=True).stdout
    assert "NEEDED" in needed and "fido2" not in needed, needed
    strings = subprocess.run(["strings", str(build_dir / "pam_passkey.so")], capture_output=True, text=True).stdout
    assert "libfido2.so" not in strings


def test_the_enrolment_attestation_verifies_with_fido2_cred(hosts, link, make_account):
    """libfido2's own verifier (fido2-cred -V, with -v: user verification required) accepts
    the registration passkeyctl stored, given the hash of the stored clientDataJSON."""
    alice = make_account("alice")
    a, _ = hosts
    with virtual_key(pin=KEY_PIN, link=link):
        made = enrol_key(a, alice)
    attestation = AttestationObject(b64d(made["attestation_object"]))
    stored = tools.MadeCredential(
        client_data_hash=hashlib.sha256(b64d(made["client_data_json"])).digest(), rp_id=RP, fmt=attestation.fmt,
        auth_data_cbor=cbor.encode(bytes(attestation.auth_data)), credential_id=b64d(made["id"]),
        signature=attestation.att_stmt["sig"])
    v = tools.verify_credential(stored, ["-v"])
    assert v.ok, v
    assert v.lines[0] == tools.b64(b64d(made["id"])), v
    # A clientDataJSON other than the one the key signed does not verify.
    stored.client_data_hash = hashlib.sha256(b"{}").digest()
    assert not tools.verify_credential(stored, ["-v"]).ok


def test_explain_says_whether_the_key_is_plugged_in(hosts, link, make_account):
    alice = make_account("alice")
    a, b = hosts
    with virtual_key(pin=KEY_PIN, link=link):
        made = enrol_key(a, alice)
        r = ctl(b, "explain", alice.name, "--json")
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        assert j["login"]["decision"] == "passkey" and j["login"]["credentials"] == [made["id"]], j["login"]
        assert j["security_keys"] == {"state": "probed", "present": 1, "held": [{"id": made["id"], "locked": False}]}, j
        assert [c["status"] for c in j["credentials"]] == ["usable"], j["credentials"]
        text = ctl(b, "explain", alice.name).stdout
        assert "security keys: 1 plugged in, holding 1 of the user's credentials" in text, text
    j = json.loads(ctl(b, "explain", alice.name, "--json").stdout)
    assert (j["login"]["decision"], j["login"]["reason"]) == ("step_aside", "credentials_elsewhere"), j["login"]
    assert j["login"]["message"] == "Your passkey is on a security key that is not plugged in."
    assert j["security_keys"] == {"state": "probed", "present": 0, "held": []}, j
    assert [c["status"] for c in j["credentials"]] == ["security_key"], j["credentials"]


def test_a_credential_made_by_fido2_cred_is_imported_and_signs_in(hosts, fleet, link, make_account, tmp_path):
    """Not our code on the key's side: libfido2's fido2-cred -M makes the credential (PIN,
    user verification, touch); passkeyctl import verifies and registers it; the module signs
    in with it on another host."""
    alice = make_account("alice")
    a, b = hosts
    client_data = json.dumps({"type": "webauthn.create",
                              "challenge": base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode(),
                              "origin": f"pam://{RP}"}, separators=(",", ":"))
    with virtual_key(pin=KEY_PIN, link=link) as key:
        r = tools.make_credential(key.path, RP, alice.name, pins=[KEY_PIN], flags=["-v"], client_data=client_data)
        assert r.ok, r
        (tmp_path / "cred").write_text(r.output)
        (tmp_path / "client-data.json").write_text(client_data)
        r = ctl(a, "import", alice.name, "--fido2-cred", str(tmp_path / "cred"), "--client-data", str(tmp_path / "client-data.json"),
                "--json")
        assert r.returncode == 0, r.stderr
        made = json.loads(r.stdout)["credential"]
        assert b64d(made["id"]) == key.credentials[0].id
        [c] = fleet.credentials(alice)
        assert (c["kind"], c["transports"]) == ("roaming", ["usb"]), c

        # The same file again, and a clientDataJSON that is not the one signed, are refused.
        again = ctl(a, "import", alice.name, "--fido2-cred", str(tmp_path / "cred"), "--client-data", str(tmp_path / "client-data.json"))
        assert again.returncode == 1 and "registered already" in again.stderr, again.stderr
        (tmp_path / "other.json").write_text(client_data.replace("webauthn.create", "webauthn.get"))
        other = ctl(a, "import", alice.name, "--fido2-cred", str(tmp_path / "cred"), "--client-data", str(tmp_path / "other.json"))
        assert other.returncode == 1 and "another client data hash" in other.stderr, other.stderr

        r = b.login(alice, [KEY_PIN])
        assert r.ok, r
        assert r.transcript == [key_pin_prompt(alice), TOUCH], r


@pytest.mark.parametrize("options,protocol", [({"pin_protocols": (2, 1)}, 2), ({"pin_protocols": (1,)}, 1),
                                              ({"pin_protocols": (1,), "ctap21": False}, 1)])
def test_pin_protocol_two_and_the_fallback_to_one(hosts, link, make_account, options, protocol):
    alice = make_account("alice")
    a, _ = hosts
    with virtual_key(pin=KEY_PIN, link=link, **options) as key:
        enrol_key(a, alice)
        r = a.login(alice, [KEY_PIN])
        assert r.ok and r.transcript == [key_pin_prompt(alice), TOUCH], r
        assert key.pin.last_protocol == protocol


def test_the_offer_makes_the_passkey_on_the_key_plugged_in_when_the_policy_says_so(fleet, link, make_account):
    """append_on = security_key: after the password, with a key plugged in, the offer is for
    the key (its PIN, a touch); then that key signs in on another host with no offer."""
    alice = make_account("alice")
    a = fleet.host("host-a", security_keys=str(link), security_key_timeout="5s", append_on="security_key")
    b = fleet.host("host-b", security_keys=str(link), security_key_timeout="5s")
    with virtual_key(pin=KEY_PIN, link=link) as key:
        r = a.login(alice, [alice.password, "y", KEY_PIN])
        assert r.ok, r
        assert r.transcript == [PASSWORD,
                                ("prompt", "Create a passkey on your security key? Next time you can sign in with it on any computer. [Y/n/never] "),
                                key_pin_prompt(alice), TOUCH,
                                ("info", "Passkey created on your security key. Next time you can sign in with it on any computer that has your passkeys' registry.")], r
        [c] = fleet.credentials(alice)
        assert c["kind"] == "roaming" and b64d(c["id"]) == key.credentials[0].id, c
        r = b.login(alice, [KEY_PIN])
        assert r.ok and r.transcript == [key_pin_prompt(alice), TOUCH], r
    # Without a key plugged in, the same policy offers a passkey for this computer.
    bob = make_account("bob")
    r = a.login(bob, [bob.password, "n"])
    assert r.ok and r.transcript[1] == ("prompt", "Create a passkey for this computer? Next time you can sign in with a PIN. [Y/n/never] "), r
