"""Simulated hosts on one machine: each has its own policy file, machine id, host name and
state directory; they share one registry directory, as hosts sharing a registry would. Each
host has a private PAM service directory with the shipped three-line stack."""
import json
import os
import pathlib
import secrets

import pamdriver

STACK = """auth  [success=done default=ignore]  {module} conf={conf}
auth  requisite                      pam_unix.so nodelay
auth  optional                       {module} conf={conf} append
"""


class Host:
    def __init__(self, root: pathlib.Path, name: str, registry: pathlib.Path, build_dir: pathlib.Path, **policy):
        self.name = name
        self.build_dir = build_dir
        self.registry = registry
        self.dir = root / name
        self.dir.mkdir(mode=0o755)
        os.chmod(self.dir, 0o755)
        self.machine_id = self.dir / "machine-id"
        self.machine_id.write_text(secrets.token_hex(16) + "\n")
        os.chmod(self.machine_id, 0o444)
        self.state = self.dir / "state"
        self.state.mkdir(mode=0o700)
        self.conf = self.dir / "pam_passkey.conf"
        self.confdir = self.dir / "pam.d"
        self.confdir.mkdir(mode=0o755)
        self.policy = {
            "rp_id": "pam_passkey.test",
            "host_name": name,
            "host_id_file": str(self.machine_id),
            "registry_dir": str(registry),
            "state_dir": str(self.state),
            "helper": str(build_dir / "pam_passkey_helper"),
            "pin_kdf_cost": "10",
        }
        self.set_policy(**policy)
        self.templates = {}
        self.set_stack(STACK)
        # libpam wants a fallback service; without one it logs "no default config other".
        (self.confdir / "other").write_text("auth required pam_deny.so\n")

    def set_policy(self, **changes):
        self.policy.update({k: str(v) for k, v in changes.items()})
        self.conf.write_text("".join(f"{k} = {v}\n" for k, v in self.policy.items()))
        os.chmod(self.conf, 0o644)

    def set_stack(self, template: str, service: str = "login"):
        """Writes the service file from a template; each pam_passkey.so line gets
        stack=<this file>, which the append step needs under pam_start_confdir."""
        module = str(self.build_dir / "pam_passkey.so")
        path = self.confdir / service
        lines = []
        for line in template.format(module=module, conf=self.conf).splitlines():
            rule, hash, comment = line.partition("#")
            if module in rule.split():
                line = f"{rule.rstrip()} stack={path}" + (f" {hash}{comment}" if hash else "")
            lines.append(line)
        path.write_text("\n".join(lines) + "\n")
        self.templates[service] = template

    def login(self, user, answers=(), service="login", **kwargs) -> pamdriver.Result:
        if service != "login" and not (self.confdir / service).exists():
            self.set_stack(self.templates["login"], service)
        name = user.name if hasattr(user, "name") else user
        return pamdriver.authenticate(service, name, self.confdir, answers, **kwargs)


class Fleet:
    def __init__(self, root: pathlib.Path, build_dir: pathlib.Path):
        self.root = root
        os.chmod(root, 0o755)
        self.registry = root / "registry"
        self.registry.mkdir(mode=0o755)
        self.build_dir = build_dir
        self.hosts = {}

    def host(self, name: str, **policy) -> Host:
        h = Host(self.root, name, self.registry, self.build_dir, **policy)
        self.hosts[name] = h
        return h

    def record(self, user) -> dict:
        name = user.name if hasattr(user, "name") else user
        path = self.registry / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else {"credentials": []}

    def credentials(self, user, active_only=True) -> list:
        return [c for c in self.record(user)["credentials"] if not (active_only and c.get("revoked"))]


# What the user sees, spelled once for the tests.
def offer_create():
    return ("prompt", "Create a passkey for this computer? Next time you can sign in with a PIN. [Y/n/never] ")


def choose_pin(min_length=6):
    return ("secret", f"Choose a PIN (at least {min_length} digits): ")


CONFIRM_PIN = ("secret", "Confirm PIN: ")
PASSWORD = ("secret", "Password: ")


def pin_prompt(user, host):
    name = user.name if hasattr(user, "name") else user
    return ("secret", f"PIN for {name}'s passkey on {host}: ")
