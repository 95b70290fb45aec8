"""A registry record (the JSON document the files registry writes, as a dict) and its
directory entries under the schema of Packaging/ldap: the mapping written out once, for the
tests, and the reference the product's directory backend follows (Packaging/ldap/README has
it as a table). Also sample records made the way WebAuthn makes them (python-fido2).
"""
import base64
import calendar
import hashlib
import json
import secrets
import time
import urllib.parse


# -- values ------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def gtime(epoch: int) -> str:
    """EpochSeconds as GeneralizedTime: UTC, whole seconds."""
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(epoch))


def epoch(generalized: str) -> int:
    return calendar.timegm(time.strptime(generalized, "%Y%m%d%H%M%SZ"))


def text(value) -> str:
    """ldapsearch writes non-ASCII text base64, which parse_ldif gives as bytes."""
    return value.decode() if isinstance(value, bytes) else value


def rdn_value(value: str) -> str:
    """RFC 4514 escaping of an attribute value in a DN."""
    out = "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def filter_value(value: str) -> str:
    """RFC 4515 escaping of an assertion value in a filter."""
    return "".join("\\%02x" % ord(c) if c in "*()\\\0" else c for c in value)


def offer_value(offer: dict, token: str) -> str:
    """TIME ANSWER ID SERVICE HOST. The id keeps two offers that are otherwise the same (one
    second, one host, one service) two values: LDAP stores a value once and refuses the
    second add (typeOrValueExists). Service and host are percent-encoded, so none of the five
    fields contains a space."""
    quote = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return f"{gtime(offer['time'])} {offer['answer']} {token} {quote(offer['service'])} {quote(offer['hostName'])}"


def offer_from_value(value: str) -> dict:
    t, answer, _token, service, host = value.split(" ")
    return {"time": epoch(t), "hostName": urllib.parse.unquote(host), "service": urllib.parse.unquote(service),
            "answer": answer}


# -- records <-> entries -----------------------------------------------------------------------

def user_dn(user: str, base: str) -> str:
    """base: the subtree, ou=pam_passkey,SUFFIX."""
    return f"pamPasskeyUserName={rdn_value(user)},{base}"


def credential_dn(user: str, credential_id: str, base: str) -> str:
    return f"pamPasskeyCredentialID={credential_id},{user_dn(user, base)}"


def user_entry(record: dict) -> dict:
    attrs = {"objectClass": ["pamPasskeyUser"], "pamPasskeyUserName": [record["user"]]}
    offers = record.get("offers")
    if offers is not None:
        attrs["pamPasskeyOffer"] = [offer_value(o, secrets.token_hex(8)) for o in offers["recent"]]
        attrs["pamPasskeyUnansweredOffers"] = [str(offers["unansweredInARow"])]
        if offers.get("lastDeclined") is not None:
            attrs["pamPasskeyLastDeclined"] = [gtime(offers["lastDeclined"])]
    return {k: v for k, v in attrs.items() if v}


def credential_state(c: dict) -> str:
    """As passkeyctl shows it (CredentialText.state)."""
    return "revoked" if c.get("revoked") else "suspect" if c.get("signCountRegression") else "active"


def credential_entry(c: dict) -> dict:
    """Empty strings and lists are absent attributes (LDAP has no empty directory strings)."""
    attrs = {
        "objectClass": ["pamPasskeyCredential"],
        "pamPasskeyCredentialID": [c["id"]],
        "pamPasskeyPublicKey": [unb64url(c["publicKey"])],
        "pamPasskeyAlgorithm": [str(c["algorithm"])],
        "pamPasskeyKind": [c["kind"]],
        "pamPasskeyHostID": [c["hostID"]],
        "pamPasskeyHostName": [c["hostName"]],
        "pamPasskeyAAGUID": [c["aaguid"]],
        "pamPasskeyBackupEligible": ["TRUE" if c["backupEligible"] else "FALSE"],
        "pamPasskeyBackedUp": ["TRUE" if c["backedUp"] else "FALSE"],
        "pamPasskeyTransport": list(c["transports"]),
        "pamPasskeySignCount": [str(c["signCount"])],
        "pamPasskeyCreatedAt": [gtime(c["created"]["time"])],
        "pamPasskeyCreatedHost": [c["created"]["host"]],
        "pamPasskeyLabel": [c["label"]] if c["label"] else [],
        "pamPasskeyState": [credential_state(c)],
        "pamPasskeyAttestationObject": [unb64url(c["attestationObject"])] if c["attestationObject"] else [],
        "pamPasskeyClientDataJSON": [unb64url(c["clientDataJSON"])] if c["clientDataJSON"] else [],
    }
    if c.get("lastUsed"):
        attrs["pamPasskeyLastUsedAt"] = [gtime(c["lastUsed"]["time"])]
        attrs["pamPasskeyLastUsedHost"] = [c["lastUsed"]["host"]]
    if c.get("revokedAt") is not None:
        attrs["pamPasskeyRevokedAt"] = [gtime(c["revokedAt"])]
    if c.get("revokedBy"):
        attrs["pamPasskeyRevokedBy"] = [c["revokedBy"]]
    r = c.get("signCountRegression")
    if r:
        attrs.update(pamPasskeyRegressionAt=[gtime(r["time"])], pamPasskeyRegressionHost=[r["host"]],
                     pamPasskeyRegressionStored=[str(r["stored"])], pamPasskeyRegressionReceived=[str(r["received"])])
    return {k: v for k, v in attrs.items() if v}


def record_from_entries(entries: dict) -> dict:
    """The inverse: one subtree search under the user's entry -> the registry's record."""
    def one(attrs, name, default=None):
        return attrs[name][0] if name in attrs else default

    def binary(attrs, name):
        # ldapsearch writes a value as plain text when it can: bytes either way.
        v = one(attrs, name)
        return b64url(v if isinstance(v, bytes) else v.encode()) if v is not None else ""

    [(_, u)] = [(dn, a) for dn, a in entries.items() if "pamPasskeyUser" in a["objectClass"]]
    record = {"schemaVersion": 1, "user": text(one(u, "pamPasskeyUserName")), "credentials": []}
    if "pamPasskeyUnansweredOffers" in u or "pamPasskeyOffer" in u:
        # Time order; of one second, the directory's order (sorted is stable), as the product reads it.
        offers = sorted((offer_from_value(text(v)) for v in u.get("pamPasskeyOffer", [])), key=lambda o: o["time"])
        record["offers"] = {"recent": offers, "unansweredInARow": int(one(u, "pamPasskeyUnansweredOffers", "0"))}
        if "pamPasskeyLastDeclined" in u:
            record["offers"]["lastDeclined"] = epoch(one(u, "pamPasskeyLastDeclined"))
    # The registry's order: creation time, then id (slapd returns children by RDN, not in the order added).
    for dn, a in sorted(entries.items(), key=lambda e: (epoch(one(e[1], "pamPasskeyCreatedAt", "19700101000000Z")),
                                                         one(e[1], "pamPasskeyCredentialID", ""))):
        if "pamPasskeyCredential" not in a["objectClass"]:
            continue
        c = {
            "id": one(a, "pamPasskeyCredentialID"),
            "publicKey": binary(a, "pamPasskeyPublicKey"),
            "algorithm": int(one(a, "pamPasskeyAlgorithm")),
            "kind": one(a, "pamPasskeyKind"),
            "hostID": one(a, "pamPasskeyHostID"),
            "hostName": text(one(a, "pamPasskeyHostName")),
            "aaguid": one(a, "pamPasskeyAAGUID"),
            "backupEligible": one(a, "pamPasskeyBackupEligible") == "TRUE",
            "backedUp": one(a, "pamPasskeyBackedUp") == "TRUE",
            "transports": a.get("pamPasskeyTransport", []),
            "signCount": int(one(a, "pamPasskeySignCount")),
            "created": {"time": epoch(one(a, "pamPasskeyCreatedAt")), "host": text(one(a, "pamPasskeyCreatedHost"))},
            "label": text(one(a, "pamPasskeyLabel", "")),
            "revoked": one(a, "pamPasskeyState") == "revoked",
            "attestationObject": binary(a, "pamPasskeyAttestationObject"),
            "clientDataJSON": binary(a, "pamPasskeyClientDataJSON"),
        }
        if "pamPasskeyLastUsedAt" in a:
            c["lastUsed"] = {"time": epoch(one(a, "pamPasskeyLastUsedAt")),
                             "host": text(one(a, "pamPasskeyLastUsedHost"))}
        if "pamPasskeyRevokedAt" in a:
            c["revokedAt"] = epoch(one(a, "pamPasskeyRevokedAt"))
        if "pamPasskeyRevokedBy" in a:
            c["revokedBy"] = text(one(a, "pamPasskeyRevokedBy"))
        if "pamPasskeyRegressionAt" in a:
            c["signCountRegression"] = {"time": epoch(one(a, "pamPasskeyRegressionAt")),
                                        "host": text(one(a, "pamPasskeyRegressionHost")),
                                        "stored": int(one(a, "pamPasskeyRegressionStored")),
                                        "received": int(one(a, "pamPasskeyRegressionReceived"))}
        record["credentials"].append(c)
    return record


def ldif(dn: str, attrs: dict, changetype=None) -> str:
    lines = [f"dn: {dn}" if dn.isascii() else f"dn:: {base64.b64encode(dn.encode()).decode()}"]
    lines += [f"changetype: {changetype}"] if changetype else []
    for name, values in attrs.items():
        for v in values:
            if isinstance(v, bytes) or not v.isascii() or v != v.strip() or v.startswith((":", "<")):
                raw = v if isinstance(v, bytes) else v.encode()
                lines.append(f"{name}:: {base64.b64encode(raw).decode()}")
            else:
                lines.append(f"{name}: {v}")
    return "\n".join(lines) + "\n\n"


def record_ldif(record: dict, base: str) -> str:
    out = ldif(user_dn(record["user"], base), user_entry(record))
    for c in record["credentials"]:
        out += ldif(credential_dn(record["user"], c["id"], base), credential_entry(c))
    return out


# -- sample records, as the registry writes them -----------------------------------------------

def host_id(name: str) -> str:
    return hashlib.sha256(b"test machine id " + name.encode()).hexdigest()[:32]


def credential(host: str, kind="platform", created=1_764_000_000, **fields) -> dict:
    """A registration as WebAuthn makes it (python-fido2 builds the structures)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from fido2 import cbor
    from fido2.cose import ES256
    from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData, Aaguid

    key = ES256.from_cryptography_key(ec.generate_private_key(ec.SECP256R1()).public_key())
    cred_id = secrets.token_bytes(32)
    aaguid = Aaguid(secrets.token_bytes(16)) if kind == "roaming" else Aaguid.NONE
    auth_data = AuthenticatorData.create(hashlib.sha256(b"pam-passkey").digest(), 0x45, 0,
                                         AttestedCredentialData.create(aaguid, cred_id, key))
    c = {
        "id": b64url(cred_id),
        "publicKey": b64url(cbor.encode(key)),
        "algorithm": -7,
        "kind": kind,
        "hostID": host_id(host),
        "hostName": host,
        "aaguid": str(aaguid),
        "backupEligible": False,
        "backedUp": False,
        "transports": ["internal"] if kind == "platform" else ["usb", "nfc"],
        "signCount": 0,
        "created": {"time": created, "host": host},
        "label": "",
        "revoked": False,
        "attestationObject": b64url(bytes(AttestationObject.create("none", auth_data, {}))),
        "clientDataJSON": b64url(json.dumps({"type": "webauthn.create", "challenge": b64url(secrets.token_bytes(32)),
                                             "origin": "pam-passkey://host", "crossOrigin": False}).encode()),
    }
    c.update(fields)
    return c


def sample_record(user: str) -> dict:
    a = credential("host-a", signCount=17, lastUsed={"time": 1_764_500_000, "host": "host-a"},
                   label="Ålice on host-a")
    b = credential("host-b", created=1_764_100_000, signCountRegression={
        "time": 1_764_600_000, "host": "host-b", "stored": 9, "received": 3}, signCount=9)
    key = credential("host-a", kind="roaming", created=1_764_200_000, backupEligible=True, backedUp=True,
                     revoked=True, revokedAt=1_764_700_000, revokedBy="root on host-a")
    return {"schemaVersion": 1, "user": user, "credentials": [a, b, key],
            "offers": {"recent": [
                {"time": 1_764_000_100, "hostName": "host-b", "service": "sshd", "answer": "accepted"},
                {"time": 1_764_000_200, "hostName": "host c", "service": "su l", "answer": "declined"}],
                       "unansweredInARow": 2, "lastDeclined": 1_764_000_200}}
