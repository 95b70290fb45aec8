"""A real OpenSSH server on 127.0.0.1 with its own PAM service (keyboard-interactive,
UsePAM), and a paramiko client that records every prompt the server sent."""
import os
import pathlib
import secrets
import socket
import subprocess
import time

import paramiko

import processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    def __init__(self, workdir: pathlib.Path, pam_stack: str, method: str = "keyboard-interactive"):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        # The PAM service of sshd is its program name: a symlink named after our service.
        self.service = "sshd-pkt-" + secrets.token_hex(3)
        self.pam_file = pathlib.Path("/etc/pam.d") / self.service
        self.pam_file.write_text(pam_stack)
        self.port = free_port()
        os.makedirs("/run/sshd", exist_ok=True)
        hostkey = self.dir / "hostkey"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)], check=True)
        config = self.dir / "sshd_config"
        config.write_text(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {hostkey}
PidFile {self.dir}/sshd.pid
UsePAM yes
KbdInteractiveAuthentication {"yes" if method == "keyboard-interactive" else "no"}
PasswordAuthentication {"yes" if method == "password" else "no"}
PubkeyAuthentication no
AuthenticationMethods {method}
StrictModes no
PermitRootLogin no
LogLevel VERBOSE
""")
        program = self.dir / self.service
        program.symlink_to("/usr/sbin/sshd")
        self.log = open(self.dir / "sshd.log", "w")
        self.proc = subprocess.Popen([str(program), "-D", "-e", "-f", str(config)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not start: {(self.dir / 'sshd.log').read_text()}")

    def _authenticate(self, transport, user: str, answers, password):
        """Keyboard-interactive (or, with `password`, password) authentication on `transport`.
        Returns (succeeded, rounds): each round is (instructions, [prompt texts]) as the client
        saw it."""
        queue = list(answers)
        rounds = []

        def handler(title, instructions, prompt_list):
            rounds.append((instructions, [p for p, _echo in prompt_list]))
            return [queue.pop(0) if queue else "" for _ in prompt_list]

        transport.start_client(timeout=10)
        try:
            if password is not None:
                transport.auth_password(user, password)
            else:
                transport.auth_interactive(user, handler)
            return transport.is_authenticated(), rounds
        except paramiko.AuthenticationException:
            return False, rounds

    def login(self, user: str, answers):
        """Keyboard-interactive login, no session. Returns (succeeded, rounds)."""
        transport = paramiko.Transport(("127.0.0.1", self.port))
        try:
            return self._authenticate(transport, user, answers, None)
        finally:
            transport.close()

    def login_and_run(self, user: str, answers, command: str = "true", password: str = None):
        """Login, then a session running `command` — sshd calls pam_setcred (and so the append
        step) only when a session starts. Returns (authenticated, rounds, exit status or None,
        what the session printed)."""
        transport = paramiko.Transport(("127.0.0.1", self.port))
        try:
            ok, rounds = self._authenticate(transport, user, answers, password)
            if not ok:
                return False, rounds, None, ""
            channel = transport.open_session(timeout=10)
            channel.exec_command(command)
            output = b""
            while True:
                data = channel.recv(4096)
                if not data:
                    break
                output += data
            return True, rounds, channel.recv_exit_status(), output.decode(errors="replace")
        finally:
            transport.close()

    def stop(self):
        processes.stop(self.proc)
        self.log.close()
        try:
            self.pam_file.unlink()
        except FileNotFoundError:
            pass

