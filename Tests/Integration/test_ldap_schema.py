"""The directory schema of Packaging/ldap against Debian's real slapd: it loads the way an
administrator loads it, the registry's records fit it and come back unchanged, the server
enforces its syntaxes, the shipped access rules hold for hosts, admins and anonymous
clients, and a hung slapd fails a client only when the client set a timeout for results.

The mapping between a record and its entries is in ldaprecords.py.
"""
import base64
import os
import re
import secrets
import subprocess
import textwrap
import time

import pytest

import ldaprecords
from ldaprecords import (credential, credential_entry, epoch, filter_value, gtime, host_id, ldif, offer_value,
                         record_from_entries, sample_record, text, unb64url)
from slapd import EXAMPLE_SUFFIX, SCHEMA_DIR, Slapd, parse_ldif, tool_env

SUFFIX = "dc=pam-passkey,dc=test"
BASE = f"ou=pam_passkey,{SUFFIX}"
HOSTS = f"ou=hosts,{SUFFIX}"
ADMINS = f"cn=pam_passkey admins,ou=groups,{SUFFIX}"
# A host that binds with SASL EXTERNAL over ldapi: its tools run as this uid, which cn=config
# maps to its host account.
EXTERNAL_UID = 65534
NOBODY_GID = 65534

# LDAP result codes the tools exit with.
NO_SUCH_ATTRIBUTE = 16
CONSTRAINT_VIOLATION = 19
TYPE_OR_VALUE_EXISTS = 20
INVALID_SYNTAX = 21
NO_SUCH_OBJECT = 32
INSUFFICIENT_ACCESS = 50
OBJECT_CLASS_VIOLATION = 65
ALREADY_EXISTS = 68


def user_dn(user):
    return ldaprecords.user_dn(user, BASE)


def credential_dn(user, credential_id):
    return ldaprecords.credential_dn(user, credential_id, BASE)


def record_ldif(record):
    return ldaprecords.record_ldif(record, BASE)


# -- the directory -----------------------------------------------------------------------------

class Account:
    """An entry that binds with a password: a host account (with its keyed host id) or a person."""
    def __init__(self, name, dn=None):
        self.name = name
        self.dn = dn or f"cn={name},{HOSTS}"
        self.password = secrets.token_hex(8)
        self.id = host_id(name)


HOST_A, HOST_B, HOST_C = Account("host-a"), Account("host-b"), Account("host-c")
ADMIN = Account("admin1", f"cn=admin1,ou=people,{SUFFIX}")      # a member of ADMINS
CAROL = Account("carol", f"cn=carol,ou=people,{SUFFIX}")        # an account of the directory, no host


def base_entries() -> str:
    out = ""
    out += ldif(SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": ["pam-passkey"], "o": ["test"]})
    for ou in ("pam_passkey", "hosts", "groups", "people"):
        out += ldif(f"ou={ou},{SUFFIX}", {"objectClass": ["organizationalUnit"], "ou": [ou]})
    for h in (HOST_A, HOST_B, HOST_C):
        out += ldif(h.dn, {"objectClass": ["device", "simpleSecurityObject", "pamPasskeyHost"], "cn": [h.name],
                           "userPassword": [h.password], "pamPasskeyHostID": [h.id], "pamPasskeyHostName": [h.name]})
    for p in (ADMIN, CAROL):
        out += ldif(p.dn, {"objectClass": ["person"], "cn": [p.name], "sn": [p.name], "userPassword": [p.password]})
    out += ldif(ADMINS, {"objectClass": ["groupOfNames"], "cn": ["pam_passkey admins"], "member": [ADMIN.dn]})
    return out


@pytest.fixture(scope="module")
def directory():
    peer = rf"gidNumber=[0-9]+\+uidNumber={EXTERNAL_UID},cn=peercred,cn=external,cn=auth"
    s = Slapd(suffix=SUFFIX, authz_regexp=[(peer, HOST_C.dn)])
    try:
        s.start()
        s.config_modify(s.shipped("pam_passkey-access.ldif"))
        s.add(base_entries())
        yield s
    finally:
        s.remove()


def rc(p) -> int:
    return p.returncode


def modify(directory, who, dn, *changes):
    """One modify operation; changes are LDIF lines, '-' between modifications."""
    request = f"dn: {dn}\nchangetype: modify\n" + "\n".join(changes) + "\n"
    return directory.run("ldapmodify", *directory.bind_args(who.dn, who.password), input=request, check=False)


def search_as(directory, who, base, *attrs, scope="sub", filter="(objectClass=*)"):
    bind = directory.bind_args(who.dn, who.password) if who is not None else ["-x", "-H", directory.uri]
    return directory.run("ldapsearch", *bind, "-LLL", "-o", "ldif-wrap=no", "-s", scope, "-b", base, filter,
                         *attrs, check=False)


def unique_user(prefix="u") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def put_record(directory, record):
    directory.add(record_ldif(record))
    return record


# -- the schema --------------------------------------------------------------------------------

def definitions(text: str, kind: str) -> dict:
    """NAME -> the definition, with DESC and X- extensions dropped, from LDIF or subschema."""
    unfolded = re.sub(r"\n ", "", text)
    out = {}
    for m in re.finditer(rf"^(?:olc)?{kind}: (?:\{{\d+\}})?(\(.*\))\s*$", unfolded, re.M | re.I):
        d = re.sub(r"DESC '[^']*'", "", m.group(1))
        d = re.sub(r"X-[A-Z-]+ '[^']*'", "", d)
        d = re.sub(r"\s+", " ", d).replace("( ", "(").replace(" )", ")")
        name = re.search(r"NAME \(?\s*'([^']+)'", d).group(1)
        out[name] = d
    return out


def subschema(directory, kind):
    p = directory.run("ldapsearch", "-x", "-H", directory.uri, "-LLL", "-o", "ldif-wrap=no", "-s", "base",
                      "-b", "cn=subschema", "(objectClass=*)", kind)
    return {n: d for n, d in definitions(p.stdout, kind).items() if n.startswith("pamPasskey")}


def test_schema_loads_with_ldapadd_and_the_server_has_every_definition(directory):
    # The fixture loaded Packaging/ldap/pam_passkey.ldif with ldapadd -Y EXTERNAL over ldapi.
    attributes, classes = subschema(directory, "attributeTypes"), subschema(directory, "objectClasses")
    assert len(attributes) == 29 and len(classes) == 3, (sorted(attributes), sorted(classes))
    assert all(d.startswith("(1.3.6.1.4.1.32473.1.") for d in [*attributes.values(), *classes.values()])
    expect = {
        "pamPasskeySignCount": ("EQUALITY integerMatch ORDERING integerOrderingMatch "
                                "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27", True),
        "pamPasskeyLastUsedAt": ("EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch "
                                 "SYNTAX 1.3.6.1.4.1.1466.115.121.1.24", True),
        "pamPasskeyPublicKey": ("EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40", True),
        "pamPasskeyCredentialID": ("EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26", True),
        "pamPasskeyUserName": ("EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15", True),
        "pamPasskeyAAGUID": ("EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1", True),
        "pamPasskeyBackedUp": ("EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7", True),
        "pamPasskeyTransport": ("EQUALITY caseExactIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26", False),
        "pamPasskeyOffer": ("EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15", False),
    }
    for name, (rules, single) in expect.items():
        assert f" {rules}" in attributes[name] and ("SINGLE-VALUE" in attributes[name]) == single, attributes[name]
    assert "SUP top AUXILIARY MUST pamPasskeyHostID" in classes["pamPasskeyHost"]


def test_389ds_file_defines_the_same_schema(directory, tmp_path):
    """99pam_passkey.ldif, loaded into a second slapd as a cn=config schema, yields the same
    definitions as pam_passkey.ldif, but for the one documented difference."""
    ds = (SCHEMA_DIR / "99pam_passkey.ldif").read_text()
    converted = "dn: cn=pam_passkey_389ds,cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: pam_passkey_389ds\n"
    body = re.sub(r"\n ", "", ds.split("cn: schema\n", 1)[1])
    converted += re.sub(r"^attributeTypes:", "olcAttributeTypes:", body, flags=re.M).replace(
        "objectClasses:", "olcObjectClasses:")
    (tmp_path / "389ds.ldif").write_text(converted)
    other = Slapd(suffix=SUFFIX, schemas=())
    try:
        other.start()
        other.config_add(tmp_path / "389ds.ldif")
        for kind in ("attributeTypes", "objectClasses"):
            theirs, ours = subschema(other, kind), subschema(directory, kind)
            assert sorted(theirs) == sorted(ours)
            differ = {n for n in ours if ours[n] != theirs[n]}
            assert differ == ({"pamPasskeyAAGUID"} if kind == "attributeTypes" else set()), \
                [(ours[n], theirs[n]) for n in differ]
        assert "EQUALITY caseIgnoreIA5Match SYNTAX 1.3.6.1.4.1.1466.115.121.1.26" in \
            subschema(other, "attributeTypes")["pamPasskeyAAGUID"]
    finally:
        other.remove()


def test_shipped_files_name_only_the_example_suffix_and_the_documentation_arc():
    for name in ("pam_passkey.ldif", "99pam_passkey.ldif", "pam_passkey-access.ldif"):
        content = re.sub(r"\n# *", " ", (SCHEMA_DIR / name).read_text())
        assert set(re.findall(r"dc=[\w-]+(?:,dc=[\w-]+)*", content)) <= {EXAMPLE_SUFFIX}, name
        oids = set(re.findall(r"\b1\.3\.6\.1\.4\.1\.(\d+)", content))
        assert oids <= {"32473", "1466"}, (name, oids)   # 1466: the standard syntaxes' arc
        if name != "pam_passkey-access.ldif":
            assert "RFC 5612" in content and "Private Enterprise Number" in content


# -- records -----------------------------------------------------------------------------------

def test_a_record_goes_in_with_ldapadd_and_comes_back_unchanged_in_one_search(directory):
    record = put_record(directory, sample_record(unique_user("alice")))
    entries = directory.search(user_dn(record["user"]))
    assert len(entries) == 1 + len(record["credentials"])
    assert record_from_entries(entries) == record
    # Binary values are the bytes WebAuthn made, not their text form.
    c = record["credentials"][0]
    stored = entries[credential_dn(record["user"], c["id"])]
    assert stored["pamPasskeyPublicKey"] == [unb64url(c["publicKey"])]
    assert stored["pamPasskeyState"] == ["active"]
    states = sorted(a["pamPasskeyState"][0] for a in entries.values() if "pamPasskeyState" in a)
    assert states == ["active", "revoked", "suspect"]


def test_user_names_with_dn_and_filter_specials(directory):
    user = unique_user('a,b+c=d\\e"<f>;#(g)*')
    put_record(directory, {"user": user, "credentials": [credential("host-a")]})
    found = directory.search(BASE, f"(pamPasskeyUserName={filter_value(user)})", "pamPasskeyUserName", scope="one")
    assert [text(a["pamPasskeyUserName"][0]) for a in found.values()] == [user]
    assert len(directory.search(user_dn(user))) == 2


def test_user_names_and_credential_ids_are_case_exact(directory):
    user = unique_user("dave")
    c1 = credential("host-a")
    c2 = credential("host-a", id=c1["id"].swapcase())
    put_record(directory, {"user": user, "credentials": [c1, c2]})
    put_record(directory, {"user": user.upper(), "credentials": []})
    assert len(directory.search(user_dn(user), scope="one")) == 2
    hit = directory.search(user_dn(user), f"(pamPasskeyCredentialID={c2['id']})", "pamPasskeyCredentialID")
    assert [a["pamPasskeyCredentialID"] for a in hit.values()] == [[c2["id"]]]
    assert list(directory.search(BASE, f"(pamPasskeyUserName={user.upper()})", "1.1", scope="one")) == [
        user_dn(user.upper())]


def valid_credential_entry(user):
    c = credential("host-a")
    return credential_dn(user, c["id"]), credential_entry(c)


@pytest.mark.parametrize("attribute,value,code", [
    ("pamPasskeySignCount", "12a", INVALID_SYNTAX),
    ("pamPasskeySignCount", "twelve", INVALID_SYNTAX),
    ("pamPasskeySignCount", "1.5", INVALID_SYNTAX),
    ("pamPasskeyAlgorithm", "ES256", INVALID_SYNTAX),
    ("pamPasskeyCreatedAt", "2026-12-01 12:00:00", INVALID_SYNTAX),
    ("pamPasskeyCreatedAt", "20261301000000Z", INVALID_SYNTAX),
    ("pamPasskeyCreatedAt", "1764000000", INVALID_SYNTAX),
    ("pamPasskeyCreatedAt", "100000101000000Z", INVALID_SYNTAX),     # year 10000
    ("pamPasskeyLabel", "", INVALID_SYNTAX),                         # no empty directory strings
    ("pamPasskeyBackedUp", "yes", INVALID_SYNTAX),
    ("pamPasskeyAAGUID", "not-a-uuid", INVALID_SYNTAX),
    ("pamPasskeyKind", "plätform", INVALID_SYNTAX),
    ("pamPasskeySignCount", ["1", "2"], CONSTRAINT_VIOLATION),
    ("pamPasskeyPublicKey", None, OBJECT_CLASS_VIOLATION),
    ("pamPasskeyHostID", None, OBJECT_CLASS_VIOLATION),
])
def test_the_server_refuses_what_the_schema_does_not_allow(directory, attribute, value, code):
    user = unique_user("eve")
    directory.add(ldif(user_dn(user), {"objectClass": ["pamPasskeyUser"], "pamPasskeyUserName": [user]}))
    dn, attrs = valid_credential_entry(user)
    if value is None:
        del attrs[attribute]
    else:
        attrs[attribute] = value if isinstance(value, list) else [value]
    p = directory.add(ldif(dn, attrs), check=False)
    assert rc(p) == code, p.stderr
    assert directory.search(user_dn(user), scope="one") == {}
    # The same entry with the valid value goes in: the refusal was about that one value.
    dn, attrs = valid_credential_entry(user)
    directory.add(ldif(dn, attrs))


def test_integers_and_times_are_ordered(directory):
    user = unique_user("fay")
    creds = [credential("host-a", signCount=n, lastUsed={"time": 1_764_000_000 + 86_400 * n, "host": "host-a"})
             for n in (2, 10, 300)]
    put_record(directory, {"user": user, "credentials": creds})

    def ids(f):
        found = directory.search(user_dn(user), f, "pamPasskeyCredentialID")
        return sorted(a["pamPasskeyCredentialID"][0] for a in found.values())

    assert ids("(pamPasskeySignCount>=10)") == sorted(c["id"] for c in creds[1:])   # numeric, not "10" < "2"
    # INTEGER has no bound: a sign count past UInt32 goes in, and the reader must refuse it.
    big = credential("host-a", signCount=2 ** 32)
    directory.add(ldif(credential_dn(user, big["id"]), credential_entry(big)))
    assert ids(f"(pamPasskeyLastUsedAt<={gtime(1_764_000_000 + 86_400 * 10)})") == sorted(c["id"] for c in creds[:2])
    # GeneralizedTime is compared as a time: another form of the same instant matches.
    assert ids(f"(pamPasskeyLastUsedAt={gtime(1_764_000_000 + 86_400 * 2)[:-1]}.000Z)") == [creds[0]["id"]]


# -- how hosts write -------------------------------------------------------------------------

def test_a_sign_count_update_is_a_compare_and_swap(directory):
    user = unique_user("gil")
    c = credential("host-a", signCount=5)
    put_record(directory, {"user": user, "credentials": [c]})
    dn = credential_dn(user, c["id"])
    def swap(old, new):
        return modify(directory, HOST_A, dn, "delete: pamPasskeySignCount", f"pamPasskeySignCount: {old}",
                      "-", "add: pamPasskeySignCount", f"pamPasskeySignCount: {new}")

    assert rc(swap(5, 6)) == 0
    stale = swap(5, 7)   # a second host that read 5 too
    assert rc(stale) == NO_SUCH_ATTRIBUTE, stale.stderr
    assert directory.search(dn, "(objectClass=*)", "pamPasskeySignCount")[dn]["pamPasskeySignCount"] == ["6"]


def test_offers_from_several_hosts_and_the_unanswered_count(directory):
    user = unique_user("hal")
    put_record(directory, {"user": user, "credentials": [], "offers": {"recent": [], "unansweredInARow": 0}})
    dn = user_dn(user)
    offer = {"time": 1_764_000_000, "hostName": "host-a", "service": "login", "answer": "unanswered"}
    values = [offer_value(offer, secrets.token_hex(8)), offer_value(offer, secrets.token_hex(8))]
    for who, v in ((HOST_A, values[0]), (HOST_B, values[1])):
        assert rc(modify(directory, who, dn, "add: pamPasskeyOffer", f"pamPasskeyOffer: {v}")) == 0
        assert rc(modify(directory, who, dn, "increment: pamPasskeyUnansweredOffers",
                         "pamPasskeyUnansweredOffers: 1")) == 0
    # The same value twice is one value: the id field is what keeps equal offers apart.
    again = modify(directory, HOST_B, dn, "add: pamPasskeyOffer", f"pamPasskeyOffer: {values[0]}")
    assert rc(again) == TYPE_OR_VALUE_EXISTS, again.stderr
    record = record_from_entries(directory.search(dn))
    assert record["offers"] == {"recent": [offer, offer], "unansweredInARow": 2}


# -- access rules ----------------------------------------------------------------------------

def two_hosts_record(directory):
    """A user with one credential bound to host-a and one bound to host-b."""
    user = unique_user("ivy")
    a, b = credential("host-a"), credential("host-b")
    put_record(directory, {"user": user, "credentials": [a, b]})
    return user, credential_dn(user, a["id"]), credential_dn(user, b["id"])


def last_use(when, host):
    return ["replace: pamPasskeyLastUsedAt", f"pamPasskeyLastUsedAt: {gtime(when)}", "-",
            "replace: pamPasskeyLastUsedHost", f"pamPasskeyLastUsedHost: {host}", "-",
            "replace: pamPasskeySignCount", "pamPasskeySignCount: 3"]


def test_a_host_writes_the_sign_count_and_last_use_of_its_own_credentials_only(directory):
    user, a, b = two_hosts_record(directory)
    assert rc(modify(directory, HOST_A, a, *last_use(1_764_000_000, "host-a"))) == 0
    assert rc(modify(directory, HOST_B, b, *last_use(1_764_000_000, "host-b"))) == 0
    p = modify(directory, HOST_B, a, *last_use(1_764_000_001, "host-b"))
    assert rc(p) == INSUFFICIENT_ACCESS, p.stderr
    # The record of a refused signature whose counter went backwards, likewise.
    regression = ["add: pamPasskeyRegressionAt", f"pamPasskeyRegressionAt: {gtime(1_764_000_002)}", "-",
                  "add: pamPasskeyRegressionHost", "pamPasskeyRegressionHost: host-a", "-",
                  "add: pamPasskeyRegressionStored", "pamPasskeyRegressionStored: 3", "-",
                  "add: pamPasskeyRegressionReceived", "pamPasskeyRegressionReceived: 1"]
    assert rc(modify(directory, HOST_B, a, *regression)) == INSUFFICIENT_ACCESS
    assert rc(modify(directory, HOST_A, a, *regression)) == 0
    stored = directory.search(a, "(objectClass=*)", "pamPasskeyLastUsedHost", "pamPasskeySignCount")[a]
    assert stored == {"pamPasskeyLastUsedHost": ["host-a"], "pamPasskeySignCount": ["3"]}


def test_every_host_counts_a_security_keys_signatures(directory):
    """A security key (kind roaming) signs on any host: every host may write its counter,
    last use and refused-counter record, and nothing else of it."""
    user = unique_user("kay")
    key = credential("host-a", kind="roaming")
    put_record(directory, {"user": user, "credentials": [key]})
    dn = credential_dn(user, key["id"])
    assert rc(modify(directory, HOST_B, dn, *last_use(1_764_000_000, "host-b"))) == 0
    regression = ["add: pamPasskeyRegressionAt", f"pamPasskeyRegressionAt: {gtime(1_764_000_002)}", "-",
                  "add: pamPasskeyRegressionHost", "pamPasskeyRegressionHost: host-b"]
    assert rc(modify(directory, HOST_B, dn, *regression)) == 0
    for change in (["replace: pamPasskeyHostID", "pamPasskeyHostID: " + "0" * 32],
                   ["replace: pamPasskeyLabel", "pamPasskeyLabel: mine now"],
                   ["delete: pamPasskeyState", "pamPasskeyState: active", "-", "add: pamPasskeyState", "pamPasskeyState: revoked"]):
        p = modify(directory, HOST_B, dn, *change)
        assert rc(p) == INSUFFICIENT_ACCESS, (change, p.stderr)
    stored = directory.search(dn, "(objectClass=*)", "pamPasskeyLastUsedHost", "pamPasskeySignCount", "pamPasskeyState")[dn]
    assert stored == {"pamPasskeyLastUsedHost": ["host-b"], "pamPasskeySignCount": ["3"], "pamPasskeyState": ["active"]}


def test_a_host_reads_every_credential_and_may_not_rebind_its_own(directory):
    user, a, b = two_hosts_record(directory)
    p = search_as(directory, HOST_B, user_dn(user), "pamPasskeyHostName")
    assert rc(p) == 0 and sorted(text(v[0]) for v in (e["pamPasskeyHostName"] for e in parse_ldif(p.stdout).values()
                                                      if "pamPasskeyHostName" in e)) == ["host-a", "host-b"]
    for change in (["replace: pamPasskeyHostID", f"pamPasskeyHostID: {HOST_B.id}"],
                   ["replace: pamPasskeyPublicKey", "pamPasskeyPublicKey: AAAA"],
                   ["replace: pamPasskeyKind", "pamPasskeyKind: roaming"]):
        assert rc(modify(directory, HOST_A, a, *change)) == INSUFFICIENT_ACCESS, change
    # Nor make itself another host: its own account is not writable by it.
    assert rc(modify(directory, HOST_A, HOST_A.dn, "replace: pamPasskeyHostID",
                     f"pamPasskeyHostID: {HOST_B.id}")) == INSUFFICIENT_ACCESS


def test_a_host_creates_credentials_bound_to_itself_only(directory):
    user = unique_user("jo")
    directory.add(ldif(user_dn(user), {"objectClass": ["pamPasskeyUser"], "pamPasskeyUserName": [user]}))
    planted = credential("host-a")
    p = directory.add(ldif(credential_dn(user, planted["id"]), credential_entry(planted)), HOST_B.dn, HOST_B.password,
                      check=False)
    assert rc(p) == INSUFFICIENT_ACCESS, p.stderr
    own = credential("host-b")
    directory.add(ldif(credential_dn(user, own["id"]), credential_entry(own)), HOST_B.dn, HOST_B.password)
    assert list(directory.search(user_dn(user), "(objectClass=*)", "1.1", scope="one")) == [
        credential_dn(user, own["id"])]


def test_no_host_deletes_an_entry_and_an_admin_may(directory):
    user, a, b = two_hosts_record(directory)
    for who, dn in ((HOST_A, a), (HOST_B, a), (HOST_A, user_dn(user))):
        p = directory.delete(dn, who.dn, who.password, check=False)
        assert rc(p) == INSUFFICIENT_ACCESS, (who.name, dn, p.stderr)
    assert len(directory.search(user_dn(user))) == 3
    directory.delete(a, ADMIN.dn, ADMIN.password)
    assert len(directory.search(user_dn(user))) == 2


def revoke(directory, who, dn, old="active"):
    return modify(directory, who, dn, "delete: pamPasskeyState", f"pamPasskeyState: {old}", "-",
                  "add: pamPasskeyState", "pamPasskeyState: revoked", "-",
                  "add: pamPasskeyRevokedAt", f"pamPasskeyRevokedAt: {gtime(1_764_000_000)}", "-",
                  "add: pamPasskeyRevokedBy", f"pamPasskeyRevokedBy: {who.name}")


def test_a_host_revokes_its_own_credential_and_cannot_take_it_back(directory):
    user, a, b = two_hosts_record(directory)
    assert rc(revoke(directory, HOST_B, a)) == INSUFFICIENT_ACCESS
    assert rc(revoke(directory, HOST_A, a)) == 0
    for change in (["delete: pamPasskeyState", "pamPasskeyState: revoked", "-", "add: pamPasskeyState",
                    "pamPasskeyState: active"],
                   ["replace: pamPasskeyState", "pamPasskeyState: active"],
                   ["delete: pamPasskeyState"],
                   ["delete: pamPasskeyRevokedAt"],
                   ["replace: pamPasskeyRevokedBy", "pamPasskeyRevokedBy: nobody"]):
        p = modify(directory, HOST_A, a, *change)
        assert rc(p) == INSUFFICIENT_ACCESS, (change, p.stderr)
    assert directory.search(a, "(objectClass=*)", "pamPasskeyState")[a] == {"pamPasskeyState": ["revoked"]}
    # A host marks its own credential suspect; a revocation naming a stale state changes nothing.
    def mark(old, new):
        return modify(directory, HOST_B, b, "delete: pamPasskeyState", f"pamPasskeyState: {old}",
                      "-", "add: pamPasskeyState", f"pamPasskeyState: {new}")

    assert rc(mark("active", "suspect")) == 0
    assert rc(revoke(directory, HOST_B, b, old="active")) == NO_SUCH_ATTRIBUTE
    assert directory.search(b, "(objectClass=*)", "pamPasskeyState")[b] == {"pamPasskeyState": ["suspect"]}
    # The limit of value-based rules: suspect is not final (only revoked is).
    assert rc(mark("suspect", "active")) == 0 and rc(mark("active", "suspect")) == 0
    # suspect -> revoked is a revocation too.
    assert rc(revoke(directory, HOST_B, b, old="suspect")) == 0
    assert rc(mark("revoked", "active")) == INSUFFICIENT_ACCESS
    # Admins do the rest.
    p = directory.run("ldapmodify", "-x", "-H", directory.uri, "-D", ADMIN.dn, "-w", ADMIN.password, check=False,
                      input=f"dn: {a}\nchangetype: modify\nreplace: pamPasskeyState\npamPasskeyState: active\n-\n"
                            "delete: pamPasskeyRevokedAt\n-\ndelete: pamPasskeyRevokedBy\n")
    assert rc(p) == 0, p.stderr


def test_hosts_create_user_entries_and_add_offers_to_any(directory):
    user = unique_user("kim")
    directory.add(ldif(user_dn(user), {"objectClass": ["pamPasskeyUser"], "pamPasskeyUserName": [user]}),
                  HOST_B.dn, HOST_B.password)
    for who in (HOST_A, HOST_C):
        offer = offer_value({"time": 1_764_000_000, "hostName": who.name, "service": "sshd", "answer": "declined"},
                            secrets.token_hex(8))
        p = modify(directory, who, user_dn(user), "add: pamPasskeyOffer", f"pamPasskeyOffer: {offer}",
                   "-", "replace: pamPasskeyLastDeclined", f"pamPasskeyLastDeclined: {gtime(1_764_000_000)}")
        assert rc(p) == 0, p.stderr
        last = offer
    # Pruning an old offer is a delete of that value; a second host pruning it too finds it gone.
    assert rc(modify(directory, HOST_B, user_dn(user), "delete: pamPasskeyOffer", f"pamPasskeyOffer: {last}")) == 0
    assert rc(modify(directory, HOST_A, user_dn(user), "delete: pamPasskeyOffer",
                     f"pamPasskeyOffer: {last}")) == NO_SUCH_ATTRIBUTE
    # Two hosts creating the same user's entry: the second is told it exists.
    again = directory.add(ldif(user_dn(user), {"objectClass": ["pamPasskeyUser"], "pamPasskeyUserName": [user]}),
                          HOST_A.dn, HOST_A.password, check=False)
    assert rc(again) == ALREADY_EXISTS, again.stderr
    # ... but not rename the user.
    assert rc(modify(directory, HOST_A, user_dn(user), "replace: pamPasskeyUserName",
                     "pamPasskeyUserName: mallory")) == INSUFFICIENT_ACCESS


def test_anonymous_clients_and_other_accounts_read_nothing(directory):
    user, a, b = two_hosts_record(directory)
    for who in (None, CAROL):
        for base in (BASE, user_dn(user), a, HOSTS, HOST_A.dn):
            p = search_as(directory, who, base)
            assert rc(p) in (0, NO_SUCH_OBJECT) and parse_ldif(p.stdout) == {}, (who, base, p.stdout)
        p = modify(directory, CAROL, a, "replace: pamPasskeySignCount", "pamPasskeySignCount: 99")
        assert rc(p) == INSUFFICIENT_ACCESS
    # Control: the same search as a host sees the entries.
    assert len(parse_ldif(search_as(directory, HOST_B, user_dn(user)).stdout)) == 3
    # Hosts do not read each other's accounts (nor their passwords).
    assert parse_ldif(search_as(directory, HOST_B, HOST_A.dn).stdout) == {}


def test_a_host_bound_with_sasl_external_over_ldapi(directory):
    user = unique_user("lee")
    own, other = credential("host-c"), credential("host-a")
    put_record(directory, {"user": user, "credentials": [own, other]})
    as_c = ["-Q", "-Y", "EXTERNAL", "-H", directory.ldapi]
    who = directory.run("ldapwhoami", *as_c, user=(EXTERNAL_UID, NOBODY_GID))
    assert who.stdout.strip() == f"dn:{HOST_C.dn}"
    change = "changetype: modify\nreplace: pamPasskeySignCount\npamPasskeySignCount: 4\n"
    ok = directory.run("ldapmodify", *as_c, input=f"dn: {credential_dn(user, own['id'])}\n{change}",
                       user=(EXTERNAL_UID, NOBODY_GID), check=False)
    assert rc(ok) == 0, ok.stderr
    refused = directory.run("ldapmodify", *as_c, input=f"dn: {credential_dn(user, other['id'])}\n{change}",
                            user=(EXTERNAL_UID, NOBODY_GID), check=False)
    assert rc(refused) == INSUFFICIENT_ACCESS, refused.stderr


# -- a directory that does not answer --------------------------------------------------------

@pytest.fixture
def lone_slapd():
    s = Slapd(suffix=SUFFIX)
    try:
        yield s.start()
    finally:
        s.remove()


def timed_search(uri, *options, timeout=10):
    argv = ["ldapsearch", "-x", "-H", uri, *options, "-LLL", "-s", "base", "-b", "", "(objectClass=*)", "1.1"]
    start = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=tool_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start
    return p, time.monotonic() - start


@pytest.mark.parametrize("transport", ["tcp", "ldapi"])
def test_a_hung_slapd_fails_a_search_after_the_result_timeout(lone_slapd, transport):
    uri = lone_slapd.uri if transport == "tcp" else lone_slapd.ldapi
    lone_slapd.pause()
    try:
        # Connecting still works (the kernel completes it from the listen backlog): the
        # network timeout alone never fires, and the search waits for as long as we let it.
        p, elapsed = timed_search(uri, "-o", "nettimeout=1", timeout=1.6)
        assert p is None, (p.stderr, elapsed)
        # With a timeout for results (LDAP_OPT_TIMEOUT) it fails after that second.
        p, elapsed = timed_search(uri, "-o", "nettimeout=1", "-o", "timeout=1")
        assert p is not None and p.returncode != 0 and "Timed out" in p.stderr, (p and p.stderr)
        assert 0.95 <= elapsed < 2.0, elapsed
    finally:
        lone_slapd.resume()
    p, elapsed = timed_search(uri, "-o", "nettimeout=1", "-o", "timeout=1")
    assert p.returncode == 0, p.stderr


def test_a_stopped_slapd_is_refused_at_once(lone_slapd):
    pid = lone_slapd.pid
    lone_slapd.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    for uri in (lone_slapd.uri, lone_slapd.ldapi):
        p, elapsed = timed_search(uri, "-o", "nettimeout=1", "-o", "timeout=1")
        assert p.returncode == 255 and "Can't contact LDAP server" in p.stderr, p.stderr
        assert elapsed < 0.9, elapsed   # not the 1 s timeout: refused at once


# -- the README's examples ---------------------------------------------------------------------

def readme_blocks():
    """The indented LDIF examples of Packaging/ldap/README, each as LDIF text."""
    readme = (SCHEMA_DIR / "README").read_text()
    blocks = re.findall(r"((?:^  \S.*\n)+)", readme, re.M)
    return [textwrap.dedent(b) for b in blocks if b.lstrip().startswith(("dn:", "ipaPassKey:"))]


def test_the_readme_examples_load_as_written(tmp_path):
    blocks = readme_blocks()
    config = [b for b in blocks if "cn=config" in b]
    data = [b for b in blocks if b.startswith("dn:") and b not in config]
    # The index, and the rule mapping Kerberos host principals to host accounts.
    assert len(config) == 2 and len(data) == 5, blocks
    s = Slapd(suffix=SUFFIX)
    try:
        s.start()
        for block in config:
            s.config_modify(block)
        s.add(ldif(SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": ["pam-passkey"], "o": ["test"]}))
        # Parents first: the README shows the entries in the order a reader needs them.
        for b in sorted(data, key=lambda b: b.splitlines()[0].count(",")):
            s.add(b.replace(EXAMPLE_SUFFIX, SUFFIX))
        entries = s.search(BASE)
        record = record_from_entries(entries)
        [c] = record["credentials"]
        assert (record["user"], c["hostName"], c["signCount"]) == ("alice", "host-a", 17)
        assert record["offers"]["recent"] == [{"time": epoch("20261124160800Z"), "hostName": "host-b",
                                               "service": "sshd", "answer": "accepted"}]
        index = s.run("ldapsearch", "-Q", "-Y", "EXTERNAL", "-H", s.ldapi, "-LLL", "-b", "olcDatabase={1}mdb,cn=config",
                      "-s", "base", "olcDbIndex").stdout
        assert "olcDbIndex: pamPasskeyCredentialID,pamPasskeyState eq" in index
        rules = s.run("ldapsearch", "-Q", "-Y", "EXTERNAL", "-H", s.ldapi, "-LLL", "-o", "ldif-wrap=no", "-b", "cn=config",
                      "-s", "base", "olcAuthzRegexp").stdout
        assert 'olcAuthzRegexp: {0}"uid=host/([^.,/]+)\\.example\\.com,cn=gssapi,cn=auth" "cn=$1,ou=hosts,dc=example,dc=com"' in rules, rules
    finally:
        s.remove()
    # The ipaPassKey sample is that credential: its id, and its key in SubjectPublicKeyInfo form.
    from cryptography.hazmat.primitives.serialization import load_der_public_key
    from fido2 import cbor
    [ipa] = [b for b in blocks if b.startswith("ipaPassKey:")]
    cred_id, spki = ipa.split("passkey:", 1)[1].strip().split(",")
    assert base64.b64decode(cred_id) == unb64url(c["id"])
    point = load_der_public_key(base64.b64decode(spki)).public_numbers()
    cose = cbor.decode(unb64url(c["publicKey"]))
    assert (cose[1], cose[3], cose[-1]) == (2, -7, 1)   # EC2, ES256, P-256
    assert (int.from_bytes(cose[-2], "big"), int.from_bytes(cose[-3], "big")) == (point.x, point.y)
