"""The two PIN/UV auth protocols of CTAP 2.1 §6.5.6 and §6.5.7, authenticator side.

Both agree a shared secret by ECDH on P-256 between the key's key-agreement key and the
platform's ephemeral key. Protocol 1 hashes the x-coordinate (SHA-256) into one 32-byte key
used for AES-256-CBC with a zero IV and for HMAC-SHA-256 truncated to 16 bytes. Protocol 2
derives two keys with HKDF-SHA-256 (zero salt, "CTAP2 HMAC key" / "CTAP2 AES key"),
prepends a random IV to each ciphertext and uses the whole 32-byte HMAC.
"""
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# COSE key parameters (RFC 9053) as CTAP2 uses them for the key-agreement key.
COSE_KTY, COSE_ALG, COSE_CRV, COSE_X, COSE_Y = 1, 3, -1, -2, -3
COSE_EC2, COSE_P256 = 2, 1
ALG_ES256, ALG_ECDH_ES_HKDF_256 = -7, -25


class ProtocolError(ValueError):
    """A malformed platform key or ciphertext: the key answers CTAP1_ERR_INVALID_PARAMETER."""


def cose_public_key(public_key: ec.EllipticCurvePublicKey, alg: int) -> dict:
    numbers = public_key.public_numbers()
    return {COSE_KTY: COSE_EC2, COSE_ALG: alg, COSE_CRV: COSE_P256,
            COSE_X: numbers.x.to_bytes(32, "big"), COSE_Y: numbers.y.to_bytes(32, "big")}


def _platform_key(cose: dict) -> ec.EllipticCurvePublicKey:
    try:
        if cose[COSE_KTY] != COSE_EC2 or cose[COSE_CRV] != COSE_P256:
            raise ProtocolError("the platform key is not an EC2 P-256 key")
        x, y = cose[COSE_X], cose[COSE_Y]
        if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == len(y) == 32):
            raise ProtocolError("the platform key's coordinates are not 32 bytes")
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
    except (KeyError, TypeError) as e:
        raise ProtocolError(f"the platform key lacks {e}") from e
    except ValueError as e:  # not a point on the curve
        raise ProtocolError(str(e)) from e


def _aes(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    if len(data) % 16:
        raise ProtocolError("ciphertext is not a whole number of AES blocks")
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


class PinProtocol:
    number = 0

    def shared_secret(self, own: ec.EllipticCurvePrivateKey, platform_cose: dict) -> bytes:
        z = own.exchange(ec.ECDH(), _platform_key(platform_cose))
        return self.kdf(z)

    def kdf(self, z: bytes) -> bytes:
        raise NotImplementedError

    def encrypt(self, shared: bytes, data: bytes) -> bytes:
        raise NotImplementedError

    def decrypt(self, shared: bytes, data: bytes) -> bytes:
        raise NotImplementedError

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        raise NotImplementedError

    def verify(self, key: bytes, message: bytes, signature: bytes) -> bool:
        return isinstance(signature, bytes) and hmac.compare_digest(self.authenticate(key, message), signature)


class PinProtocolOne(PinProtocol):
    number = 1

    def kdf(self, z: bytes) -> bytes:
        return hashlib.sha256(z).digest()

    def encrypt(self, shared: bytes, data: bytes) -> bytes:
        return _aes(shared, bytes(16), data, True)

    def decrypt(self, shared: bytes, data: bytes) -> bytes:
        return _aes(shared, bytes(16), data, False)

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, hashlib.sha256).digest()[:16]


class PinProtocolTwo(PinProtocol):
    number = 2

    def kdf(self, z: bytes) -> bytes:
        def hkdf(info: bytes) -> bytes:
            return HKDF(hashes.SHA256(), 32, salt=bytes(32), info=info).derive(z)
        return hkdf(b"CTAP2 HMAC key") + hkdf(b"CTAP2 AES key")

    def encrypt(self, shared: bytes, data: bytes) -> bytes:
        iv = os.urandom(16)
        return iv + _aes(shared[32:], iv, data, True)

    def decrypt(self, shared: bytes, data: bytes) -> bytes:
        if len(data) < 16:
            raise ProtocolError("ciphertext shorter than its IV")
        return _aes(shared[32:], data[:16], data[16:], False)

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        # With the shared secret, the HMAC key is its first half; a pinUvAuthToken is 32 bytes.
        return hmac.new(key[:32], message, hashlib.sha256).digest()


PROTOCOLS = {1: PinProtocolOne(), 2: PinProtocolTwo()}
