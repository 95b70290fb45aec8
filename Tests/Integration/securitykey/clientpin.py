"""authenticatorClientPIN (CTAP 2.1 §6.5): the key's PIN, its retry counters, its
key-agreement keys and the pinUvAuthToken that the other commands check.

The retry rules are the specification's: every PIN attempt costs a retry before it is
checked, a right PIN restores them all, three wrong PINs in a row need a power cycle
(PIN_AUTH_BLOCKED) and the last retry spent blocks the PIN for good (PIN_BLOCKED). A wrong
PIN also replaces the key-agreement keys, so the platform must ask for a new one.
"""
import dataclasses
import hashlib
import hmac
import os
from typing import Optional

from cryptography.hazmat.primitives.asymmetric import ec

from .ctap import CtapError, PinSubcommand, Status
from .pinprotocol import ALG_ECDH_ES_HKDF_256, PROTOCOLS, ProtocolError, cose_public_key

# pinUvAuthToken permissions (CTAP 2.1 §6.5.5.7); this key grants only these two.
PERMISSION_MAKE_CREDENTIAL = 0x01
PERMISSION_GET_ASSERTION = 0x02
SUPPORTED_PERMISSIONS = PERMISSION_MAKE_CREDENTIAL | PERMISSION_GET_ASSERTION
MISMATCHES_BEFORE_POWER_CYCLE = 3

# Request and response keys of authenticatorClientPIN.
P_PROTOCOL, P_SUBCOMMAND, P_KEY_AGREEMENT, P_AUTH_PARAM = 0x01, 0x02, 0x03, 0x04
P_NEW_PIN_ENC, P_PIN_HASH_ENC, P_PERMISSIONS, P_RP_ID = 0x05, 0x06, 0x09, 0x0A
R_KEY_AGREEMENT, R_TOKEN, R_PIN_RETRIES, R_POWER_CYCLE_STATE = 0x01, 0x02, 0x03, 0x04


@dataclasses.dataclass
class Token:
    value: bytes
    protocol: int
    permissions: int
    rp_id: Optional[str]


def pin_hash(pin: str) -> bytes:
    return hashlib.sha256(pin.encode()).digest()[:16]


class ClientPin:
    def __init__(self, protocols, pin: Optional[str], max_retries: int, min_length: int = 4):
        self.protocols = tuple(protocols)
        self.max_retries = max_retries
        self.min_length = min_length
        self.retries = max_retries
        self.stored_hash = pin_hash(pin) if pin is not None else None
        self.mismatches = 0  # consecutive wrong PINs since power-up
        self.token: Optional[Token] = None
        self.last_protocol: Optional[int] = None  # the protocol of the last PIN request
        self.power_cycle()

    @property
    def is_set(self) -> bool:
        return self.stored_hash is not None

    def power_cycle(self):
        self._agreement = {n: ec.generate_private_key(ec.SECP256R1()) for n in self.protocols}
        self.mismatches = 0
        self.token = None

    def reset(self):
        self.stored_hash = None
        self.retries = self.max_retries
        self.power_cycle()

    def verify_param(self, params: dict, auth_key: int, protocol_key: int, message: bytes,
                     permission: int, rp_id: str):
        """Checks a command's pinUvAuthParam against the current token; the token is then
        bound to rp_id as the specification asks of a token issued without one."""
        protocol = self._protocol(params.get(protocol_key))
        token = self.token
        signature = params[auth_key]
        if token is None or token.protocol != protocol.number or not protocol.verify(token.value, message, signature):
            raise CtapError(Status.PIN_AUTH_INVALID, "pinUvAuthParam does not match the token")
        if not token.permissions & permission:
            raise CtapError(Status.PIN_AUTH_INVALID, "the token lacks the permission")
        if token.rp_id is not None and token.rp_id != rp_id:
            raise CtapError(Status.PIN_AUTH_INVALID, f"the token is for {token.rp_id}, not {rp_id}")
        token.rp_id = rp_id

    def handle(self, params: dict) -> dict:
        sub = params.get(P_SUBCOMMAND)
        if not isinstance(sub, int):
            raise CtapError(Status.MISSING_PARAMETER, "no subCommand")
        if sub == PinSubcommand.GET_PIN_RETRIES:
            return {R_PIN_RETRIES: self.retries, R_POWER_CYCLE_STATE: self.mismatches >= MISMATCHES_BEFORE_POWER_CYCLE}
        protocol = self._protocol(params.get(P_PROTOCOL))
        self.last_protocol = protocol.number
        if sub == PinSubcommand.GET_KEY_AGREEMENT:
            return {R_KEY_AGREEMENT: cose_public_key(self._agreement[protocol.number].public_key(), ALG_ECDH_ES_HKDF_256)}
        if sub == PinSubcommand.SET_PIN:
            return self._set_pin(protocol, params)
        if sub == PinSubcommand.CHANGE_PIN:
            return self._change_pin(protocol, params)
        if sub == PinSubcommand.GET_PIN_TOKEN:
            return self._issue(protocol, params, SUPPORTED_PERMISSIONS, None)
        if sub == PinSubcommand.GET_PIN_UV_AUTH_TOKEN_USING_PIN_WITH_PERMISSIONS:
            permissions = params.get(P_PERMISSIONS)
            if not isinstance(permissions, int):
                raise CtapError(Status.MISSING_PARAMETER, "no permissions")
            if permissions == 0:
                raise CtapError(Status.INVALID_PARAMETER, "no permission asked for")
            if permissions & ~SUPPORTED_PERMISSIONS:
                raise CtapError(Status.UNAUTHORIZED_PERMISSION, f"permissions 0x{permissions:02x}")
            rp_id = params.get(P_RP_ID)
            if rp_id is not None and not isinstance(rp_id, str):
                raise CtapError(Status.CBOR_UNEXPECTED_TYPE, "rpId")
            return self._issue(protocol, params, permissions, rp_id)
        # No built-in user verification: the UV subcommands are not offered (getInfo has no "uv").
        raise CtapError(Status.INVALID_SUBCOMMAND, f"subCommand {sub}")

    def _protocol(self, number):
        if number is None:
            raise CtapError(Status.MISSING_PARAMETER, "no pinUvAuthProtocol")
        if number not in self.protocols:
            raise CtapError(Status.INVALID_PARAMETER, f"pinUvAuthProtocol {number} is not offered")
        return PROTOCOLS[number]

    def _shared(self, protocol, params) -> bytes:
        platform = params.get(P_KEY_AGREEMENT)
        if not isinstance(platform, dict):
            raise CtapError(Status.MISSING_PARAMETER, "no keyAgreement")
        try:
            return protocol.shared_secret(self._agreement[protocol.number], platform)
        except ProtocolError as e:
            raise CtapError(Status.INVALID_PARAMETER, str(e)) from e

    @staticmethod
    def _bytes(params, key, name) -> bytes:
        value = params.get(key)
        if value is None:
            raise CtapError(Status.MISSING_PARAMETER, f"no {name}")
        if not isinstance(value, bytes):
            raise CtapError(Status.CBOR_UNEXPECTED_TYPE, name)
        return value

    def _new_pin(self, protocol, shared, new_pin_enc) -> bytes:
        try:
            padded = protocol.decrypt(shared, new_pin_enc)
        except ProtocolError as e:
            raise CtapError(Status.INVALID_PARAMETER, str(e)) from e
        if len(padded) < 64:
            raise CtapError(Status.INVALID_PARAMETER, "newPinEnc is not 64 bytes of padded PIN")
        pin = padded.split(b"\0", 1)[0]
        try:
            length = len(pin.decode())
        except UnicodeDecodeError:
            raise CtapError(Status.PIN_POLICY_VIOLATION, "the PIN is not UTF-8")
        if length < self.min_length or len(pin) > 63:
            raise CtapError(Status.PIN_POLICY_VIOLATION, f"a PIN of {length} characters")
        return hashlib.sha256(pin).digest()[:16]

    def _set_pin(self, protocol, params) -> dict:
        auth = self._bytes(params, P_AUTH_PARAM, "pinUvAuthParam")
        new_pin_enc = self._bytes(params, P_NEW_PIN_ENC, "newPinEnc")
        if self.is_set:
            raise CtapError(Status.PIN_AUTH_INVALID, "a PIN is already set: change it instead")
        shared = self._shared(protocol, params)
        if not protocol.verify(shared, new_pin_enc, auth):
            raise CtapError(Status.PIN_AUTH_INVALID, "pinUvAuthParam of setPIN")
        self.stored_hash = self._new_pin(protocol, shared, new_pin_enc)
        self.retries = self.max_retries
        return {}

    def _change_pin(self, protocol, params) -> dict:
        auth = self._bytes(params, P_AUTH_PARAM, "pinUvAuthParam")
        new_pin_enc = self._bytes(params, P_NEW_PIN_ENC, "newPinEnc")
        pin_hash_enc = self._bytes(params, P_PIN_HASH_ENC, "pinHashEnc")
        if not self.is_set:
            raise CtapError(Status.PIN_NOT_SET)
        self._refuse_when_blocked()
        shared = self._shared(protocol, params)
        if not protocol.verify(shared, new_pin_enc + pin_hash_enc, auth):
            raise CtapError(Status.PIN_AUTH_INVALID, "pinUvAuthParam of changePIN")
        self._check_pin(protocol, shared, pin_hash_enc)
        self.stored_hash = self._new_pin(protocol, shared, new_pin_enc)
        self.token = None
        return {}

    def _issue(self, protocol, params, permissions, rp_id) -> dict:
        pin_hash_enc = self._bytes(params, P_PIN_HASH_ENC, "pinHashEnc")
        if not self.is_set:
            raise CtapError(Status.PIN_NOT_SET)
        self._refuse_when_blocked()
        shared = self._shared(protocol, params)
        self._check_pin(protocol, shared, pin_hash_enc)
        self.token = Token(os.urandom(32), protocol.number, permissions, rp_id)
        return {R_TOKEN: protocol.encrypt(shared, self.token.value)}

    def _refuse_when_blocked(self):
        if self.retries == 0:
            raise CtapError(Status.PIN_BLOCKED)
        if self.mismatches >= MISMATCHES_BEFORE_POWER_CYCLE:
            raise CtapError(Status.PIN_AUTH_BLOCKED, "unplug the key and plug it in again")

    def _check_pin(self, protocol, shared, pin_hash_enc):
        self.retries -= 1
        try:
            offered = protocol.decrypt(shared, pin_hash_enc)
        except ProtocolError:
            offered = b""
        if hmac.compare_digest(offered, self.stored_hash):
            self.retries = self.max_retries
            self.mismatches = 0
            return
        self._agreement = {n: ec.generate_private_key(ec.SECP256R1()) for n in self.protocols}
        self.mismatches += 1
        if self.retries == 0:
            raise CtapError(Status.PIN_BLOCKED)
        if self.mismatches >= MISMATCHES_BEFORE_POWER_CYCLE:
            raise CtapError(Status.PIN_AUTH_BLOCKED)
        raise CtapError(Status.PIN_INVALID)
