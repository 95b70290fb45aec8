"""The flow through pamtester, a program we did not write, with a service file in
/etc/pam.d — as an administrator would try it."""
import os
import secrets
import subprocess

import pytest

from fleet import STACK


@pytest.fixture
def etc_service(fleet):
    """A service in /etc/pam.d using host-a's policy; removed afterwards."""
    host = fleet.host("host-a")
    name = "pkt-" + secrets.token_hex(3)
    path = f"/etc/pam.d/{name}"
    with open(path, "w") as f:
        f.write(STACK.format(module=host.build_dir / "pam_passkey.so", conf=host.conf))
    yield name, host
    os.unlink(path)


def pamtester(service, user, answers, *ops):
    p = subprocess.run(["pamtester", service, user, *(ops or ("authenticate", "setcred"))],
                       input="".join(a + "\n" for a in answers), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def test_password_offer_then_pin_through_pamtester(etc_service, make_account, fleet):
    service, host = etc_service
    alice = make_account("alice")

    rc, out = pamtester(service, alice.name, [alice.password, "y", "482913", "482913"])
    assert rc == 0, out
    for seen in ("Password: ", "Create a passkey for this computer?", "Choose a PIN (at least 6 digits): ",
                 "Confirm PIN: ", "Passkey created."):
        assert seen in out, out
    assert [c["hostName"] for c in fleet.credentials(alice)] == ["host-a"]

    rc, out = pamtester(service, alice.name, ["482913"])
    assert rc == 0 and f"PIN for {alice.name}'s passkey on host-a: " in out and "Password" not in out, out

    # An empty PIN means "use my password".
    rc, out = pamtester(service, alice.name, ["", alice.password])
    assert rc == 0 and "Password: " in out, out

    # Neither a wrong PIN nor a wrong password gets in.
    rc, out = pamtester(service, alice.name, ["000111", "000222", "000333", "wrong-password"])
    assert rc != 0, out
    assert "Wrong PIN" in out, out


def test_authenticate_alone_never_offers(etc_service, make_account, fleet):
    """The offer waits for pam_setcred: an application that only authenticates (a checker,
    or one whose auth failed) never sees it."""
    service, host = etc_service
    bob = make_account("bob")
    rc, out = pamtester(service, bob.name, [bob.password, "y", "482913", "482913"], "authenticate")
    assert rc == 0 and "Create a passkey" not in out, out
    assert fleet.credentials(bob) == []
