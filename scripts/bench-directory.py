#!/usr/bin/env python3
"""Figures for registry = ldap (run as root after `make build`, with .venv-test's python):

    .venv-test/bin/python scripts/bench-directory.py [RUNS]

One process drives real libpam (pamdriver, as the integration tests do) on simulated hosts
(fleet.py, ldapfleet.py) against Debian's slapd on 127.0.0.1: a passkey login (PIN) and a
step aside (a user whose passkey is on another host), each as the median of RUNS, over the
files backend, over the directory with a fresh cache (no contact), and with a stale cache
(registry_refresh = 0s: one `refresh` run per login); then one `pam_passkey_directory
refresh USER` with 100 and with 100,000 users in the directory (loaded with slapadd).
"""
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Integration"))

from accounts import Account  # noqa: E402
from fleet import Fleet  # noqa: E402
import ldapfleet  # noqa: E402
from ldaprecords import ldif  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
BUILD = pathlib.Path(os.environ.get("PAM_PASSKEY_BUILD", ROOT / ".build" / "release"))
PIN = "482913"


def median_ms(f, runs=RUNS):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def logins(a, b, alice, bob):
    """a: alice enrolled there; b: a host where bob's passkey is not (bob enrolled on a)."""
    def pin():
        r = a.login(alice, [PIN])
        assert r.ok, r

    def aside():
        r = b.login(bob, [bob.password, "n"])
        assert r.ok, r
    return pin, aside


def interleaved(configs, runs=RUNS):
    """One run of every configuration in turn, RUNS times: a machine whose load drifts (2
    shared cores) then shifts every configuration alike. Medians in ms."""
    times = {name: ([], []) for name, _ in configs}
    for _ in range(runs):
        for name, (pin, aside) in configs:
            for f, out in ((pin, times[name][0]), (aside, times[name][1])):
                t = time.perf_counter()
                f()
                out.append((time.perf_counter() - t) * 1000)
    return [(name, statistics.median(p), statistics.median(s)) for name, (p, s) in times.items()]


def main():
    accounts = [Account("alice"), Account("bob")]
    alice, bob = accounts
    directory = None
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-dir-"))
    os.chmod(root, 0o755)
    try:
        (root / "files").mkdir()
        fleet = Fleet(root / "files", BUILD)
        fa, fb = fleet.host("host-a"), fleet.host("host-b")
        directory = ldapfleet.start_directory()
        (root / "ldap").mkdir()
        fleet = Fleet(root / "ldap", BUILD)
        la, lb = ldapfleet.ldap_host(fleet, directory, "host-a"), ldapfleet.ldap_host(fleet, directory, "host-b")
        # The same hosts' keys with registry_refresh = 0s: every login refreshes first.
        for h in (fa, la):
            for u in accounts:
                assert h.login(u, [u.password, "y", PIN, PIN]).ok
        lb.login(bob, [bob.password, "n"])
        fresh_a, fresh_b = logins(la, lb, alice, bob)

        def stale(f, hosts=(la, lb)):
            def run():
                for h in hosts:
                    h.set_policy(registry_refresh="0s")
                try:
                    f()
                finally:
                    for h in hosts:
                        h.set_policy(registry_refresh="5m")
            return run
        rows = interleaved([("files", logins(fa, fb, alice, bob)), ("ldap, fresh cache", (fresh_a, fresh_b)),
                            ("ldap, stale cache (one refresh)", (stale(fresh_a), stale(fresh_b)))])
        a = la

        print(f"login figures, median of {RUNS} (ms): passkey login (PIN) / step aside + password")
        for name, p, s in rows:
            print(f"  {name:34s} {p:8.1f} {s:8.1f}")

        def refresh():
            r = ldapfleet.directory_program(a, "refresh", alice.name)
            assert r.returncode == 0, r.stdout
        small = median_ms(refresh)
        # 100,000 more users, loaded offline with slapadd (what an administrator would do).
        n = 100_000
        # The fixture's database is sized for tests (64 MB): room for 100,000 more entries.
        directory.config_modify("dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\n"
                                "replace: olcDbMaxSize\nolcDbMaxSize: 2147483648\n")
        directory.stop()
        users = root / "users.ldif"
        with open(users, "w") as f:
            for i in range(n):
                f.write(ldif(f"pamPasskeyUserName=bench{i},{ldapfleet.BASE}",
                             {"objectClass": ["pamPasskeyUser"], "pamPasskeyUserName": [f"bench{i}"]}))
        t = time.perf_counter()
        p = subprocess.run(["/usr/sbin/slapadd", "-q", "-F", str(directory.dir / "slapd.d"), "-b", ldapfleet.SUFFIX,
                            "-l", str(users)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr[-2000:]
        load = time.perf_counter() - t
        ldapfleet.restart(directory)
        large = median_ms(refresh)
        print(f"pam_passkey_directory refresh USER, median of {RUNS} (ms, a whole process: spawn, bind, one search,"
              f" cache write):")
        print(f"  {'with a few users':34s} {small:8.1f}")
        print(f"  {'with 100,000 more users':34s} {large:8.1f}   (slapadd of {n} entries: {load:.1f} s)")
    finally:
        if directory is not None:
            directory.remove()
        for u in accounts:
            u.remove()
        subprocess.run(["rm", "-rf", str(root)])


if __name__ == "__main__":
    main()
