"""passkeyctl as administrators expect a command to behave (git, systemctl, faillock): the
built executable's --version, global options before or after the command, a --conf file
that is not there is an error, the read-only wrong-PIN view, and the bash completion
shipped in Packaging/bash-completion, run in a real bash."""
import json
import os
import pathlib
import re
import subprocess

import pytest

from fleet import pin_prompt

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION = (ROOT / "VERSION").read_text().strip()
COMPLETION = ROOT / "Packaging/bash-completion/passkeyctl"
PIN = "482913"


def run(exe, *args, **kwargs):
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=120, **kwargs)


def enroll(host, user, pin=PIN):
    r = run(host.build_dir / "passkeyctl", "enroll", user.name, "--pin-stdin", "--conf", host.conf, input=f"{pin}\n{pin}\n")
    assert r.returncode == 0, r.stderr


def test_version_is_the_source_trees(build_dir):
    r = run(build_dir / "passkeyctl", "--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"passkeyctl {VERSION}\n", "")
    r = run(build_dir / "passkeyctl", "--version", "list")
    assert r.returncode == 2 and "--version takes no other arguments" in r.stderr


def test_global_options_before_or_after_the_command(fleet, make_account):
    alice = make_account("alice")
    a = fleet.host("host-a")
    enroll(a, alice)
    exe = a.build_dir / "passkeyctl"
    after = run(exe, "list", alice.name, "--conf", a.conf, "--json")
    assert after.returncode == 0, after.stderr
    for argv in (["--conf", a.conf, "list", alice.name, "--json"],
                 [f"--conf={a.conf}", "--json", "list", alice.name],
                 ["--json", "list", "--conf", a.conf, alice.name],
                 ["--conf", a.conf, "--json", "list", alice.name]):
        r = run(exe, *argv)
        assert (r.returncode, r.stdout, r.stderr) == (0, after.stdout, ""), argv
    assert json.loads(after.stdout)["users"][0]["user"] == alice.name
    # Every command takes them first, and --help still works after them.
    for command in ("status", "report", "explain"):
        extra = [alice.name] if command == "explain" else []
        first, last = run(exe, "--conf", a.conf, "--json", command, *extra), run(exe, command, *extra, "--conf", a.conf, "--json")
        assert first.returncode == last.returncode and first.stderr == last.stderr, command
        assert json.loads(first.stdout).keys() == json.loads(last.stdout).keys(), command
    r = run(exe, "--conf", a.conf, "list", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: passkeyctl list ")
    # Still one value per option, and only global options before the command.
    for argv, complaint in ((["--conf", a.conf, "list", "--conf", a.conf], "--conf is given more than once; see passkeyctl list --help"),
                            (["--json", "list", "--json"], "--json is given more than once"),
                            (["--pam-dir", "/etc/pam.d", "status"], "unknown option --pam-dir before the command"),
                            (["--conf"], "--conf needs a value (PATH)"),
                            (["--conf", a.conf], "missing COMMAND after --conf"),
                            (["--conf", "relative.conf", "list"], "--conf needs an absolute path, not relative.conf")):
        r = run(exe, *argv)
        assert r.returncode == 2 and r.stdout == "", (argv, r)
        assert r.stderr.startswith("passkeyctl: ") and complaint in r.stderr, (argv, r.stderr)


def test_a_conf_file_that_is_not_there_is_an_error_naming_it(fleet, make_account, tmp_path):
    alice = make_account("alice")
    a = fleet.host("host-a")
    exe = a.build_dir / "passkeyctl"
    missing = tmp_path / "typo.conf"
    for argv in (["list"], ["status"], ["report"], ["explain", alice.name], ["unlock", alice.name]):
        for before in (True, False):
            r = run(exe, *(["--conf", missing, *argv] if before else [*argv, "--conf", missing]))
            assert (r.returncode, r.stdout) == (1, ""), (argv, r)
            assert r.stderr == f"passkeyctl: policy file {missing} given with --conf does not exist\n", (argv, r.stderr)
    r = run(exe, "list", "--conf", tmp_path)
    assert r.returncode == 1 and r.stderr == f"passkeyctl: policy file {tmp_path} given with --conf is not a regular file\n"
    # Unreadable: the system policy of a host, 0600, read by a user.
    place = tmp_path / "etc"
    place.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(place, 0o755)
    secret = place / "pam_passkey.conf"
    secret.write_text(a.conf.read_text())
    os.chmod(secret, 0o600)
    r = subprocess.run(["runuser", "-u", "nobody", "--", str(exe), "list", "--conf", str(secret)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr == f"passkeyctl: policy file {secret} given with --conf cannot be read: Permission denied\n", r
    # The system policy missing still means the defaults, as in the module.
    assert "passkeyctl: policy file" not in run(exe, "status", "--pam-dir", a.confdir).stderr


def list_rows(host, user):
    r = run(host.build_dir / "passkeyctl", "list", user.name, "--conf", host.conf)
    assert r.returncode == 0 and r.stderr == "", r
    header, *rows = [re.split(r"\s{2,}", l.rstrip()) for l in r.stdout.splitlines()]
    return [dict(zip(header, row)) for row in rows]


def pin_view(host, user):
    r = run(host.build_dir / "passkeyctl", "--json", "list", user.name, "--conf", host.conf)
    assert r.returncode == 0, r.stderr
    return {c["id"]: c["pin"] for c in json.loads(r.stdout)["users"][0]["credentials"]}


def test_list_shows_wrong_pin_counts_without_changing_them(fleet, make_account):
    """faillock --user for passkeys: what this host's authenticator counts, read-only."""
    alice = make_account("alice")
    a, b = fleet.host("host-a"), fleet.host("host-b")
    enroll(a, alice)
    enroll(b, alice)
    here = next(c["id"] for c in fleet.credentials(alice) if c["hostName"] == "host-a")
    elsewhere = next(c["id"] for c in fleet.credentials(alice) if c["hostName"] == "host-b")

    assert {r["HOST"]: r["WRONG PINS"] for r in list_rows(a, alice)} == {"host-a": "0 of 5", "host-b": "-"}
    r = a.login(alice, ["111111", "222222", "333333", alice.password])
    assert r.ok, r
    for _ in range(2):   # reading twice: the count stays
        assert {r["HOST"]: r["WRONG PINS"] for r in list_rows(a, alice)} == {"host-a": "3 of 5", "host-b": "-"}
        assert pin_view(a, alice) == {here: {"wrong_pins": 3, "attempts_left": 2, "max_attempts": 5, "locked": False},
                                      elsewhere: None}
    # The other host counts its own.
    assert {r["HOST"]: r["WRONG PINS"] for r in list_rows(b, alice)} == {"host-a": "-", "host-b": "0 of 5"}
    # Everyone's list has the column too.
    r = run(a.build_dir / "passkeyctl", "list", "--conf", a.conf)
    header, *rows = [re.split(r"\s{2,}", l.rstrip()) for l in r.stdout.splitlines()]
    assert header[-2:] == ["WRONG PINS", "LABEL"] and sorted(row[8] for row in rows) == ["-", "3 of 5"]

    r = a.login(alice, ["444444", "555555", alice.password, "n"])
    assert r.ok and pin_prompt(alice, "host-a") in r.transcript, r
    assert {r["HOST"]: r["WRONG PINS"] for r in list_rows(a, alice)} == {"host-a": "5 of 5, locked", "host-b": "-"}
    assert pin_view(a, alice)[here] == {"wrong_pins": 5, "attempts_left": 0, "max_attempts": 5, "locked": True}
    assert run(a.build_dir / "passkeyctl", "unlock", alice.name, "--conf", a.conf).returncode == 0
    assert {r["HOST"]: r["WRONG PINS"] for r in list_rows(a, alice)} == {"host-a": "0 of 5", "host-b": "-"}


def complete(build_dir, line):
    """What bash offers for LINE (the cursor at its end) with the shipped completion."""
    words = line.split(" ")
    script = f"""
source {COMPLETION}
COMP_WORDS=({" ".join(json.dumps(w) for w in [str(build_dir / "passkeyctl")] + words[1:])})
COMP_CWORD={len(words) - 1}
COMP_LINE={json.dumps(line)}; COMP_POINT=${{#COMP_LINE}}
_passkeyctl
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r
    return sorted(filter(None, r.stdout.splitlines()))


def test_bash_completion(build_dir, tmp_path):
    commands = ["enroll", "explain", "help", "import", "list", "registry", "report", "revoke", "status", "sync", "unlock"]
    assert complete(build_dir, "passkeyctl ") == commands
    assert complete(build_dir, "passkeyctl re") == ["registry", "report", "revoke"]
    assert complete(build_dir, "passkeyctl registry ") == ["export", "import"]
    assert complete(build_dir, "passkeyctl --") == ["--conf", "--help", "--json", "--version"]
    assert complete(build_dir, "passkeyctl --conf /etc/security/pam_passkey.conf li") == ["list"]
    assert complete(build_dir, "passkeyctl --json st") == ["status"]
    assert complete(build_dir, "passkeyctl help rev") == ["revoke"]
    # A command's options come from its --help.
    assert complete(build_dir, "passkeyctl list --") == ["--conf", "--help", "--json"]
    assert complete(build_dir, "passkeyctl revoke alice --") == ["--all", "--conf", "--credential", "--help", "--host", "--json"]
    assert "--pam-dir" in complete(build_dir, "passkeyctl --conf /x status --")
    # Values: files for --conf, directories for --pam-dir, account names for USER.
    (tmp_path / "a.conf").write_text("")
    (tmp_path / "d").mkdir()
    assert complete(build_dir, f"passkeyctl list --conf {tmp_path}/a") == [f"{tmp_path}/a.conf"]
    assert complete(build_dir, f"passkeyctl status --pam-dir {tmp_path}/") == [f"{tmp_path}/d"]
    assert complete(build_dir, "passkeyctl unlock roo") == ["root"]
    assert complete(build_dir, "passkeyctl explain root --service ssh") == sorted(
        s for s in os.listdir("/etc/pam.d") if s.startswith("ssh"))
