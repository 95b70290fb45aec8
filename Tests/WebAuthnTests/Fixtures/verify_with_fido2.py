#!/usr/bin/env python3
"""Verifies a registration and an assertion made by our Swift code with python-fido2.

Reads one JSON object on stdin (hex-encoded byte fields):
  {"rpId", "origin", "requireUserVerification",
   "registration": {"challenge", "clientDataJSON", "attestationObject"},
   "assertion": {"challenge", "clientDataJSON", "authenticatorData", "signature"}}
Exits 0 and prints what was accepted, or exits 1 with python-fido2's reason.
Run by Tests/WebAuthnTests/InteropTests.swift with .venv-test/bin/python.
"""
import json
import sys

sys.dont_write_bytecode = True

from fido2.utils import websafe_encode  # noqa: E402
from fido2.webauthn import AttestationObject, AuthenticatorData, CollectedClientData  # noqa: E402

from make_vectors import server_for, uv_requirement  # noqa: E402


def main():
    request = json.load(sys.stdin)
    server = server_for(request["rpId"], request["origin"])
    uv = uv_requirement(request.get("requireUserVerification", False))
    reg = request["registration"]
    attestation_object = AttestationObject(bytes.fromhex(reg["attestationObject"]))
    state = {"challenge": websafe_encode(bytes.fromhex(reg["challenge"])), "user_verification": uv}
    registered = server.register_complete(state, CollectedClientData(bytes.fromhex(reg["clientDataJSON"])), attestation_object)
    credential = registered.credential_data
    print(f"registration accepted: fmt={attestation_object.fmt} flags=0x{int(registered.flags):02x} "
          f"credential_id={credential.credential_id.hex()}")

    if "assertion" in request:
        a = request["assertion"]
        state = {"challenge": websafe_encode(bytes.fromhex(a["challenge"])), "user_verification": uv}
        auth_data = AuthenticatorData(bytes.fromhex(a["authenticatorData"]))
        server.authenticate_complete(state, [credential], credential.credential_id,
                                     CollectedClientData(bytes.fromhex(a["clientDataJSON"])), auth_data,
                                     bytes.fromhex(a["signature"]))
        print(f"assertion accepted: flags=0x{int(auth_data.flags):02x} counter={auth_data.counter}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test reads the reason from stdout
        print(f"refused by python-fido2: {type(e).__name__}: {e}")
        sys.exit(1)
