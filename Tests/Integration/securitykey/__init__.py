"""A software FIDO2 security key for the tests, spoken to by unmodified libfido2.

`with virtual_key(pin=..., touch=Touch.GIVEN) as key:` gives a CTAP2 authenticator behind a
raw pseudo-terminal: `key.path` (/dev/pts/N) is a device path for `fido_dev_open` and for
fido2-tools (`fido2-token -I key.path`). libfido2's Linux backend opens any character device,
finds that the HID report-descriptor ioctls fail on it and falls back to 64-byte reports, so it
speaks CTAPHID to the thread serving the master side. Enumeration (`fido2-token -L`) does not
list it: give the path.

What it implements (CTAP 2.1, USB HID transport):
- CTAPHID framing: INIT (channel allocation, nonce), CBOR, PING, WINK, CANCEL, KEEPALIVE
  while waiting for a touch, ERROR (invalid command, channel, sequence, length; busy).
- authenticatorGetInfo: FIDO_2_0 and FIDO_2_1 (`ctap21=False` for a CTAP 2.0 key), the
  aaguid, options rk/up/plat/clientPin/pinUvAuthToken, pinUvAuthProtocols (default [2, 1];
  `pin_protocols=(1,)` for a key that has only protocol 1), extension credProtect, ES256.
- authenticatorMakeCredential: ES256 only, packed self attestation (no certificate),
  credProtect 1-3 (signed in the authenticator data's extensions), rk, excludeList.
  With a PIN set, it requires a pinUvAuthParam (CTAP2_ERR_PUAT_REQUIRED, 0x36).
- authenticatorGetAssertion / GetNextAssertion: allowList or discoverable credentials,
  up=false answers without a touch and with UP clear (the silent probe), credProtect 3
  credentials are invisible without the PIN and 2 without the PIN or an allowList
  (CTAP2_ERR_NO_CREDENTIALS, 0x2E), pinUvAuthParam checked against the token with its
  permissions and RP ID, a signature counter per credential (+1 on every assertion, silent
  ones included).
- authenticatorClientPIN, protocols 1 and 2: getPINRetries, getKeyAgreement, setPIN,
  changePIN, getPinToken, getPinUvAuthTokenUsingPinWithPermissions (mc and ga permissions);
  retries (default 8) spent before the check, PIN_INVALID, PIN_AUTH_BLOCKED after three wrong
  PINs in a row until `power_cycle()` or unplug, PIN_BLOCKED when none are left.
- authenticatorReset and authenticatorSelection (both need a touch).
- The touch: `key.touch` is a `Touch` (GIVEN after `touch_delay`, REFUSED →
  OPERATION_DENIED, NEVER → USER_ACTION_TIMEOUT after `touch_timeout`) or a function
  (operation, rp_id) -> Touch. `key.touches_asked` lists every request for one.
- State for the tests: `credentials` (id, rp_id, user, private key, `public_key_pem`,
  cred_protect, resident, sign_count), `pin` (`is_set`, `retries`, `last_protocol`,
  `mismatches`), `exchanges` (each command's name, status, PIN protocol, whether it asked for
  a touch), `frames` (the CTAPHID traffic).

What it does not implement: CTAP1/U2F (CTAPHID_MSG; the key says NMSG), CTAPHID_LOCK, built-in
user verification (no "uv" option, getPinUvAuthTokenUsingUvWithPermissions or getUVRetries:
CTAP2_ERR_INVALID_SUBCOMMAND), attestation certificates and enterprise attestation, algorithms
other than ES256, hmac-secret, largeBlob, credBlob, minPinLength and other extensions,
credentialManagement, bioEnrollment, authenticatorConfig, makeCredUvNotRqd, alwaysUv, the
token's lifetime and the clearing of its permissions after use, the 10-second window for reset,
CTAPHID message timeouts, several hosts at once, and persistence (state lives in the object).
The credential ids are random handles into `credentials`, not wrapped keys. Touch is asked for
only after credentials are found: a request that finds none answers NO_CREDENTIALS at once.
"""
from .authenticator import Authenticator, Credential, Exchange, Touch
from .ctap import Status
from .device import VirtualKey, virtual_key

__all__ = ["Authenticator", "Credential", "Exchange", "Status", "Touch", "VirtualKey", "virtual_key"]
