"""make demo: the second-device story on two simulated hosts, through the real pam_passkey.so
in real libpam (in this process), the real helper and pam_unix with a real account.

Touches nothing of the system's own PAM configuration: each simulated host has its own
policy file, machine id, state directory and PAM service directory under a temporary
directory, and the two share one registry directory. One account, passkey-demo, is created
with a random password and removed at the end."""
import json
import os
import pathlib
import pwd
import secrets
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Integration"))
import pamdriver  # noqa: E402
from fleet import Fleet  # noqa: E402
from syslogcapture import SyslogCapture  # noqa: E402

USER = "passkey-demo"


def show(host, title, answers, **kwargs):
    print(f"\n== {host.name}: {title}")
    result = host.login(USER, answers, **kwargs)
    given = list(answers)
    for kind, text in result.transcript:
        if kind in ("secret", "prompt"):
            answer = given.pop(0) if given else ""
            shown = "*" * len(answer) if kind == "secret" else answer
            print(f"   {text}{shown}")
        else:
            print(f"   {text}")
    print(f"   -> {'signed in' if result.ok else 'refused'} "
          f"({pamdriver.libpam.pam_strerror(None, result.status).decode()})")
    return result


def main():
    if os.geteuid() != 0:
        sys.exit("make demo needs root: it creates the account passkey-demo (removed afterwards) and "
                 "pam_unix reads /etc/shadow. Run: sudo make demo")
    build = pathlib.Path(os.environ.get("PAM_PASSKEY_BUILD", ROOT / ".build" / "release"))
    if not (build / "pam_passkey.so").exists():
        sys.exit(f"{build}/pam_passkey.so is missing: run make build")
    try:
        pwd.getpwnam(USER)
        sys.exit(f"an account named {USER} already exists; remove it (userdel {USER}) and run make demo again")
    except KeyError:
        pass

    password = "Demo-" + secrets.token_urlsafe(9)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
    capture = None
    try:
        subprocess.run(["chpasswd"], input=f"{USER}:{password}\n", text=True, check=True)
        try:
            capture = SyslogCapture()
        except RuntimeError as e:
            print(f"(not showing syslog: {e})")
        with tempfile.TemporaryDirectory(prefix="passkey-demo.") as tmp:
            fleet = Fleet(pathlib.Path(tmp), build)
            a, b = fleet.host("host-a"), fleet.host("host-b")
            print(f"Two simulated hosts, host-a and host-b, sharing a registry in {fleet.registry}.")
            print(f"Account {USER}, password {password}. PINs: 482913 on host-a, 605718 on host-b.")

            show(a, "first login: no passkey yet, so the password, then the offer",
                 [password, "y", "482913", "482913"])
            show(a, "next login: the PIN is enough", ["482913"])
            show(b, "first login on a second computer: the passkey is elsewhere",
                 [password, "y", "605718", "605718"])
            show(b, "next login on host-b", ["605718"])
            show(a, "host-a still works with its own passkey", ["482913"])
            show(b, "an empty PIN means: use my password instead", ["", password])
            show(a, "over ssh from elsewhere: no PIN prompt, no offer", [password], rhost="203.0.113.5")

            print("\n== the shared registry afterwards")
            record = json.loads((fleet.registry / f"{USER}.json").read_text())
            import time
            for c in record["credentials"]:
                created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(c["created"]["time"]))
                print(f"   {c['id'][:16]}…  host {c['hostName']:<7} created {created}  "
                      f"sign count {c['signCount']}  {'revoked' if c['revoked'] else 'active'}")
            if record.get("offers"):
                print(f"   offers made: {len(record['offers']['recent'])} (fleet-wide log)")
            if capture:
                print("\n== what pam_passkey logged (one line per decision)")
                for line in capture.read():
                    if "pam_passkey(" in line:
                        print("   " + line.split(": ", 1)[1])
    finally:
        if capture:
            capture.close()
        subprocess.run(["userdel", USER], capture_output=True)
    print(f"\nRemoved the account {USER} and the temporary hosts.")


if __name__ == "__main__":
    main()
