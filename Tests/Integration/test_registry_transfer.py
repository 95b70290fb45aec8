"""passkeyctl registry export | import: a files registry moved into Debian's slapd (shipped
schema and access rules) and back through pam_passkey_directory, checked file by file."""
import json
import os
import random
import subprocess

import ldaprecords
from fleet import PASSWORD, pin_prompt
from ldapfleet import BASE, SUFFIX, directory_record, ldap_host, start_directory
from ldaprecords import ldif

PIN = "482913"
ADMINS = f"cn=pam_passkey admins,ou=groups,{SUFFIX}"
ADMIN = f"cn=registry-admin,ou=people,{SUFFIX}"


def add_admin(directory, where):
    """A member of the shipped rules' admin group, and a root-only file with its password."""
    password = os.urandom(12).hex()
    out = "".join(ldif(f"ou={ou},{SUFFIX}", {"objectClass": ["organizationalUnit"], "ou": [ou]}) for ou in ("people", "groups"))
    out += ldif(ADMIN, {"objectClass": ["person", "simpleSecurityObject"], "cn": ["registry-admin"], "sn": ["admin"],
                        "userPassword": [password]})
    out += ldif(ADMINS, {"objectClass": ["groupOfNames"], "cn": ["pam_passkey admins"], "member": [ADMIN]})
    directory.add(out)
    path = where / "admin-password"
    path.write_text(password + "\n")
    os.chmod(path, 0o600)
    return path


def registry_ctl(host, *args, timeout=600):
    return subprocess.run([str(host.build_dir / "passkeyctl"), "registry", *args, "--conf", str(host.conf)],
                          capture_output=True, text=True, timeout=timeout)


def written_as_the_registry_writes(record: dict) -> bytes:
    """The files registry's format: keys sorted, two spaces of indent, UTF-8, a final newline.
    (A record the product wrote itself is in the same registry, so a difference shows.)"""
    return (json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def varied_record(user: str, rng: random.Random) -> dict:
    """A record like the registry's: one to three credentials of either kind, some used,
    revoked or with a refused counter; an offer log or none; names with spaces and UTF-8."""
    created = 1_760_000_000 + rng.randrange(10_000_000)
    credentials = []
    for i in range(rng.randint(1, 3)):
        host = rng.choice(["host-a", "host-b", "büro-7", "lab host"])
        fields = {"signCount": rng.randrange(1000)}
        if rng.random() < 0.6:
            fields["lastUsed"] = {"time": created + 5000, "host": host}
        if rng.random() < 0.3:
            fields["label"] = f"{user}'s passkey on {host}"
        if rng.random() < 0.15:
            fields.update(revoked=True, revokedAt=created + 9000, revokedBy=rng.choice(["root on host-a", "replaced on host-b"]))
        if rng.random() < 0.1:
            fields["signCountRegression"] = {"time": created + 7000, "host": host, "stored": 40, "received": 3}
        kind = "roaming" if rng.random() < 0.2 else "platform"
        # Two of one second: the order must survive too.
        credentials.append(ldaprecords.credential(host, kind=kind, created=created + (i // 2) * 3600, **fields))
    # The registry keeps them by creation time, then id (UserRecord.add).
    credentials.sort(key=lambda c: (c["created"]["time"], c["id"]))
    record = {"schemaVersion": 1, "user": user, "credentials": credentials}
    if rng.random() < 0.5:
        recent = [{"time": created + 60 * (j // 2), "hostName": rng.choice(["host-a", "host c"]),
                   "service": rng.choice(["login", "sshd", "su l"]),
                   "answer": rng.choice(["accepted", "declined", "unanswered", "never"])} for j in range(rng.randint(0, 4))]
        record["offers"] = {"recent": recent, "unansweredInARow": rng.randrange(3)}
        if rng.random() < 0.5:
            record["offers"]["lastDeclined"] = created + 120
    return record


def test_a_files_registry_of_1000_users_goes_into_the_directory_and_back_byte_equal(fleet, make_account, tmp_path):
    directory = start_directory()
    try:
        password_file = add_admin(directory, tmp_path)
        # Two users the product itself wrote (a passkey made at a password login; an offer
        # declined), beside 998 written in the registry's format.
        alice, bob = make_account("alice"), make_account("bob")
        a = fleet.host("host-a")
        assert a.login(alice, [alice.password, "y", PIN, PIN]).ok
        r = a.login(bob, [bob.password, "n"])
        assert r.ok and r.transcript[0] == PASSWORD, r
        rng = random.Random(14)
        for i in range(998):
            user = f"user{i:04d}"
            (fleet.registry / f"{user}.json").write_bytes(written_as_the_registry_writes(varied_record(user, rng)))
        originals = {p.name: p.read_bytes() for p in fleet.registry.glob("*.json")}
        assert len(originals) == 1000
        records = [json.loads(b) for b in originals.values()]
        n_credentials = sum(len(r["credentials"]) for r in records)
        n_offers = sum(len(r.get("offers", {}).get("recent", [])) for r in records)

        # The registry stays files on this host: export needs only where the directory is.
        a.set_policy(ldap_uri=directory.uri, ldap_base=BASE, directory_program=str(a.build_dir / "pam_passkey_directory"))
        admin = ["--bind-dn", ADMIN, "--password-file", str(password_file)]
        r = registry_ctl(a, "export", *admin)
        assert r.returncode == 0, r
        assert r.stdout.startswith(f"exported 1000 users ({n_credentials} credentials, {n_offers} offers) from {fleet.registry} "), r.stdout
        users = directory.search(BASE, "(objectClass=pamPasskeyUser)", "pamPasskeyUserName", scope="one")
        assert len(users) == 1000
        assert directory_record(directory, alice) == json.loads(originals[f"{alice.name}.json"])
        assert directory_record(directory, "user0007") == json.loads(originals["user0007.json"])

        # Again (as after an interruption): nothing is added twice.
        r = registry_ctl(a, "export", *admin)
        assert r.returncode == 0 and "(0 credentials, 0 offers)" in r.stdout and "1000 already there" in r.stdout, r
        assert directory_record(directory, "user0007") == json.loads(originals["user0007.json"])

        # A host of the fleet (bound as itself, registry = ldap) caches all 1,000: more than
        # slapd's default size limit (500), lifted for hosts by the shipped rules.
        b = ldap_host(fleet, directory, "host-b")
        r = subprocess.run([str(b.build_dir / "passkeyctl"), "sync", "--conf", str(b.conf)], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0 and "refreshed 1000 users" in r.stdout, r
        assert len(list(b.cache.glob("*.json"))) == 1000

        # Back into an empty files registry: the same bytes, file by file.
        back = tmp_path / "registry-back"
        back.mkdir(mode=0o755)
        r = registry_ctl(a, "import", "--dir", str(back), *admin)
        assert r.returncode == 0, r
        assert r.stdout.startswith(f"imported 1000 users ({n_credentials} credentials, {n_offers} offers) "), r.stdout
        copies = {p.name: p.read_bytes() for p in back.glob("*.json")}
        assert set(copies) == set(originals)
        differing = sorted(name for name in originals if copies[name] != originals[name])
        assert differing == [], differing[:3]
        assert {oct(os.stat(back / name).st_mode & 0o777) for name in copies} == {"0o644"}

        # Again: the same records are left alone; one that differs is refused and named,
        # and nothing else changes.
        changed = json.loads(copies["user0001.json"])
        changed["credentials"][0]["label"] = "edited by hand"
        (back / "user0001.json").write_bytes(written_as_the_registry_writes(changed))
        r = registry_ctl(a, "import", "--dir", str(back), "--json", *admin)
        assert r.returncode == 1, r
        assert f"{back}/user0001.json exists and differs from the directory's record; move it aside to import it" in r.stderr, r
        assert "999 already there" in r.stderr, r
        assert json.loads((back / "user0001.json").read_text())["credentials"][0]["label"] == "edited by hand"
        assert (back / "user0002.json").read_bytes() == originals["user0002.json"]

        # The imported registry is one the module signs in from: alice's PIN on host-a.
        a.set_policy(registry_dir=str(back))
        r = a.login(alice, [PIN])
        assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    finally:
        directory.remove()


def test_a_host_bound_as_itself_exports_only_its_own_credentials(fleet, make_account, tmp_path):
    """Without an administrator's bind the access rules hold: host-b may create alice's user
    entry, but not the credential bound to host-a; the run names what was refused."""
    directory = start_directory()
    try:
        alice = make_account("alice")
        a = fleet.host("host-a")
        assert a.login(alice, [alice.password, "y", PIN, PIN]).ok
        b = ldap_host(fleet, directory, "host-b")
        r = registry_ctl(b, "export", "--dir", str(fleet.registry))
        assert r.returncode == 1, r
        assert f"1 refused: {alice.name}: " in r.stderr and "Insufficient access" in r.stderr, r
        assert directory_record(directory, alice)["credentials"] == []
        r = registry_ctl(b, "import", "--dir", "registry")
        assert r.returncode == 2 and "--dir needs an absolute path" in r.stderr, r
    finally:
        directory.remove()
