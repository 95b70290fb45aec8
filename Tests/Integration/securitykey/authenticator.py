"""The CTAP2 authenticator: what the key holds and how it answers each command
(CTAP 2.1 §6.1 makeCredential, §6.2 getAssertion and getNextAssertion, §6.4 getInfo,
§6.5 clientPIN, §6.6 reset, §6.9 selection). Transport-free: `handle` takes one CTAPHID_CBOR
request and returns the response; the only thing it needs from the transport is
`keepalive`, called while it waits for a touch, which says whether the host cancelled.
"""
import dataclasses
import enum
import hashlib
import os
import struct
import threading
import time
import traceback
import uuid
from typing import Callable, List, Optional, Union

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from . import cbor
from .clientpin import PERMISSION_GET_ASSERTION, PERMISSION_MAKE_CREDENTIAL, ClientPin
from .ctap import Command, CtapError, PinSubcommand, Status
from .pinprotocol import ALG_ES256, cose_public_key

FLAG_UP, FLAG_UV, FLAG_AT, FLAG_ED = 0x01, 0x04, 0x40, 0x80
KEEPALIVE_PROCESSING, KEEPALIVE_UPNEEDED = 1, 2
# credProtect (CTAP 2.1 §12.1): 1 userVerificationOptional, 2 ...OptionalWithCredentialIDList,
# 3 userVerificationRequired.
CRED_PROTECT_LEVELS = (1, 2, 3)


class Touch(enum.Enum):
    """What the person does when the key blinks for a touch."""
    GIVEN = "given"      # touches it (after `touch_delay` seconds)
    REFUSED = "refused"  # declines: CTAP2_ERR_OPERATION_DENIED
    NEVER = "never"      # walks away: CTAP2_ERR_USER_ACTION_TIMEOUT after `touch_timeout`


@dataclasses.dataclass
class Credential:
    id: bytes
    rp_id: str
    user_id: bytes
    user_name: Optional[str]
    private_key: ec.EllipticCurvePrivateKey
    cred_protect: int
    resident: bool
    sign_count: int = 0

    @property
    def public_key_pem(self) -> str:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclasses.dataclass
class Exchange:
    """One command the key answered, for tests to look at."""
    command: str
    status: Status
    pin_protocol: Optional[int] = None  # of clientPIN, or of the pinUvAuthParam checked
    touch_asked: bool = False
    detail: str = ""


TouchPolicy = Union[Touch, Callable[[str, str], Touch]]
# Made up for this key (random, version 4): no real model has it, so nothing mistakes it for one.
AAGUID = uuid.UUID("8b1ac2a6-55a1-4bbd-9d9c-6d2f3b0e4c71").bytes


class Authenticator:
    def __init__(self, *, pin: Optional[str] = None, pin_protocols=(2, 1), ctap21: bool = True,
                 touch: TouchPolicy = Touch.GIVEN, touch_delay: float = 0.0, touch_timeout: float = 1.0,
                 max_pin_retries: int = 8, min_pin_length: int = 4, aaguid: bytes = AAGUID):
        self.aaguid = aaguid
        self.ctap21 = ctap21
        self.touch = touch
        self.touch_delay = touch_delay
        self.touch_timeout = touch_timeout
        self.pin = ClientPin(pin_protocols, pin, max_pin_retries, min_pin_length)
        self.credentials: List[Credential] = []
        self.exchanges: List[Exchange] = []
        self.touches_asked: List[str] = []  # the operation of every request for a touch
        self._pending: Optional[_Pending] = None  # what getNextAssertion continues
        self.lock = threading.RLock()

    # -- what tests look at -------------------------------------------------------------

    def credential(self, credential_id: bytes) -> Credential:
        [c] = [c for c in self.credentials if c.id == credential_id]
        return c

    def power_cycle(self):
        """Unplugging and plugging in again: a new key-agreement key, no token, and the
        three-wrong-PINs-in-a-row block lifted."""
        with self.lock:
            self.pin.power_cycle()
            self._pending = None

    # -- the command dispatcher -----------------------------------------------------------

    def handle(self, request: bytes, keepalive: Callable[[int, float], bool]) -> bytes:
        with self.lock:
            exchange = Exchange(command=f"0x{request[0]:02x}" if request else "empty", status=Status.OK)
            self._exchange = exchange
            try:
                if not request:
                    raise CtapError(Status.INVALID_LENGTH, "an empty CBOR message")
                try:
                    command = Command(request[0])
                except ValueError:
                    raise CtapError(Status.INVALID_COMMAND, f"command 0x{request[0]:02x}")
                exchange.command = command.name
                try:
                    params = cbor.decode(request[1:]) if len(request) > 1 else {}
                except cbor.CBORError as e:
                    raise CtapError(Status.INVALID_CBOR, str(e)) from e
                if not isinstance(params, dict):
                    raise CtapError(Status.CBOR_UNEXPECTED_TYPE, "the parameters are not a map")
                self._keepalive = keepalive
                response = self._dispatch(command, params)
                return bytes([Status.OK]) + (cbor.encode(response) if response else b"")
            except CtapError as e:
                exchange.status = e.status
                exchange.detail = str(e)
                return bytes([e.status])
            except Exception as e:  # a bug in this key: say so to the host and to the test
                exchange.status = Status.OTHER
                exchange.detail = "".join(traceback.format_exception(e))
                return bytes([Status.OTHER])
            finally:
                self.exchanges.append(exchange)

    def _dispatch(self, command: Command, params: dict):
        if command == Command.GET_INFO:
            return self._get_info()
        if command == Command.MAKE_CREDENTIAL:
            return self._make_credential(params)
        if command == Command.GET_ASSERTION:
            return self._get_assertion(params)
        if command == Command.GET_NEXT_ASSERTION:
            return self._get_next_assertion()
        if command == Command.CLIENT_PIN:
            sub = params.get(2)
            try:
                self._exchange.command = f"CLIENT_PIN/{PinSubcommand(sub).name}"
            except ValueError:
                self._exchange.command = f"CLIENT_PIN/{sub}"
            try:
                return self.pin.handle(params)
            finally:
                if sub != PinSubcommand.GET_PIN_RETRIES:
                    self._exchange.pin_protocol = params.get(1)
        if command == Command.RESET:
            self._presence("reset", "")
            self.credentials = []
            self.pin.reset()
            return None
        if command == Command.SELECTION:
            self._presence("selection", "")
            return None
        raise CtapError(Status.INVALID_COMMAND)

    # -- authenticatorGetInfo -------------------------------------------------------------

    def _get_info(self) -> dict:
        options = {"rk": True, "up": True, "plat": False, "clientPin": self.pin.is_set}
        if self.ctap21:
            options["pinUvAuthToken"] = True
        return {
            0x01: ["FIDO_2_0", "FIDO_2_1"] if self.ctap21 else ["FIDO_2_0"],
            0x02: ["credProtect"],
            0x03: self.aaguid,
            0x04: options,
            0x05: 1200,  # maxMsgSize
            0x06: list(self.pin.protocols),
            0x07: 8,  # maxCredentialCountInList
            0x08: 128,  # maxCredentialIdLength
            0x09: ["usb"],
            0x0A: [{"alg": ALG_ES256, "type": "public-key"}],
            0x0D: self.pin.min_length,
        }

    # -- shared steps --------------------------------------------------------------------

    def _presence(self, operation: str, rp_id: str):
        """Waits for the touch the test decided on, sending KEEPALIVE(UPNEEDED) meanwhile;
        CTAPHID_CANCEL from the host ends the wait with CTAP2_ERR_KEEPALIVE_CANCEL."""
        self._exchange.touch_asked = True
        self.touches_asked.append(operation)
        decision = self.touch(operation, rp_id) if callable(self.touch) else self.touch
        wait = self.touch_timeout if decision == Touch.NEVER else self.touch_delay
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            if self._keepalive(KEEPALIVE_UPNEEDED, min(left, 0.1)):
                raise CtapError(Status.KEEPALIVE_CANCEL, "the host cancelled")
        if decision == Touch.REFUSED:
            raise CtapError(Status.OPERATION_DENIED, "the touch was refused")
        if decision == Touch.NEVER:
            raise CtapError(Status.USER_ACTION_TIMEOUT, "nobody touched the key")

    def _user_verification(self, params: dict, auth_key: int, message: bytes, permission: int, rp_id: str) -> bool:
        """True when the pinUvAuthParam at `auth_key` (its protocol at the next key) proves
        the PIN; False without one; raises what the specification says for an empty or
        wrong one."""
        auth = params.get(auth_key)
        if auth is None:
            return False
        if not isinstance(auth, bytes):
            raise CtapError(Status.CBOR_UNEXPECTED_TYPE, "pinUvAuthParam")
        if len(auth) == 0:  # a platform asking the person to pick a key (CTAP 2.1 §6.1.1 step 1)
            self._presence("select", rp_id)
            raise CtapError(Status.PIN_INVALID if self.pin.is_set else Status.PIN_NOT_SET)
        self._exchange.pin_protocol = params.get(auth_key + 1)
        self.pin.verify_param(params, auth_key, auth_key + 1, message, permission, rp_id)
        return True

    @staticmethod
    def _options(params: dict, key: int) -> dict:
        options = params.get(key, {})
        if not isinstance(options, dict) or not all(isinstance(v, bool) for v in options.values()):
            raise CtapError(Status.CBOR_UNEXPECTED_TYPE, "options")
        if options.get("uv"):
            raise CtapError(Status.INVALID_OPTION, "no built-in user verification: use the PIN")
        return options

    @staticmethod
    def _required(params: dict, key: int, kind, name: str):
        value = params.get(key)
        if value is None:
            raise CtapError(Status.MISSING_PARAMETER, f"no {name}")
        if not isinstance(value, kind):
            raise CtapError(Status.CBOR_UNEXPECTED_TYPE, name)
        return value

    def _descriptors(self, params: dict, key: int, rp_id: str) -> Optional[List[Credential]]:
        listed = params.get(key)
        if listed is None:
            return None
        if not isinstance(listed, list) or not all(isinstance(d, dict) for d in listed):
            raise CtapError(Status.CBOR_UNEXPECTED_TYPE, "credential list")
        ids = [d.get("id") for d in listed if d.get("type") == "public-key"]
        return [c for c in self.credentials if c.rp_id == rp_id and c.id in ids]

    # -- authenticatorMakeCredential -----------------------------------------------------

    def _make_credential(self, params: dict) -> dict:
        cdh = self._required(params, 1, bytes, "clientDataHash")
        rp = self._required(params, 2, dict, "rp")
        user = self._required(params, 3, dict, "user")
        algorithms = self._required(params, 4, list, "pubKeyCredParams")
        rp_id, user_id = rp.get("id"), user.get("id")
        if not isinstance(rp_id, str) or not isinstance(user_id, bytes):
            raise CtapError(Status.MISSING_PARAMETER, "rp.id or user.id")
        if not any(isinstance(a, dict) and a.get("type") == "public-key" and a.get("alg") == ALG_ES256
                   for a in algorithms):
            raise CtapError(Status.UNSUPPORTED_ALGORITHM, "only ES256")
        options = self._options(params, 7)
        if options.get("up") is False:
            raise CtapError(Status.INVALID_OPTION, "makeCredential always needs a touch")
        uv = self._user_verification(params, 8, cdh, PERMISSION_MAKE_CREDENTIAL, rp_id)
        if self.pin.is_set and not uv:
            raise CtapError(Status.PUAT_REQUIRED, "the key has a PIN")
        extensions = params.get(6, {})
        if not isinstance(extensions, dict):
            raise CtapError(Status.CBOR_UNEXPECTED_TYPE, "extensions")
        level = extensions.get("credProtect")
        if level is not None and level not in CRED_PROTECT_LEVELS:
            raise CtapError(Status.INVALID_PARAMETER, f"credProtect {level}")
        excluded = self._descriptors(params, 5, rp_id) or []
        if any(c.cred_protect < 3 or uv for c in excluded):
            self._presence("exclude", rp_id)
            raise CtapError(Status.CREDENTIAL_EXCLUDED)
        self._presence("makeCredential", rp_id)

        resident = bool(options.get("rk"))
        credential = Credential(id=os.urandom(32), rp_id=rp_id, user_id=user_id, user_name=user.get("name"),
                                private_key=ec.generate_private_key(ec.SECP256R1()),
                                cred_protect=level or 1, resident=resident)
        if resident:
            self.credentials = [c for c in self.credentials
                                if not (c.resident and c.rp_id == rp_id and c.user_id == user_id)]
        self.credentials.append(credential)

        flags = FLAG_UP | (FLAG_UV if uv else 0) | FLAG_AT | (FLAG_ED if level is not None else 0)
        attested = (self.aaguid + struct.pack(">H", len(credential.id)) + credential.id
                    + cbor.encode(cose_public_key(credential.private_key.public_key(), ALG_ES256)))
        auth_data = self._auth_data(rp_id, flags, credential.sign_count) + attested
        if level is not None:
            auth_data += cbor.encode({"credProtect": level})
        signature = credential.private_key.sign(auth_data + cdh, ec.ECDSA(hashes.SHA256()))
        return {1: "packed", 2: auth_data, 3: {"alg": ALG_ES256, "sig": signature}}

    @staticmethod
    def _auth_data(rp_id: str, flags: int, counter: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", counter)

    # -- authenticatorGetAssertion -------------------------------------------------------

    def _get_assertion(self, params: dict) -> dict:
        self._pending = None
        rp_id = self._required(params, 1, str, "rpId")
        cdh = self._required(params, 2, bytes, "clientDataHash")
        options = self._options(params, 5)
        if "rk" in options:
            raise CtapError(Status.UNSUPPORTED_OPTION, "rk is not a getAssertion option")
        up = options.get("up", True)
        uv = self._user_verification(params, 6, cdh, PERMISSION_GET_ASSERTION, rp_id)
        listed = self._descriptors(params, 3, rp_id)
        if listed is not None:
            found = [c for c in listed if uv or c.cred_protect < 3]
        else:
            found = [c for c in reversed(self.credentials)
                     if c.resident and c.rp_id == rp_id and (uv or c.cred_protect < 2)]
        if not found:
            raise CtapError(Status.NO_CREDENTIALS, f"none for {rp_id} the request may see")
        if up:
            self._presence("getAssertion", rp_id)
        flags = (FLAG_UP if up else 0) | (FLAG_UV if uv else 0)
        # With an allowList one assertion answers; discovered credentials come one by one.
        pending = _Pending(list(found) if listed is None else found[:1], rp_id, cdh, flags, uv, discovered=listed is None)
        response = self._assertion(pending)
        if pending.credentials:
            response[5] = len(found)
            self._pending = pending
        return response

    def _get_next_assertion(self) -> dict:
        if self._pending is None or not self._pending.credentials:
            raise CtapError(Status.NOT_ALLOWED, "no getAssertion with more credentials before")
        return self._assertion(self._pending)

    def _assertion(self, pending: "_Pending") -> dict:
        credential = pending.credentials.pop(0)
        credential.sign_count += 1
        auth_data = self._auth_data(pending.rp_id, pending.flags, credential.sign_count)
        signature = credential.private_key.sign(auth_data + pending.cdh, ec.ECDSA(hashes.SHA256()))
        response = {1: {"id": credential.id, "type": "public-key"}, 2: auth_data, 3: signature}
        if pending.discovered:
            response[4] = {"id": credential.user_id}
            if pending.uv and credential.user_name:
                response[4]["name"] = credential.user_name
        return response


@dataclasses.dataclass
class _Pending:
    credentials: List[Credential]
    rp_id: str
    cdh: bytes
    flags: int
    uv: bool
    discovered: bool
