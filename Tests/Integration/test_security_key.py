"""The software security key (securitykey/) as libfido2 sees it: Debian's fido2-tools, which
are libfido2's own programs, talk to it by its device path and get what a person with a real
key would see. python-fido2 checks its attestations and signatures on its own."""
import os
import re
import threading
import time

import pytest

import fido2.features

fido2.features.webauthn_json_mapping.enabled = False  # python-fido2 1.1 behaviour, without its warning

from securitykey import Status, Touch, virtual_key
from securitykey import fido2tools as tools
from securitykey.fido2tools import Assertion, MadeCredential

RP = "login.example.test"
PIN = "482913"

# Authenticator data flags (WebAuthn §6.1).
UP, UV, ED = 0x01, 0x04, 0x80


@pytest.fixture
def key():
    with virtual_key() as k:
        yield k


@pytest.fixture
def key_with_pin():
    with virtual_key(pin=PIN) as k:
        yield k


def make(key, user="alice", pins=(), flags=()):
    r = tools.make_credential(key.path, RP, user, pins=pins, flags=flags)
    assert r.ok, r
    return MadeCredential.parse(r.output), r


def public_key(made: MadeCredential, flags=()) -> str:
    v = tools.verify_credential(made, flags)
    assert v.ok, v
    assert v.lines[0] == tools.b64(made.credential_id), v
    return "\n".join(v.lines[1:]) + "\n"


def assertion(key, made, pins=(), flags=("-p",), client_data="login"):
    r = tools.get_assertion(key.path, RP, made.credential_id, pins=pins, flags=flags, client_data=client_data)
    assert r.ok, r
    return Assertion.parse(r.output), r


def retries(key) -> int:
    info = tools.token_info(key.path)
    assert info.ok, info
    return int(re.search(r"^pin retries: (\d+)$", info.output, re.M).group(1))


def test_fido2_token_shows_what_the_key_offers(key):
    info = tools.token_info(key.path)
    assert info.ok, info
    out = info.output
    assert "version strings: FIDO_2_0, FIDO_2_1" in out, out
    assert "extension strings: credProtect" in out, out
    assert f"aaguid: {key.aaguid.hex()}" in out, out
    assert re.search(r"^options: rk, up, noplat, noclientPin, pinUvAuthToken$", out, re.M), out
    assert "pin protocols: 2, 1" in out, out
    assert "pin retries: 8" in out, out
    assert "algorithms: es256 (public-key)" in out, out
    assert "caps: 0x0d (wink, cbor, nomsg)" in out, out


def test_an_unplugged_key_is_gone_from_its_link(tmp_path):
    link = tmp_path / "securitykey"
    with virtual_key(link=link) as key:
        assert tools.token_info(str(link)).ok  # libfido2 follows the link to the pty
        key.unplug()
        assert not os.path.lexists(link)
        info = tools.token_info(str(link))
        assert not info.ok and f"fido_dev_open {link}: FIDO_ERR_INTERNAL" in info.transcript, info


def test_a_key_pulled_out_while_it_waits_for_a_touch_fails_the_assertion(key):
    made, _ = make(key)
    key.touch, key.touch_timeout = Touch.NEVER, 30
    result = {}
    waiting = threading.Thread(target=lambda: result.update(
        run=tools.get_assertion(key.path, RP, made.credential_id, flags=["-p"])))
    waiting.start()
    deadline = time.monotonic() + 5
    while ("out", "KEEPALIVE") not in key.frames and time.monotonic() < deadline:
        time.sleep(0.02)
    key.unplug()
    waiting.join(10)
    r = result["run"]
    assert not r.ok and "fido_dev_get_assert: FIDO_ERR_RX" in r.transcript, r
    assert key.credentials[0].sign_count == 0


def test_fido2_token_sets_the_pin_with_protocol_2(key):
    r = tools.set_pin(key.path, PIN)
    assert r.ok and r.prompts == 2, r
    assert key.pin.is_set and key.pin.last_protocol == 2
    info = tools.token_info(key.path)
    assert re.search(r"^options: rk, up, noplat, clientPin, pinUvAuthToken$", info.output, re.M), info
    # A PIN is set once; after that it can only be changed, knowing the old one.
    again = tools.set_pin(key.path, "111111")
    assert not again.ok and "FIDO_ERR_PIN_AUTH_INVALID" in again.transcript, again
    wrong_old = tools.change_pin(key.path, "000000", "111111")
    assert not wrong_old.ok and "FIDO_ERR_PIN_INVALID" in wrong_old.transcript, wrong_old
    changed = tools.change_pin(key.path, PIN, "111111")
    assert changed.ok and changed.prompts == 3, changed
    make(key, pins=["111111"])
    old_pin = tools.make_credential(key.path, RP, "bob", pins=[PIN])
    assert not old_pin.ok and "FIDO_ERR_PIN_INVALID" in old_pin.transcript, old_pin


def test_a_pin_shorter_than_the_keys_minimum_is_refused():
    with virtual_key(min_pin_length=6) as key:
        assert "minpinlen: 6" in tools.token_info(key.path).output
        r = tools.set_pin(key.path, "12345")  # libfido2 itself refuses fewer than 4
        assert not r.ok and "FIDO_ERR_PIN_POLICY_VIOLATION" in r.transcript, r
        assert not key.pin.is_set
        assert tools.set_pin(key.path, "123456").ok and key.pin.is_set


def test_a_credential_made_without_a_pin_verifies_and_has_the_keys_public_key(key):
    made, r = make(key)
    assert r.prompts == 0, r
    assert made.fmt == "packed"
    assert key.touches_asked == ["makeCredential"]
    [c] = key.credentials
    assert c.id == made.credential_id and c.rp_id == RP and not c.resident
    assert public_key(made) == c.public_key_pem
    flags = made.auth_data[32]
    assert flags & UP and not flags & UV
    # -v asks fido2-cred -V to insist on the UV flag, which a PIN-less credential lacks.
    assert not tools.verify_credential(made, ["-v"]).ok
    # A signature changed by one bit does not verify.
    forged = MadeCredential(**{**made.__dict__, "signature": made.signature[:-1] + bytes([made.signature[-1] ^ 1])})
    assert not tools.verify_credential(forged).ok


@pytest.mark.parametrize("options, protocol, subcommand", [
    ({}, 2, "GET_PIN_UV_AUTH_TOKEN_USING_PIN_WITH_PERMISSIONS"),
    ({"pin_protocols": (1,)}, 1, "GET_PIN_UV_AUTH_TOKEN_USING_PIN_WITH_PERMISSIONS"),
    ({"pin_protocols": (1, 2)}, 2, "GET_PIN_UV_AUTH_TOKEN_USING_PIN_WITH_PERMISSIONS"),
    ({"ctap21": False, "pin_protocols": (1,)}, 1, "GET_PIN_TOKEN"),
])
def test_a_credential_made_with_the_pin_is_user_verified(options, protocol, subcommand):
    """libfido2 takes protocol 2 whenever the key lists it, in any order, else 1; it asks a
    CTAP 2.1 key (option pinUvAuthToken) for a token with permissions, a CTAP 2.0 key for
    getPinToken."""
    with virtual_key(pin=PIN, **options) as key:
        made, r = make(key, pins=[PIN])
        assert r.prompts == 1, r  # the first attempt, without a PIN, was told one is needed
        statuses = [(e.command, e.status) for e in key.exchanges if e.command == "MAKE_CREDENTIAL"]
        assert statuses == [("MAKE_CREDENTIAL", Status.PUAT_REQUIRED), ("MAKE_CREDENTIAL", Status.OK)]
        [token] = [e for e in key.exchanges if e.command.startswith("CLIENT_PIN/GET_PIN")]
        assert token.command == f"CLIENT_PIN/{subcommand}" and token.pin_protocol == protocol
        assert key.exchanges[-1].pin_protocol == protocol
        assert made.auth_data[32] & UV
        assert public_key(made, ["-v"]) == key.credentials[0].public_key_pem

        got, r = assertion(key, made, pins=[PIN], flags=["-p", "-v"])
        assert got.flags & UP and got.flags & UV
        assert tools.verify_assertion(got, key.credentials[0].public_key_pem, ["-p", "-v"]).ok


def test_without_the_pin_a_key_that_has_one_makes_no_credential(key_with_pin):
    r = tools.make_credential(key_with_pin.path, RP, "alice", flags=["-q"])
    assert not r.ok and "FIDO_ERR_PIN_REQUIRED" in r.transcript, r
    assert key_with_pin.credentials == []


def test_an_assertion_verifies_against_the_credentials_key_and_its_counter_grows(key):
    made, _ = make(key)
    pem = public_key(made)
    first, r = assertion(key, made)
    assert r.prompts == 0, r
    second, _ = assertion(key, made, client_data="login again")
    assert first.flags & UP and not first.flags & UV
    assert (first.sign_count, second.sign_count) == (1, 2)
    assert key.credentials[0].sign_count == 2
    assert tools.verify_assertion(first, pem, ["-p"]).ok
    assert tools.verify_assertion(second, pem, ["-p"]).ok
    # The signature covers the challenge: the same assertion over another one fails,
    # and another credential's key does not verify it.
    swapped = Assertion(second.client_data_hash, first.rp_id, first.auth_data_cbor, first.signature)
    assert not tools.verify_assertion(swapped, pem).ok
    other, _ = make(key, user="bob")
    assert not tools.verify_assertion(first, public_key(other)).ok
    # -v insists on UV, which an assertion without the PIN lacks.
    assert not tools.verify_assertion(first, pem, ["-v"]).ok


def test_an_assertion_for_a_credential_the_key_does_not_hold_finds_nothing(key):
    made, _ = make(key)
    r = tools.get_assertion(key.path, "elsewhere.example.test", made.credential_id, flags=["-p"])
    assert not r.ok and "FIDO_ERR_NO_CREDENTIALS" in r.transcript, r
    r = tools.get_assertion(key.path, RP, os.urandom(32), flags=["-p"])
    assert not r.ok and "FIDO_ERR_NO_CREDENTIALS" in r.transcript, r
    assert key.touches_asked == ["makeCredential"]


def test_a_silent_probe_finds_a_level_2_credential_without_a_touch_and_not_a_level_3_one(key_with_pin):
    key = key_with_pin
    level2, _ = make(key, "alice", pins=[PIN], flags=["-c", "2"])
    level3, _ = make(key, "bob", pins=[PIN], flags=["-c", "3"])
    assert [c.cred_protect for c in key.credentials] == [2, 3]
    # The protection level is signed in the authenticator data's extensions.
    assert level2.auth_data[32] & ED
    public_key(level2, ["-c", "2"])
    assert not tools.verify_credential(level2, ["-c", "3"]).ok
    touches = len(key.touches_asked)

    # `-t up=false`: no touch asked, no PIN; without -p nor -t, libfido2 leaves "up" out and
    # the key takes the default, true.
    probe, r = assertion(key, level2, flags=["-t", "up=false"])
    assert r.prompts == 0 and len(key.touches_asked) == touches, r
    assert probe.flags & (UP | UV) == 0
    pem = key.credential(level2.credential_id).public_key_pem
    assert tools.verify_assertion(probe, pem).ok
    assert not tools.verify_assertion(probe, pem, ["-p"]).ok  # -p insists on UP

    default, _ = assertion(key, level2, flags=[])
    assert default.flags & UP and key.touches_asked[touches:] == ["getAssertion"]
    touches += 1

    hidden = tools.get_assertion(key.path, RP, level3.credential_id, flags=["-t", "up=false"])
    assert not hidden.ok and "FIDO_ERR_NO_CREDENTIALS" in hidden.transcript, hidden
    assert len(key.touches_asked) == touches
    # With the PIN the level-3 credential is there: it was hidden, not missing.
    found, _ = assertion(key, level3, pins=[PIN], flags=["-p", "-v"])
    assert found.flags & UV


def test_a_silent_probe_also_advances_the_counter(key):
    made, _ = make(key)
    assertion(key, made)
    probe, _ = assertion(key, made, flags=["-t", "up=false"])
    after, _ = assertion(key, made)
    assert (probe.sign_count, after.sign_count) == (2, 3)


def test_wrong_pins_spend_retries_then_need_a_power_cycle_then_block_the_pin(key_with_pin):
    key = key_with_pin
    made, _ = make(key, pins=[PIN])
    assert retries(key) == 8

    def login(pin):
        return tools.get_assertion(key.path, RP, made.credential_id, pins=[pin], flags=["-p", "-v"])

    wrong = login("000000")
    assert not wrong.ok and "FIDO_ERR_PIN_INVALID" in wrong.transcript, wrong
    assert retries(key) == 7 and key.pin.retries == 7
    assert login(PIN).ok and retries(key) == 8  # the right PIN restores them

    assert "FIDO_ERR_PIN_INVALID" in login("000000").transcript
    assert "FIDO_ERR_PIN_INVALID" in login("000000").transcript
    third = login("000000")
    assert "FIDO_ERR_PIN_AUTH_BLOCKED" in third.transcript, third
    assert retries(key) == 5
    # Until the key is unplugged, not even the right PIN is tried (no retry spent).
    blocked = login(PIN)
    assert not blocked.ok and "FIDO_ERR_PIN_AUTH_BLOCKED" in blocked.transcript, blocked
    assert retries(key) == 5
    key.power_cycle()
    assert login(PIN).ok and retries(key) == 8

    for attempt in range(1, 9):
        r = login("000000")
        expected = "FIDO_ERR_PIN_BLOCKED" if attempt == 8 else (
            "FIDO_ERR_PIN_AUTH_BLOCKED" if attempt % 3 == 0 else "FIDO_ERR_PIN_INVALID")
        assert expected in r.transcript, (attempt, r)
        if attempt % 3 == 0:
            key.power_cycle()
    assert retries(key) == 0
    final = login(PIN)
    assert not final.ok and "FIDO_ERR_PIN_BLOCKED" in final.transcript, final
    key.power_cycle()
    assert "FIDO_ERR_PIN_BLOCKED" in login(PIN).transcript  # for good


@pytest.mark.parametrize("touch, error", [(Touch.REFUSED, "FIDO_ERR_OPERATION_DENIED"),
                                          (Touch.NEVER, "FIDO_ERR_USER_ACTION_TIMEOUT")])
def test_a_refused_or_missing_touch_fails_the_assertion(key, touch, error):
    made, _ = make(key)
    key.touch, key.touch_timeout = touch, 0.3
    r = tools.get_assertion(key.path, RP, made.credential_id, flags=["-p"])
    assert not r.ok and error in r.transcript, r
    assert key.credentials[0].sign_count == 0
    # A silent probe needs no touch, so it still answers.
    assertion(key, made, flags=["-t", "up=false"])


def test_libfido2_waits_through_keepalives_for_a_slow_touch(key):
    made, _ = make(key)
    key.touch_delay = 0.5
    started = time.monotonic()
    got, _ = assertion(key, made)
    assert time.monotonic() - started >= 0.5
    assert got.flags & UP
    assert key.frames.count(("out", "KEEPALIVE")) >= 2  # one every 100 ms, fewer on a busy machine


def test_the_touch_can_be_decided_per_operation(key):
    key.touch = lambda operation, rp_id: Touch.GIVEN if operation == "makeCredential" else Touch.REFUSED
    made, _ = make(key)
    r = tools.get_assertion(key.path, RP, made.credential_id, flags=["-p"])
    assert "FIDO_ERR_OPERATION_DENIED" in r.transcript, r
    assert key.touches_asked == ["makeCredential", "getAssertion"]


def test_a_resident_credential_is_found_without_a_credential_id(key_with_pin):
    key = key_with_pin
    make(key, "alice", pins=[PIN], flags=["-r"])
    make(key, "bob", pins=[PIN], flags=["-r"])
    params = tools.b64(tools.challenge("discover")) + "\n" + RP + "\n"
    r = tools.run(["fido2-assert", "-G", "-r", "-p", "-v", key.path], stdin=params, pins=[PIN])
    assert r.ok, r
    users = r.lines[4::5]  # each assertion is 5 lines; the fifth is the user id
    expected = [tools.b64(tools.user_id(u)) for u in ("bob", "alice")]
    assert users == expected, r.output
    assert [e.command for e in key.exchanges[-2:]] == ["GET_ASSERTION", "GET_NEXT_ASSERTION"]


# -- python-fido2, independently -----------------------------------------------------------

def test_python_fido2_verifies_what_fido2_cred_and_fido2_assert_got(key_with_pin):
    from fido2.attestation import AttestationType, PackedAttestation
    from fido2.webauthn import AuthenticatorData

    key = key_with_pin
    made, _ = make(key, pins=[PIN], flags=["-c", "2"])
    auth_data = AuthenticatorData(made.auth_data)
    statement = {"alg": -7, "sig": made.signature}
    result = PackedAttestation().verify(statement, auth_data, made.client_data_hash)
    assert result.attestation_type == AttestationType.SELF
    assert auth_data.credential_data.credential_id == made.credential_id
    assert auth_data.extensions == {"credProtect": 2}
    credential_key = auth_data.credential_data.public_key

    got, _ = assertion(key, made, pins=[PIN], flags=["-p", "-v"])
    signed = AuthenticatorData(got.auth_data)
    assert signed.is_user_present() and signed.is_user_verified() and signed.counter == 1
    credential_key.verify(got.auth_data + got.client_data_hash, got.signature)
    with pytest.raises(Exception):
        credential_key.verify(got.auth_data + tools.challenge("other"), got.signature)


class _PtyConnection:
    """python-fido2's CTAPHID over the key's path, as its Linux backend does for hidraw but
    without the report-descriptor ioctls (and without taking the pty as controlling tty)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)

    def write_packet(self, packet):
        os.write(self.fd, b"\0" + packet)

    def read_packet(self):
        return os.read(self.fd, 64)

    def close(self):
        os.close(self.fd)


def _python_fido2_device(path):
    from fido2.hid import CtapHidDevice
    from fido2.hid.base import HidDescriptor
    return CtapHidDevice(HidDescriptor(path, 0, 0, 64, 64, "virtual key", None), _PtyConnection(path))


@pytest.mark.parametrize("protocol", [1, 2])
def test_python_fido2_registers_and_signs_in_with_the_pin_over_either_protocol(protocol):
    from fido2.client import UserInteraction

    class Person(UserInteraction):
        def request_pin(self, permissions, rp_id):
            return PIN

    with virtual_key(pin=PIN, pin_protocols=(protocol,)) as key:
        _register_and_sign_in(key, protocol, Person())


def _register_and_sign_in(key, protocol, person):
    from fido2.attestation import AttestationType, PackedAttestation
    from fido2.client import Fido2Client
    from fido2.server import Fido2Server
    from fido2.webauthn import PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity

    attestations = []

    def check_attestation(attestation_object, client_data_hash):
        assert attestation_object.fmt == "packed"
        result = PackedAttestation().verify(attestation_object.att_stmt, attestation_object.auth_data,
                                            client_data_hash)
        attestations.append(result.attestation_type)

    device = _python_fido2_device(key.path)
    client = Fido2Client(device, f"https://{RP}", user_interaction=person)
    server = Fido2Server(PublicKeyCredentialRpEntity(id=RP, name="Login"), attestation="direct",
                         verify_attestation=check_attestation)
    options, state = server.register_begin(PublicKeyCredentialUserEntity(id=b"alice-id", name="alice"),
                                           user_verification="required")
    made = client.make_credential(options["publicKey"])
    registered = server.register_complete(state, made.client_data, made.attestation_object)
    assert attestations == [AttestationType.SELF]
    assert registered.is_user_verified()
    credential = registered.credential_data
    assert credential.credential_id == key.credentials[0].id
    pin_exchanges = [e for e in key.exchanges if e.command.startswith("CLIENT_PIN/GET_PIN")]
    assert pin_exchanges and {e.pin_protocol for e in pin_exchanges} == {protocol}

    request, state = server.authenticate_begin([credential], user_verification="required")
    selection = client.get_assertion(request["publicKey"])
    response = selection.get_response(0)
    server.authenticate_complete(state, [credential], response.credential_id,
                                 response.client_data, response.authenticator_data, response.signature)
    assert response.authenticator_data.is_user_verified()
    assert response.authenticator_data.counter == key.credentials[0].sign_count == 1
    device.close()


def test_ctaphid_cancel_ends_the_wait_for_a_touch(key):
    from fido2.ctap import CtapError
    from fido2.ctap2 import Ctap2

    made, _ = make(key)
    key.touch, key.touch_timeout = Touch.NEVER, 10
    device = _python_fido2_device(key.path)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(CtapError) as refused:
        Ctap2(device).get_assertion(RP, tools.challenge("x"), [{"type": "public-key", "id": made.credential_id}],
                                    event=cancel)
    assert refused.value.code == CtapError.ERR.KEEPALIVE_CANCEL
    assert time.monotonic() - started < 5
    assert ("in", "CANCEL") in key.frames
    device.close()


def test_ctaphid_answers_ping_and_refuses_ctap1_messages(key):
    from fido2.hid import CTAPHID
    from fido2.ctap import CtapError

    device = _python_fido2_device(key.path)
    payload = os.urandom(200)  # longer than one report: continuation packets both ways
    assert device.call(CTAPHID.PING, payload) == payload
    with pytest.raises(CtapError) as refused:
        device.call(CTAPHID.MSG, b"\x00\x03\x00\x00\x00")
    assert refused.value.code == CtapError.ERR.INVALID_COMMAND
    device.close()


def test_a_pin_token_is_good_for_its_permission_and_relying_party_only(key_with_pin):
    """What libfido2 never tries (it asks for a fresh token for each operation, for its RP)
    but a careless helper could: python-fido2's raw CTAP2 calls."""
    from fido2.ctap import CtapError
    from fido2.ctap2 import ClientPin, Ctap2

    key = key_with_pin
    made, _ = make(key, pins=[PIN])
    device = _python_fido2_device(key.path)
    ctap = Ctap2(device)
    client_pin = ClientPin(ctap)
    cdh = tools.challenge("scoped")
    allow = [{"type": "public-key", "id": made.credential_id}]

    def sign_in(token, rp_id=RP):
        return ctap.get_assertion(rp_id, cdh, allow, pin_uv_param=client_pin.protocol.authenticate(token, cdh),
                                  pin_uv_protocol=client_pin.protocol.VERSION)

    token = client_pin.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP)
    assert sign_in(token).auth_data.is_user_verified()
    with pytest.raises(CtapError) as other_rp:
        sign_in(token, "elsewhere.example.test")
    assert other_rp.value.code == CtapError.ERR.PIN_AUTH_INVALID
    with pytest.raises(CtapError) as wrong_permission:
        ctap.make_credential(cdh, {"id": RP}, {"id": b"bob", "name": "bob"}, [{"type": "public-key", "alg": -7}],
                             pin_uv_param=client_pin.protocol.authenticate(token, cdh),
                             pin_uv_protocol=client_pin.protocol.VERSION)
    assert wrong_permission.value.code == CtapError.ERR.PIN_AUTH_INVALID
    # A new token replaces the old one.
    client_pin.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP)
    with pytest.raises(CtapError) as stale:
        sign_in(token)
    assert stale.value.code == CtapError.ERR.PIN_AUTH_INVALID
    device.close()


# -- libfido2 itself, as the helper will call it --------------------------------------------

class _Libfido2:
    """The few libfido2 calls a timeout needs, through ctypes (FIDO_OK is 0)."""

    def __init__(self):
        import ctypes
        self.c = ctypes
        self.lib = lib = ctypes.CDLL("libfido2.so.1")
        for name in ("fido_dev_new", "fido_assert_new"):
            getattr(lib, name).restype = ctypes.c_void_p
        lib.fido_strerr.restype = ctypes.c_char_p
        lib.fido_init(0)

    def open(self, path: str, timeout_ms: int = -1):
        dev = self.c.c_void_p(self.lib.fido_dev_new())
        assert self.lib.fido_dev_open(dev, path.encode()) == 0
        assert self.lib.fido_dev_set_timeout(dev, timeout_ms) == 0
        return dev

    def get_assert(self, dev, rp_id: str, credential_id: bytes) -> str:
        a = self.c.c_void_p(self.lib.fido_assert_new())
        cdh = tools.challenge("timeout")
        self.lib.fido_assert_set_clientdata_hash(a, cdh, self.c.c_size_t(len(cdh)))
        self.lib.fido_assert_set_rp(a, rp_id.encode())
        self.lib.fido_assert_allow_cred(a, credential_id, self.c.c_size_t(len(credential_id)))
        r = self.lib.fido_dev_get_assert(dev, a, None)
        self.lib.fido_assert_free(self.c.byref(a))
        return self.lib.fido_strerr(r).decode()

    def close(self, dev):
        self.lib.fido_dev_close(dev)
        self.lib.fido_dev_free(self.c.byref(dev))


def test_libfido2s_own_timeout_leaves_the_key_waiting_until_it_is_cancelled(key):
    """fido_dev_set_timeout ends libfido2's wait with FIDO_ERR_RX but tells the key nothing:
    it still blinks, and answers the next request on that channel with CHANNEL_BUSY (also
    FIDO_ERR_RX). fido_dev_cancel ends its wait (the reply, KEEPALIVE_CANCEL, is left for
    whoever reads that channel next); a device opened afresh gets a new channel and works."""
    made, _ = make(key)
    key.touch, key.touch_timeout = Touch.NEVER, 30
    fido = _Libfido2()
    dev = fido.open(key.path, timeout_ms=400)
    started = time.monotonic()
    assert fido.get_assert(dev, RP, made.credential_id) == "FIDO_ERR_RX"
    assert 0.4 <= time.monotonic() - started < 5
    assert ("in", "CANCEL") not in key.frames and key.exchanges[-1].command == "GET_INFO"  # still waiting
    seen = len(key.frames)
    assert fido.get_assert(dev, RP, made.credential_id) == "FIDO_ERR_RX"
    assert ("out", "ERROR") in key.frames[seen:]  # CTAPHID_ERROR CHANNEL_BUSY

    assert fido.lib.fido_dev_cancel(dev) == 0
    deadline = time.monotonic() + 5
    while key.exchanges[-1].command != "GET_ASSERTION" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert key.exchanges[-1].status == Status.KEEPALIVE_CANCEL
    fido.close(dev)

    key.touch = Touch.GIVEN
    dev = fido.open(key.path)
    assert fido.get_assert(dev, RP, made.credential_id) == "FIDO_ERR_SUCCESS"
    fido.close(dev)
