"""Debian's fido2-tools (fido2-token, fido2-cred, fido2-assert: libfido2's own programs) run
against a device path, each on a terminal of its own.

The tools read a PIN with readpassphrase(3), from /dev/tty when there is one. Each run gets
its own pseudo-terminal as controlling terminal, which is where the PIN prompts appear and
are answered; it also keeps the tool from making the key's pty its controlling terminal when
it opens it. Parameters go in with -i and results come out with -o, as files.
"""
import base64
import dataclasses
import hashlib
import os
import re
import struct
import tempfile
from typing import List, Optional, Sequence

import pexpect

PROMPT = re.compile(r"Enter (?:new |current )?PIN for [^\n]*: |Enter the same PIN again: ")


@dataclasses.dataclass
class Run:
    argv: List[str]
    status: int
    transcript: str  # what the tool wrote on its terminal
    output: str  # what it wrote with -o
    prompts: int  # how many times it asked for a PIN

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def lines(self) -> List[str]:
        return self.output.splitlines()

    def __str__(self):
        return f"{' '.join(self.argv)} → {self.status}\n{self.transcript}"


def run(argv: Sequence[str], *, stdin: Optional[str] = None, pins: Sequence[str] = (), output_file: bool = True,
        timeout: float = 15) -> Run:
    """Runs one tool. With `stdin`, the text becomes its -i file and `output` its -o file
    (fido2-cred, fido2-assert); without, `output` is what it printed (fido2-token). `pins`
    answer its PIN prompts in turn; a prompt with no answer left gets end-of-file, like a
    person pressing Ctrl-D."""
    with tempfile.TemporaryDirectory(prefix="fido2tools-") as d:
        inp, out = os.path.join(d, "in"), os.path.join(d, "out")
        full = list(argv)
        if stdin is not None:
            with open(inp, "w") as f:
                f.write(stdin)
            full[2:2] = ["-i", inp] + (["-o", out] if output_file else [])
        child = pexpect.spawn(full[0], full[1:], encoding="utf-8", codec_errors="replace", timeout=timeout,
                              echo=False)
        transcript, prompts, answers = "", 0, list(pins)
        try:
            while child.expect([PROMPT, pexpect.EOF]) == 0:
                transcript += child.before + child.after
                prompts += 1
                if answers:
                    child.sendline(answers.pop(0))
                else:
                    child.sendeof()
        except pexpect.TIMEOUT:
            child.terminate(force=True)
            raise AssertionError(f"{' '.join(full)} still running after {timeout}s:\n{transcript}{child.before}")
        transcript = (transcript + child.before).replace("\r\n", "\n")
        child.wait()  # it has closed its terminal: its status is what is left
        child.ptyproc.delayafterclose = 0
        child.close()
        status = child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus
        if stdin is None:
            output = transcript
        else:
            output = open(out).read() if os.path.exists(out) else ""
    return Run(full, status, transcript, output, prompts)


def token_info(path: str) -> Run:
    return run(["fido2-token", "-I", path])


def set_pin(path: str, pin: str, confirm: Optional[str] = None) -> Run:
    return run(["fido2-token", "-S", path], pins=[pin, confirm or pin])


def change_pin(path: str, old: str, new: str) -> Run:
    return run(["fido2-token", "-C", path], pins=[old, new, new])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def challenge(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def user_id(name: str) -> bytes:
    """The user handle `make_credential` gives a user name."""
    return hashlib.sha256(name.encode()).digest()


@dataclasses.dataclass
class MadeCredential:
    """fido2-cred -M's output: what a relying party gets back from the key."""
    client_data_hash: bytes
    rp_id: str
    fmt: str
    auth_data_cbor: bytes  # libfido2 prints the authenticator data as a CBOR byte string
    credential_id: bytes
    signature: bytes

    @classmethod
    def parse(cls, output: str) -> "MadeCredential":
        lines = output.splitlines()
        return cls(base64.b64decode(lines[0]), lines[1], lines[2], base64.b64decode(lines[3]),
                   base64.b64decode(lines[4]), base64.b64decode(lines[5]))

    @property
    def auth_data(self) -> bytes:
        return _unwrap_bytes(self.auth_data_cbor)

    def verify_input(self) -> str:
        return "\n".join([b64(self.client_data_hash), self.rp_id, self.fmt, b64(self.auth_data_cbor),
                          b64(self.credential_id), b64(self.signature)]) + "\n"


@dataclasses.dataclass
class Assertion:
    client_data_hash: bytes
    rp_id: str
    auth_data_cbor: bytes
    signature: bytes

    @classmethod
    def parse(cls, output: str) -> "Assertion":
        lines = output.splitlines()
        return cls(base64.b64decode(lines[0]), lines[1], base64.b64decode(lines[2]), base64.b64decode(lines[3]))

    @property
    def auth_data(self) -> bytes:
        return _unwrap_bytes(self.auth_data_cbor)

    @property
    def flags(self) -> int:
        return self.auth_data[32]

    @property
    def sign_count(self) -> int:
        return struct.unpack(">I", self.auth_data[33:37])[0]

    def verify_input(self) -> str:
        return "\n".join([b64(self.client_data_hash), self.rp_id, b64(self.auth_data_cbor), b64(self.signature)]) + "\n"


def _unwrap_bytes(item: bytes) -> bytes:
    from . import cbor
    value = cbor.decode(item)
    assert isinstance(value, bytes), "authenticator data is not a CBOR byte string"
    return value


def make_credential(path: str, rp_id: str, user: str, *, pins: Sequence[str] = (), flags: Sequence[str] = (),
                    client_data: str = "register") -> Run:
    params = "\n".join([b64(challenge(client_data)), rp_id, user, b64(user_id(user))]) + "\n"
    return run(["fido2-cred", "-M", *flags, path, "es256"], stdin=params, pins=pins)


def verify_credential(made: MadeCredential, flags: Sequence[str] = ()) -> Run:
    return run(["fido2-cred", "-V", *flags, "es256"], stdin=made.verify_input())


def get_assertion(path: str, rp_id: str, credential_id: bytes, *, pins: Sequence[str] = (),
                  flags: Sequence[str] = (), client_data: str = "login") -> Run:
    params = "\n".join([b64(challenge(client_data)), rp_id, b64(credential_id)]) + "\n"
    return run(["fido2-assert", "-G", *flags, path], stdin=params, pins=pins)


def verify_assertion(assertion: Assertion, public_key_pem: str, flags: Sequence[str] = ()) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as key:
        key.write(public_key_pem)
        key.flush()
        return run(["fido2-assert", "-V", *flags, key.name, "es256"], stdin=assertion.verify_input(),
                   output_file=False)  # it has no -o: it says nothing, and exits 0 or 1
