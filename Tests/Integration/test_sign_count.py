"""A signature whose counter does not grow past the recorded one (a replayed assertion, or a
cloned authenticator's key used elsewhere) is refused, logged as its own reason with both
counters at warning level, and shown on the credential by passkeyctl list."""
import json
import subprocess

from fleet import PASSWORD, pin_prompt

PIN = "482913"


def test_a_lower_sign_counter_is_refused_logged_and_shown(fleet, make_account, syslog):
    alice = make_account("alice")
    a = fleet.host("host-a")
    ctl = [str(a.build_dir / "passkeyctl")]
    r = subprocess.run(ctl + ["enroll", alice.name, "--conf", str(a.conf), "--pin-stdin"], input=f"{PIN}\n{PIN}\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert a.login(alice, [PIN]).ok
    [c] = fleet.credentials(alice)
    seen = c["signCount"]
    assert seen >= 1

    # The registry now says the credential has signed far more often than this
    # authenticator has: its next signature looks like a replay or a clone's.
    path = fleet.registry / f"{alice.name}.json"
    record = json.loads(path.read_text())
    record["credentials"][0]["signCount"] = 1000
    path.write_text(json.dumps(record))

    r = a.login(alice, [PIN, alice.password, "n"])
    assert r.ok, r  # the password still works
    assert pin_prompt(alice, "host-a") in r.transcript and PASSWORD in r.transcript, r
    assert ("error", "Signing in with your passkey did not work this time. Use your password.") in r.transcript, r
    lines = [(l, s) for l, s in zip(syslog.lines, syslog.severities) if "reason=sign_count_regressed" in l]
    assert len(lines) == 1, syslog.read()
    line, severity = lines[0]
    assert "decision=failed" in line and severity == 4, (line, severity)  # LOG_WARNING
    assert "not above the recorded 1000" in line and "counter is " in line, line
    assert "assertion_rejected" not in line

    [c] = fleet.credentials(alice)
    assert c["signCount"] == 1000  # never moved backwards
    listed = subprocess.run(ctl + ["list", alice.name, "--conf", str(a.conf), "--json"], capture_output=True, text=True)
    [user] = json.loads(listed.stdout)["users"]
    [entry] = user["credentials"]
    assert entry["state"] == "suspect", entry
    regression = entry["sign_count_regression"]
    assert regression["stored"] == 1000 and regression["received"] < 1000 and regression["host"] == "host-a", regression
    table = subprocess.run(ctl + ["list", alice.name, "--conf", str(a.conf)], capture_output=True, text=True).stdout
    assert "suspect" in table, table
