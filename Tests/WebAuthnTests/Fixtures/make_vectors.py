#!/usr/bin/env python3
"""Known-answer vectors for the Swift WebAuthn tests, made by code we did not write.

1. Re-verifies every vector in w3c-spec-vectors.json (copied from the WebAuthn Level 3
   specification, section 16) with python-fido2's Fido2Server, so a copying mistake cannot
   hide behind our own verifier agreeing with itself.
2. Writes fido2-vectors.json: registrations ("none", "packed" self attestation, "packed"
   with an x5c certificate) and assertions made by a small software authenticator written
   here with python-fido2's data classes and pyca/cryptography keys. Each one is accepted
   by Fido2Server.register_complete / authenticate_complete before it is written.

Run from the repository root:  .venv-test/bin/python Tests/WebAuthnTests/Fixtures/make_vectors.py
The output is random (fresh keys and challenges) but each run is as valid as the last.
"""
import datetime
import hashlib
import json
import os
import pathlib
import sys

import cryptography
import fido2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2 import cbor
from fido2.attestation import Attestation, AttestationType, verify_x509_chain
from fido2.cose import ES256, CoseKey
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    UserVerificationRequirement,
)

HERE = pathlib.Path(__file__).resolve().parent
FLAG = AuthenticatorData.FLAG
OID_FIDO_AAGUID = x509.ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def attestation_checker(root_der=None):
    """A Fido2Server verify_attestation hook: checks the statement's signature with
    python-fido2's own format verifiers, and an x5c chain against `root_der`."""

    def check(attestation_object, client_data_hash):
        verifier = Attestation.for_type(attestation_object.fmt)()
        result = verifier.verify(attestation_object.att_stmt, attestation_object.auth_data, client_data_hash)
        if result.attestation_type == AttestationType.BASIC:
            if root_der is None:
                raise ValueError("x5c attestation without a root to check it against")
            verify_x509_chain(result.trust_path + [root_der])

    return check


def server_for(rp_id, origin, root_der=None):
    return Fido2Server(
        {"id": rp_id, "name": "pam_passkey test vectors"},
        attestation="direct",
        verify_origin=lambda o: o == origin,
        verify_attestation=attestation_checker(root_der),
    )


def uv_requirement(required):
    return UserVerificationRequirement.REQUIRED if required else UserVerificationRequirement.DISCOURAGED


def make_attestation_ca():
    """A CA and a leaf certificate meeting the packed format's requirements (§8.2.1)."""
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    later = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "pam_passkey test attestation CA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pam_passkey tests"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation CA"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "AA"),
    ])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca_cert


def make_leaf(ca_key, ca_cert, aaguid):
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    later = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "pam_passkey test authenticator"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pam_passkey tests"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "AA"),
    ])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # id-fido-gen-ce-aaguid: an OCTET STRING holding the AAGUID (04 10 ‖ aaguid).
        .add_extension(x509.UnrecognizedExtension(OID_FIDO_AAGUID, b"\x04\x10" + aaguid), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


class SoftAuthenticator:
    """One credential on a software authenticator: enough of CTAP2's makeCredential and
    getAssertion to produce what a browser would hand a relying party."""

    def __init__(self, aaguid, credential_id_length=32, attestation="none", leaf=None):
        self.aaguid = aaguid
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cose = ES256.from_cryptography_key(self.key.public_key())
        self.credential_id = os.urandom(credential_id_length)
        self.attestation = attestation
        self.leaf = leaf  # (key, cert) for x5c attestation
        self.credential = AttestedCredentialData.create(aaguid, self.credential_id, self.cose)

    def sign(self, key, data):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))

    def make_credential(self, rp_id, client_data, flags, counter, extensions=None):
        if extensions is not None:
            flags |= FLAG.ED
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp_id.encode()).digest(), flags | FLAG.AT, counter, self.credential, extensions)
        signed = auth_data + client_data.hash
        if self.attestation == "none":
            return AttestationObject.create("none", auth_data, {})
        if self.attestation == "self":
            return AttestationObject.create("packed", auth_data, {"alg": ES256.ALGORITHM, "sig": self.sign(self.key, signed)})
        leaf_key, leaf_cert = self.leaf
        return AttestationObject.create("packed", auth_data, {
            "alg": ES256.ALGORITHM,
            "sig": self.sign(leaf_key, signed),
            "x5c": [leaf_cert.public_bytes(serialization.Encoding.DER)],
        })

    def get_assertion(self, rp_id, client_data, flags, counter, extensions=None):
        if extensions is not None:
            flags |= FLAG.ED
        auth_data = AuthenticatorData.create(hashlib.sha256(rp_id.encode()).digest(), flags, counter, b"", extensions)
        return auth_data, self.sign(self.key, auth_data + client_data.hash)


def make_case(name, rp_id, origin, authenticator, reg_flags, reg_counter, get_flags, get_counter,
              require_uv=False, reg_extensions=None, get_extensions=None, root_der=None):
    server = server_for(rp_id, origin, root_der)
    reg_challenge = os.urandom(32)
    _, state = server.register_begin(
        {"id": b"user-" + name.encode(), "name": "alice"},
        user_verification=uv_requirement(require_uv), challenge=reg_challenge)
    client_data = CollectedClientData.create(CollectedClientData.TYPE.CREATE, reg_challenge, origin)
    attestation_object = authenticator.make_credential(rp_id, client_data, reg_flags, reg_counter, reg_extensions)
    registered = server.register_complete(state, client_data, attestation_object)
    credential = registered.credential_data

    get_challenge = os.urandom(32)
    _, state = server.authenticate_begin([credential], user_verification=uv_requirement(require_uv), challenge=get_challenge)
    client_data_get = CollectedClientData.create(CollectedClientData.TYPE.GET, get_challenge, origin)
    auth_data, signature = authenticator.get_assertion(rp_id, client_data_get, get_flags, get_counter, get_extensions)
    server.authenticate_complete(state, [credential], credential.credential_id, client_data_get, auth_data, signature)

    case = {
        "name": name,
        "rpId": rp_id,
        "origin": origin,
        "attestation": authenticator.attestation,
        "requireUserVerification": require_uv,
        "credentialId": authenticator.credential_id.hex(),
        "credentialPublicKey": cbor.encode(authenticator.cose).hex(),
        "aaguid": authenticator.aaguid.hex(),
        "registration": {
            "challenge": reg_challenge.hex(),
            "clientDataJSON": bytes(client_data).hex(),
            "attestationObject": bytes(attestation_object).hex(),
            "flags": int(registered.flags),
            "signCount": registered.counter,
        },
        "assertion": {
            "challenge": get_challenge.hex(),
            "clientDataJSON": bytes(client_data_get).hex(),
            "authenticatorData": bytes(auth_data).hex(),
            "signature": signature.hex(),
            "flags": int(auth_data.flags),
            "signCount": auth_data.counter,
        },
    }
    if root_der is not None:
        case["attestationRootCertificate"] = root_der.hex()
    return case


def check_spec_vectors():
    doc = json.loads((HERE / "w3c-spec-vectors.json").read_text())
    for v in doc["vectors"]:
        root = bytes.fromhex(v["attestationRootCertificate"]) if "attestationRootCertificate" in v else None
        server = server_for(v["rpId"], v["origin"], root)
        reg = v["registration"]
        state = {"challenge": fido2.utils.websafe_encode(bytes.fromhex(reg["challenge"])), "user_verification": None}
        registered = server.register_complete(
            state, CollectedClientData(bytes.fromhex(reg["clientDataJSON"])),
            AttestationObject(bytes.fromhex(reg["attestationObject"])))
        credential = registered.credential_data
        assert credential.credential_id.hex() == v["credentialId"], v["name"]
        assert cbor.encode(credential.public_key).hex() == v["credentialPublicKey"], v["name"]
        a = v["assertion"]
        state = {"challenge": fido2.utils.websafe_encode(bytes.fromhex(a["challenge"])), "user_verification": None}
        server.authenticate_complete(
            state, [credential], credential.credential_id, CollectedClientData(bytes.fromhex(a["clientDataJSON"])),
            AuthenticatorData(bytes.fromhex(a["authenticatorData"])), bytes.fromhex(a["signature"]))
        print(f"spec vector {v['name']}: accepted by python-fido2")


def main():
    check_spec_vectors()

    ca_key, ca_cert = make_attestation_ca()
    x5c_aaguid = os.urandom(16)
    leaf = make_leaf(ca_key, ca_cert, x5c_aaguid)
    root_der = ca_cert.public_bytes(serialization.Encoding.DER)

    cases = [
        make_case("none-up-only", "example.com", "https://example.com",
                  SoftAuthenticator(bytes(16), attestation="none"),
                  FLAG.UP, 0, FLAG.UP, 0),
        make_case("packed-self-uv", "login.example.net", "https://login.example.net:8443",
                  SoftAuthenticator(os.urandom(16), attestation="self"),
                  FLAG.UP | FLAG.UV, 1, FLAG.UP | FLAG.UV, 2, require_uv=True),
        make_case("packed-self-backup-extensions", "example.org", "https://auth.example.org",
                  SoftAuthenticator(os.urandom(16), credential_id_length=64, attestation="self"),
                  FLAG.UP | FLAG.UV | FLAG.BE | FLAG.BS, 0x01020304, FLAG.UP | FLAG.BE | FLAG.BS, 0x01020305,
                  reg_extensions={"credProtect": 2}, get_extensions={"credProtect": 2}),
        make_case("packed-x5c", "example.com", "https://example.com",
                  SoftAuthenticator(x5c_aaguid, attestation="x5c", leaf=leaf),
                  FLAG.UP | FLAG.UV | FLAG.BE, 7, FLAG.UP | FLAG.UV | FLAG.BE, 8, require_uv=True, root_der=root_der),
        make_case("none-1023-byte-credential-id", "example.com", "https://example.com",
                  SoftAuthenticator(os.urandom(16), credential_id_length=1023, attestation="none"),
                  FLAG.UP | FLAG.UV, 0, FLAG.UP | FLAG.UV, 0),
    ]
    doc = {
        "source": "Tests/WebAuthnTests/Fixtures/make_vectors.py: a software authenticator in Python; "
                  "every vector accepted by python-fido2's Fido2Server before it was written",
        "generator": {
            "python": sys.version.split()[0],
            "fido2": fido2.__version__,
            "cryptography": cryptography.__version__,
        },
        "vectors": cases,
    }
    out = HERE / "fido2-vectors.json"
    out.write_text(json.dumps(doc, indent=1) + "\n")
    for c in cases:
        print(f"fido2 vector {c['name']}: registration and assertion accepted by python-fido2")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
