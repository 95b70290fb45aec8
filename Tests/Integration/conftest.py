"""Shared fixtures for the integration tests: where the one build put its products."""
import os
import pathlib

import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def build_dir() -> pathlib.Path:
    d = pathlib.Path(os.environ.get("PAM_PASSKEY_BUILD", ROOT / ".build" / "release"))
    if not (d / "pam_passkey.so").exists():
        pytest.fail(f"{d}/pam_passkey.so is missing: run `make build` first")
    return d


@pytest.fixture
def syslog():
    from syslogcapture import SyslogCapture
    capture = SyslogCapture.when_free()
    yield capture
    capture.close()


@pytest.fixture
def make_account():
    """make_account("alice") -> a real local account with a random password, removed after."""
    from accounts import Account, require_root
    require_root()
    made = []

    def make(prefix="u", password=None):
        a = Account(prefix, password)
        made.append(a)
        return a

    yield make
    for a in made:
        a.remove()


@pytest.fixture
def fleet(tmp_path, build_dir):
    """Hosts sharing one registry: fleet.host("host-a", key=value...)."""
    from fleet import Fleet
    return Fleet(tmp_path, build_dir)
