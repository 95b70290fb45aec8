"""A real OpenSSH server on 127.0.0.1 (keyboard-interactive, UsePAM) with the shipped sshd
stack (pam.d/sshd): a user with a passkey on this host gets the password over ssh, no PIN
prompt and no offer; a wrong password is refused."""
import pathlib

from fleet import CONFIRM_PIN, PASSWORD, choose_pin, offer_create

ROOT = pathlib.Path(__file__).resolve().parents[2]


def shipped_sshd_stack(host) -> str:
    text = (ROOT / "pam.d" / "sshd").read_text()
    module = f"{host.build_dir / 'pam_passkey.so'} conf={host.conf}"
    return text.replace("pam_passkey.so append", f"{module} append").replace("pam_passkey.so\n", f"{module}\n")


def test_ssh_login_with_a_passkey_on_this_host_gets_the_password_only(fleet, make_account, tmp_path, syslog):
    from sshd import Sshd
    alice = make_account("alice")
    a = fleet.host("host-a")
    # A passkey for this very host, made at the console.
    r = a.login(alice, [alice.password, "y", "482913", "482913"])
    assert r.ok and r.transcript[:4] == [PASSWORD, offer_create(), choose_pin(), CONFIRM_PIN], r
    before = fleet.record(alice)

    server = Sshd(tmp_path / "sshd", shipped_sshd_stack(a))
    try:
        ok, rounds = server.login(alice.name, [alice.password])
        assert ok, rounds
        prompts = [p for _, ps in rounds for p in ps]
        assert prompts == ["Password: "], rounds
        assert not any("PIN" in text or "passkey" in text for text, _ in rounds), rounds

        ok, rounds = server.login(alice.name, ["not-the-password"])
        assert not ok, rounds
        assert [p for _, ps in rounds for p in ps][:1] == ["Password: "], rounds
    finally:
        server.stop()

    # Nothing changed in the registry: no offer, no new passkey, no use of the old one.
    assert fleet.record(alice) == before
    module_lines = [l for l in syslog.read() if "pam_passkey(" in l and server.service in l]
    assert module_lines and all("reason=remote_session" in l for l in module_lines if "decision=" in l), module_lines


def test_with_remote_sessions_allowed_ssh_never_uses_up_the_offers(fleet, make_account, tmp_path, syslog):
    """remote_sessions = allow, no passkey yet. sshd cannot put a question at pam_setcred: with
    password authentication the append step runs there and its conversation refuses the offer;
    with keyboard-interactive sshd ran the auth stack in another process and the append step
    sees no login step. Either way the user signs in, is never asked, and nothing is recorded —
    so the next login at the console still gets the offer."""
    from sshd import Sshd
    bob = make_account("bob")
    a = fleet.host("host-a", remote_sessions="allow", append_max_offers=1)
    for method in ("password", "keyboard-interactive"):
        server = Sshd(tmp_path / f"sshd-{method}", shipped_sshd_stack(a), method=method)
        try:
            for _ in range(2):
                ok, rounds, status, _ = server.login_and_run(bob.name, [bob.password],
                                                             password=bob.password if method == "password" else None)
                assert ok and status is not None, (method, rounds)
                assert all(ps == ["Password: "] for _, ps in rounds if ps), (method, rounds)
        finally:
            server.stop()
        assert "offers" not in fleet.record(bob), method
        lines = [l for l in syslog.read() if "pam_passkey(" in l and server.service in l]
        assert any("reason=no_credentials" in l for l in lines), lines
        if method == "password":
            assert sum("decision=not_asked reason=conversation_refused" in l for l in lines) == 2, lines

    r = a.login(bob, [bob.password, "n"])
    assert r.ok and r.transcript == [PASSWORD, offer_create()], r
    assert [o["answer"] for o in fleet.record(bob)["offers"]["recent"]] == ["declined"]
