"""Load: 50 processes signing in at once through real libpam, the real module and helper, on
six hosts sharing one registry, for LOAD_SECONDS (default 60). Passkey logins, password
fallbacks (a cancelled PIN, a declined offer) and appends, mixed at random. Afterwards:
every login succeeded as expected, every passkey created is in the registry and in its
host's keyring, every login and answer reached the history, every file parses, nothing
was left half-written, and the module logged no error."""
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

WORKERS = 50
HOSTS = ["host-a", "host-b", "host-c", "host-d", "host-e", "host-f"]
USERS = 20
HERE = pathlib.Path(__file__).resolve().parent


def pin_for(user, host):
    return str(int(hashlib.sha256(f"{user}@{host}".encode()).hexdigest(), 16) % 900000 + 100000)


def json_files(root: pathlib.Path):
    return [p for p in root.rglob("*") if p.is_file() and p.name.endswith(".json")]


def test_fifty_concurrent_logins(fleet, make_account, syslog, capsys):
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    # Limits that would otherwise stop the offers after a few answers: this test wants
    # appends and declines all along, and PIN cancels without the snooze.
    hosts = {name: fleet.host(name, append_snooze_days=0, append_max_offers=100, cancel_threshold=100) for name in HOSTS}
    users = [make_account("load") for _ in range(USERS)]
    plan = {
        "hosts": {name: str(h.confdir) for name, h in hosts.items()},
        "users": {u.name: u.password for u in users},
        "pins": {f"{u.name}@{h}": pin_for(u.name, h) for u in users for h in HOSTS},
    }

    start = time.monotonic()
    plan["deadline"] = start + seconds
    procs = []
    try:
        for seed in range(WORKERS):
            p = subprocess.Popen([sys.executable, str(HERE / "loadworker.py"), str(seed)], cwd=HERE,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(p)
            p.stdin.write(json.dumps(plan))
            p.stdin.close()
            p.stdin = None  # communicate() must not flush it again
        reports = []
        for p in procs:
            out, err = p.communicate(timeout=seconds + 300)
            assert p.returncode == 0, f"worker exited with {p.returncode}: {err[-2000:]}"
            reports.append(json.loads(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    elapsed = time.monotonic() - start

    errors = [e for r in reports for e in r["errors"]]
    assert sum(r["error_count"] for r in reports) == 0, "\n".join(errors[:10])
    counts = {k: sum(r["counts"][k] for r in reports) for k in ("passkey", "append", "fallback")}
    total = sum(counts.values())
    with capsys.disabled():  # the throughput belongs in make check's output
        print(f"\nload: {total} logins by {WORKERS} processes in {elapsed:.1f} s = {total / elapsed:.1f} logins/s "
              f"(passkey {counts['passkey']}, password fallback {counts['fallback']}, append {counts['append']})")
    assert all(counts.values()), counts

    def tally(field):
        out = {}
        for r in reports:
            for key, n in r[field].items():
                out[key] = out.get(key, 0) + n
        return out

    created, passkey_logins = tally("created"), tally("passkey_logins")
    for u in users:
        record = fleet.record(u)
        for name, h in hosts.items():
            key = f"{u.name}@{name}"
            # Every passkey created is in the shared registry, once: no concurrent writer lost one.
            ids = sorted(c["id"] for c in record["credentials"] if c["hostName"] == name)
            assert len(ids) == created.get(key, 0), (key, ids, created.get(key, 0))
            # …and in that host's keyring, the same ones.
            keyring = h.state / "authenticator" / "software" / f"{u.name}.json"
            held = sorted(c["credentialID"] for c in json.loads(keyring.read_text())["credentials"]) if keyring.exists() else []
            assert held == ids, key
            # Each passkey login and each accepted offer reached this host's history.
            history_file = h.state / "history" / f"{u.name}.json"
            counters = json.loads(history_file.read_text())["counters"] if history_file.exists() else {}
            assert counters.get("passkeyLogins", 0) == passkey_logins.get(key, 0), key
            assert counters.get("accepted", 0) == created.get(key, 0), key
            # Sign counters only ever recorded what was verified; uses carry this host's name.
            for c in record["credentials"]:
                if c["hostName"] == name and c.get("lastUsed"):
                    assert c["lastUsed"]["host"] == name

    # Every file parses; no temporary file was left behind by a writer.
    for root in [fleet.registry] + [h.state for h in hosts.values()]:
        for f in json_files(root):
            json.loads(f.read_text())
        leftovers = [p.name for p in root.rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == [], leftovers
    # One decision line per login reached syslog (a passkey prompt's outcome — success, or
    # "cancelled" — is a second line), and not one error.
    lines = [l for l in syslog.read() if "pam_passkey(login:auth): login user=" in l]
    decisions = [l for l in lines if "decision=passkey " in l or ("decision=step_aside " in l and "reason=cancelled" not in l)]
    assert len(decisions) == total, (len(decisions), total)
    assert syslog.errors() == [], syslog.errors()[:10]
