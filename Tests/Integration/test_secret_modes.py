"""Secret files that others can read are refused (issue 19, finding 4): with the software
authenticator's host secret or a user's keyring mode 0644 on a simulated host, the passkey
login steps aside with a reason naming the file and the fix, the password still signs in,
`passkeyctl status` exits non-zero naming the file; put back to 0600, the PIN works again.
Real libpam, the real helper, pam_unix, a real account."""
import os
import re
import subprocess

from fleet import PASSWORD, pin_prompt
from test_pam_flow import enrol_by_password

PIN = "482913"
# What a user whose passkey is on this host sees when the authenticator cannot be used.
NOT_WORKING = ("info", "Passkeys are not working on this computer right now.")


def status(host):
    p = subprocess.run([str(host.build_dir / "passkeyctl"), "status", "--conf", str(host.conf), "--pam-dir", str(host.confdir)],
                       capture_output=True, text=True, timeout=120)
    errors = [re.split(r"\s+", l, maxsplit=2)[1:] for l in p.stdout.splitlines() if l.startswith("error ")]
    return p.returncode, errors


def broken_lines(syslog, user):
    """The module's step-aside lines for `user` because of the authenticator. A refused host
    secret comes in the helper's health, a refused keyring as a failed probe: either way the
    authenticator is there and cannot serve (authenticator_broken), with the file."""
    return [l for l in syslog.read() if "pam_passkey(login:auth)" in l and f'user="{user.name}"' in l
            and re.search(r"decision=step_aside reason=authenticator_broken:", l)]


def test_readable_host_secret_and_keyring_make_the_login_step_aside(fleet, make_account, syslog):
    alice = make_account("alice")
    a = fleet.host("host-a", authenticator="software")
    enrol_by_password(a, alice, PIN)
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    assert status(a) == (0, [])

    host_secret = a.state / "authenticator" / "host.secret"
    keyring = a.state / "authenticator" / "software" / f"{alice.name}.json"
    for path in (host_secret, keyring):
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o600), path

    # Both readable by others: the helper's health check names the host secret before any
    # PIN is asked for; the user is told passkeys are not working, the password signs in,
    # nothing is offered, a wrong password fails.
    os.chmod(host_secret, 0o644)
    os.chmod(keyring, 0o644)
    r = a.login(alice, [alice.password])
    assert r.ok and r.transcript == [NOT_WORKING, PASSWORD], r
    r = a.login(alice, ["not-" + alice.password])
    assert not r.ok and r.transcript == [NOT_WORKING, PASSWORD], r
    [line, _] = broken_lines(syslog, alice)
    assert "reason=authenticator_broken:" in line and f"{host_secret} holds authenticator secrets and is readable by group or others (mode 0644)" in line, line
    assert f"fix: chmod go-rwx {host_secret}" in line, line

    # status: an error for each file, each named once, and a non-zero exit.
    code, errors = status(a)
    assert code == 1, errors
    text = "\n".join(t for _, t in errors)
    assert text.count(str(host_secret)) == 2 and f"chmod go-rwx {host_secret}" in text, errors   # path and fix, once
    assert [topic for topic, t in errors if str(host_secret) in t] == ["helper"], errors
    assert [topic for topic, t in errors if str(keyring) in t] == ["state_dir"], errors
    assert f"chmod go-rwx {keyring}" in text, errors

    # The host secret fixed, the keyring not: now the keyring is named, when it is read.
    os.chmod(host_secret, 0o600)
    r = a.login(alice, [alice.password])
    assert r.ok and r.transcript == [NOT_WORKING, PASSWORD], r
    line = broken_lines(syslog, alice)[-1]
    assert str(keyring) in line and f"fix: chmod go-rwx {keyring}" in line, line
    assert str(host_secret) not in line
    code, errors = status(a)
    assert code == 1 and [topic for topic, t in errors if str(keyring) in t] == ["state_dir"], errors

    # Both fixed: the PIN signs in again, and status is clean.
    os.chmod(keyring, 0o600)
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    assert status(a) == (0, [])


def test_another_users_readable_keyring_is_reported_and_does_not_stop_this_user(fleet, make_account):
    alice, bob = make_account("alice"), make_account("bob")
    a = fleet.host("host-a", authenticator="software")
    enrol_by_password(a, alice, PIN)
    enrol_by_password(a, bob, PIN)
    bobs = a.state / "authenticator" / "software" / f"{bob.name}.json"
    os.chmod(bobs, 0o640)
    r = a.login(alice, [PIN])
    assert r.ok and r.transcript == [pin_prompt(alice, "host-a")], r
    r = a.login(bob, [bob.password])
    assert r.ok and r.transcript == [NOT_WORKING, PASSWORD], r
    code, errors = status(a)
    assert code == 1 and [(topic, str(bobs) in t, "chmod go-rwx" in t) for topic, t in errors] == [("state_dir", True, True)], errors
