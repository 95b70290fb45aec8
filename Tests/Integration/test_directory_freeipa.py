"""FreeIPA's security keys (ipaPassKey) through pam_passkey: a slapd with the shipped schema
and access rules (ldapfleet.py) plus FreeIPA's own definition of the attribute and its class,
a user entry where FreeIPA keeps it (uid=USER,cn=users,cn=accounts,SUFFIX) holding a value
made the way SSSD's passkey_child makes it, from a credential that real libfido2
(fido2-cred) created on the software security key; then the real module in real libpam,
the real helper and libfido2 with that key plugged in or not.

What SSSD writes (src/passkey_child/passkey_child_credentials.c, print_credentials and
public_key_to_base64): "passkey:" + base64(credential id) + "," + base64(i2d_PUBKEY(key)),
the credential made for the IPA domain as relying party id (passkey_child --domain, which
`ipa user-add-passkey --register` gives as api.env.domain). FreeIPA's schema
(install/share/60basev4.ldif) and its validator (ipaserver/plugins/baseuser.py,
validate_passkey) are what the definitions and values below follow."""
import base64
import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fleet import PASSWORD
from ldapfleet import SUFFIX, directory_program, directory_record, ldap_host, queue, start_directory
from ldaprecords import ldif
from securitykey import virtual_key
from securitykey import fido2tools as tools

KEY_PIN = "271828"
USERS = f"cn=users,cn=accounts,{SUFFIX}"
# FreeIPA names the suffix after the domain: dc=pam-passkey,dc=test is the IPA domain
# pam-passkey.test, which pam_passkey derives when ldap_ipa_domain is not set.
IPA_DOMAIN = "pam-passkey.test"

# FreeIPA's definitions, as published in install/share/60basev4.ldif (OIDs, syntax, matching).
FREEIPA_SCHEMA = """dn: cn=freeipa-passkey,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: freeipa-passkey
olcAttributeTypes: ( 2.16.840.1.113730.3.8.23.27 NAME 'ipapasskey' DESC 'Passkey mapping' EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN 'IPA v4.10' )
olcObjectClasses: ( 2.16.840.1.113730.3.8.24.9 NAME 'ipaPasskeyUser' DESC 'IPA passkey user' AUXILIARY MAY ipapasskey X-ORIGIN 'IPA v4.10' )
"""

# The test's own rule for cn=accounts, in the spirit of FreeIPA's permission "System: Read
# User IPA Attributes" (read, search, compare of ipapasskey for every authenticated entity,
# ipaserver/plugins/user.py): bound accounts read it, anonymous does not; nobody but the root
# DN writes there.
ACCOUNTS_ACCESS = f"""dn: olcDatabase={{1}}mdb,cn=config
changetype: modify
add: olcAccess
olcAccess: {{0}}to dn.subtree="cn=accounts,{SUFFIX}" attrs=ipaPassKey
  by users read
  by * none
olcAccess: {{1}}to dn.subtree="cn=accounts,{SUFFIX}"
  by users read
  by * none
"""

TOUCH = ("info", "Touch your security key.")
NOT_PLUGGED_IN = ("info", "Your passkey is on a security key that is not plugged in.")


def key_pin_prompt(user):
    return ("secret", f"Security key PIN for {user.name}: ")


@pytest.fixture(scope="module")
def directory():
    s = start_directory()
    try:
        s.run("ldapadd", "-Q", "-Y", "EXTERNAL", "-H", s.ldapi, input=FREEIPA_SCHEMA)
        s.config_modify(ACCOUNTS_ACCESS)
        out = ldif(f"cn=accounts,{SUFFIX}", {"objectClass": ["organizationalRole"], "cn": ["accounts"]})
        out += ldif(USERS, {"objectClass": ["organizationalRole"], "cn": ["users"]})
        s.add(out)
        yield s
    finally:
        s.remove()


@pytest.fixture
def link(tmp_path):
    return tmp_path / "securitykey"


def sssd_value(key, user, rp_id=IPA_DOMAIN) -> str:
    """A credential made on the key by libfido2's fido2-cred (PIN, user verification, touch)
    for `rp_id`, written as passkey_child writes it: the id in base64, then the public key as
    the base64 of its DER SubjectPublicKeyInfo (the PEM body fido2-cred -V prints, unwrapped)."""
    r = tools.make_credential(key.path, rp_id, user.name, pins=[KEY_PIN], flags=["-v"])
    assert r.ok, r
    made = tools.MadeCredential.parse(r.output)
    v = tools.verify_credential(made, ["-v"])
    assert v.ok, v
    assert v.lines[0] == tools.b64(made.credential_id), v
    pem = "\n".join(v.lines[1:]) + "\n"
    der = serialization.load_pem_public_key(pem.encode()).public_bytes(serialization.Encoding.DER,
                                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    body = "".join(l for l in v.lines[1:] if not l.startswith("-----"))
    assert base64.b64decode(body) == der
    return f"passkey:{base64.b64encode(made.credential_id).decode()},{body}"


def foreign_key_value(private_key) -> str:
    der = private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"passkey:{base64.b64encode(b'another key handle 0123456789').decode()},{base64.b64encode(der).decode()}"


def ipa_user(directory, user, values):
    dn = f"uid={user.name},{USERS}"
    directory.delete(dn, check=False)
    directory.add(ldif(dn, {"objectClass": ["account", "ipaPasskeyUser"], "uid": [user.name], "ipaPassKey": values}))
    return dn


def ipa_entry(directory, dn) -> dict:
    """The entry as the root DN sees it, with the operational attributes that move on any write."""
    return directory.search(dn, "(objectClass=*)", "*", "modifyTimestamp", "entryCSN", "modifiersName", scope="base")


def ipa_host(fleet, directory, link, name="host-c", **policy):
    return ldap_host(fleet, directory, name, **{"security_keys": str(link), "security_key_timeout": "5s",
                                                "ldap_ipa_users_base": USERS, **policy})


def rejected(host) -> list:
    d = host.state / "directory-queue"
    return sorted(p.name for p in d.iterdir() if p.name.startswith(".rejected-")) if d.exists() else []


def ctl(host, *args):
    return subprocess.run([str(host.build_dir / "passkeyctl"), args[0], "--conf", str(host.conf), *args[1:]],
                          capture_output=True, text=True, timeout=120)


def cached(host, user) -> dict:
    return json.loads((host.cache / f"{user.name}.json").read_text())


def test_a_freeipa_security_key_signs_in_on_a_host_that_never_enrolled_anything(fleet, directory, link, make_account, syslog):
    alice = make_account("alice")
    with virtual_key(pin=KEY_PIN, link=link) as key:
        value = sssd_value(key, alice)
        dn = ipa_user(directory, alice, [value])
        before = ipa_entry(directory, dn)
        c = ipa_host(fleet, directory, link)

        for _ in range(2):
            r = c.login(alice, [KEY_PIN])
            assert r.ok, r
            assert r.transcript == [key_pin_prompt(alice), TOUCH], r

        # What the key signed: the IPA domain's rpIdHash, with its own counter, which this host
        # keeps for the clone check.
        [made] = key.credentials
        assert made.rp_id == IPA_DOMAIN
        [cred] = cached(c, alice)["credentials"]
        assert (cred["kind"], cred["source"], cred["rpID"], cred["hostName"]) == ("roaming", "freeipa", IPA_DOMAIN, "FreeIPA"), cred
        assert cred["signCount"] == made.sign_count and cred["lastUsed"]["host"] == "host-c", cred

        # Nothing was queued for the directory, nothing refused, and a sync sends nothing.
        assert queue(c) == [] and rejected(c) == []
        s = ctl(c, "sync")
        assert s.returncode == 0, s.stdout + s.stderr
        assert queue(c) == [] and rejected(c) == []
        # A refresh reads the directory again and keeps this host's counter and last use.
        assert directory_program(c, "refresh", alice.name).returncode == 0
        [again] = cached(c, alice)["credentials"]
        assert again["signCount"] == made.sign_count and again["lastUsed"]["host"] == "host-c", again

    # Her FreeIPA entry is as it was (no value, no timestamp moved), and the registry's own
    # subtree has no credential for her.
    assert ipa_entry(directory, dn) == before
    assert directory_record(directory, alice)["credentials"] == []
    lines = syslog.read()
    assert any("decision=success reason=passkey_verified" in l for l in lines), lines
    assert not any(KEY_PIN in l for l in lines), lines


def test_unplugged_the_key_is_one_line_then_the_password(fleet, directory, link, make_account):
    alice = make_account("alice")
    with virtual_key(pin=KEY_PIN, link=link) as key:
        ipa_user(directory, alice, [sssd_value(key, alice)])
    c = ipa_host(fleet, directory, link)
    r = c.login(alice, [alice.password, "n"])
    assert r.ok, r
    assert r.transcript[:2] == [NOT_PLUGGED_IN, PASSWORD], r
    assert rejected(c) == []


def test_a_malformed_value_beside_a_good_one_is_skipped_with_a_line(fleet, directory, link, make_account, syslog):
    alice = make_account("alice")
    with virtual_key(pin=KEY_PIN, link=link) as key:
        good = sssd_value(key, alice)
        # With the optional user id FreeIPA's validator accepts (base64), as a third field.
        with_user_id = sssd_value(key, alice) + "," + base64.b64encode(b"\x01" * 32).decode()
        # Not base64; an RSA key (passkey_child --type rs256); an Ed25519 key (--type eddsa);
        # another kind of mapping.
        bad = ["passkey:not base64!,MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
               foreign_key_value(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
               foreign_key_value(ed25519.Ed25519PrivateKey.generate()),
               "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice@example"]
        ipa_user(directory, alice, bad[:2] + [good] + bad[2:] + [with_user_id])
        c = ipa_host(fleet, directory, link)
        r = c.login(alice, [KEY_PIN])
        assert r.ok, r
        assert r.transcript == [key_pin_prompt(alice), TOUCH], r
    assert sorted(base64.urlsafe_b64decode(x["id"] + "=" * (-len(x["id"]) % 4)) for x in cached(c, alice)["credentials"]) \
        == sorted(k.id for k in key.credentials)
    lines = [l for l in syslog.read() if "pam_passkey_directory" in l and "ipaPassKey value" in l]
    assert any(f'user "{alice.name}"' in l and "value 1 of 6 skipped: the credential id is not base64" in l for l in lines), lines
    assert any("value 2 of 6 skipped: its public key is RSA (RS256)" in l for l in lines), lines
    assert any("value 4 of 6 skipped: its public key is Ed25519 (EdDSA)" in l for l in lines), lines
    assert any('value 5 of 6 skipped: it does not start with "passkey:"' in l for l in lines), lines
    assert len(lines) == 4, lines


def test_ldap_ipa_domain_is_the_relying_party_the_key_answers_for(fleet, directory, link, make_account):
    """A domain that is not the suffix's: with ldap_ipa_domain set to it the key signs; with
    the derived one the key holds nothing for that relying party id, so it is as if unplugged."""
    alice = make_account("alice")
    with virtual_key(pin=KEY_PIN, link=link) as key:
        ipa_user(directory, alice, [sssd_value(key, alice, rp_id="ipa.corp.test")])
        right = ipa_host(fleet, directory, link, "host-d", ldap_ipa_domain="ipa.corp.test")
        r = right.login(alice, [KEY_PIN])
        assert r.ok, r
        assert r.transcript == [key_pin_prompt(alice), TOUCH], r
        derived = ipa_host(fleet, directory, link, "host-e")
        r = derived.login(alice, [alice.password, "n"])
        assert r.ok, r
        assert r.transcript[:2] == [NOT_PLUGGED_IN, PASSWORD], r
        assert cached(derived, alice)["credentials"][0]["rpID"] == IPA_DOMAIN


def test_no_freeipa_entry_gives_no_credentials_and_the_password(fleet, directory, link, make_account):
    alice = make_account("alice")
    c = ipa_host(fleet, directory, link)
    with virtual_key(pin=KEY_PIN, link=link):
        r = c.login(alice, [alice.password, "n"])
    assert r.ok, r
    assert r.transcript[0] == PASSWORD, r
    assert cached(c, alice)["credentials"] == []


def test_a_users_base_the_directory_refuses_still_refreshes_the_registrys_own_record(fleet, directory, link, make_account):
    """A base that is not a DN: the server refuses that search (invalidDNSyntax), the refresh
    of the registry's own record still succeeds, and the user still gets the password."""
    alice = make_account("alice")
    c = ipa_host(fleet, directory, link, ldap_ipa_users_base="not a DN", ldap_ipa_domain=IPA_DOMAIN)
    r = directory_program(c, "refresh", alice.name)
    assert (r.returncode, r.stdout) == (0, ""), r
    assert (c.cache / f"{alice.name}.synced").exists()
    r = c.login(alice, [alice.password, "n"])
    assert r.ok and r.transcript[0] == PASSWORD, r


def test_passkeyctl_shows_it_as_freeipas_and_will_not_revoke_it(fleet, directory, link, make_account):
    alice = make_account("alice")
    with virtual_key(pin=KEY_PIN, link=link) as key:
        ipa_user(directory, alice, [sssd_value(key, alice)])
        made = key.credentials[0]
    c = ipa_host(fleet, directory, link)
    assert directory_program(c, "refresh", alice.name).returncode == 0

    r = ctl(c, "list", alice.name)
    assert r.returncode == 0, r.stderr
    [header, row] = r.stdout.strip().splitlines()
    assert "HOST" in header and "FreeIPA" in row and "roaming" in row and "FreeIPA security key" in row, r.stdout
    j = json.loads(ctl(c, "list", alice.name, "--json").stdout)
    [cred] = j["users"][0]["credentials"]
    assert (cred["source"], cred["rp_id"], cred["host_name"]) == ("freeipa", IPA_DOMAIN, "FreeIPA"), cred
    assert base64.urlsafe_b64decode(cred["id"] + "=" * (-len(cred["id"]) % 4)) == made.id

    r = ctl(c, "explain", alice.name)
    assert r.returncode == 0, r.stderr
    assert f"{cred['id'][:10]}… security_key roaming   security key, registered in FreeIPA" in r.stdout, r.stdout
    assert "security keys: 0 plugged in" in r.stdout, r.stdout

    r = ctl(c, "revoke", alice.name, "--credential", cred["id"])
    assert r.returncode == 1, r
    assert "registered in FreeIPA" in r.stderr and f"ipa user-remove-passkey {alice.name}" in r.stderr, r.stderr
    assert f"passkey:{base64.b64encode(made.id).decode()}" in r.stderr, r.stderr
    r = ctl(c, "revoke", alice.name, "--all")
    assert r.returncode == 1 and "ipa user-remove-passkey" in r.stderr, r.stderr
    assert queue(c) == [] and cached(c, alice)["credentials"][0].get("revoked") is False
