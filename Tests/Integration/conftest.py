"""Shared fixtures for the integration tests: where the one build put its products."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def build_dir() -> pathlib.Path:
    d = pathlib.Path(os.environ.get("PAM_PASSKEY_BUILD", ROOT / ".build" / "release"))
    if not (d / "pam_passkey.so").exists():
        pytest.fail(f"{d}/pam_passkey.so is missing: run `make build` first")
    return d
