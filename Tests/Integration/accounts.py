"""Real local accounts for tests: created with useradd and chpasswd, removed afterwards."""
import os
import secrets
import subprocess


class Account:
    def __init__(self, prefix: str, password: str = None):
        self.name = f"pkt{prefix}{secrets.token_hex(3)}"[:31]
        self.password = password or "Pw-" + secrets.token_urlsafe(12)
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", self.name],
                       check=True, capture_output=True)
        subprocess.run(["chpasswd"], input=f"{self.name}:{self.password}\n", text=True, check=True,
                       capture_output=True)
        import pwd
        self.uid = pwd.getpwnam(self.name).pw_uid

    def remove(self):
        subprocess.run(["userdel", self.name], capture_output=True)


def require_root():
    if os.geteuid() != 0:
        raise RuntimeError("the integration tests need root (real users, /etc/pam.d, sshd): run `sudo make check`")
