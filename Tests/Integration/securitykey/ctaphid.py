"""CTAPHID (CTAP 2.1 §11.2): CTAP messages cut into 64-byte HID reports on channels.

An initialisation packet is channel id (4) | 0x80|command | length (2, big-endian) | 57 bytes
of payload; continuation packets are channel id | sequence 0..127 | 59 bytes. A host first
sends INIT with an 8-byte nonce on the broadcast channel and is given its own channel. While
a CBOR command waits for a touch the key sends KEEPALIVE every 100 ms, and the host may send
CANCEL on the same channel. Over a pseudo-terminal each report the host writes is preceded
by its HID report number (0), as libfido2 writes it to hidraw: 65 bytes in, 64 out.
"""
import os
import select
import struct
from typing import Callable, Optional

BROADCAST = b"\xff\xff\xff\xff"
REPORT_SIZE = 64
INIT_PAYLOAD, CONT_PAYLOAD = REPORT_SIZE - 7, REPORT_SIZE - 5
MAX_MESSAGE = INIT_PAYLOAD + 128 * CONT_PAYLOAD  # 7609 bytes

CMD_PING, CMD_MSG, CMD_LOCK, CMD_INIT, CMD_WINK = 0x01, 0x03, 0x04, 0x06, 0x08
CMD_CBOR, CMD_CANCEL, CMD_KEEPALIVE, CMD_ERROR = 0x10, 0x11, 0x3B, 0x3F
ERR_INVALID_CMD, ERR_INVALID_PAR, ERR_INVALID_LEN, ERR_INVALID_SEQ = 0x01, 0x02, 0x03, 0x04
ERR_CHANNEL_BUSY, ERR_INVALID_CHANNEL = 0x06, 0x0B
CAPABILITY_WINK, CAPABILITY_CBOR, CAPABILITY_NMSG = 0x01, 0x04, 0x08  # NMSG: no CTAP1/U2F
PROTOCOL_VERSION, DEVICE_VERSION = 2, (1, 0, 0)


class CtapHid:
    """Serves one CTAP2 authenticator's `handle(request, keepalive)` on a file descriptor
    the host's reports arrive on (the pty's master side)."""

    def __init__(self, fd: int, handle: Callable, on_new_host: Callable[[], None] = lambda: None):
        self.fd = fd
        self.handle = handle
        self.on_new_host = on_new_host
        self.channels = set()
        self.frames = []  # every (direction, command) seen, for tests: ("in", "CBOR"), ("out", "KEEPALIVE")
        self._inbox = b""
        self._assembling = None  # (cid, command, length, payload, next sequence)
        self._busy = None  # cid of the CBOR command in progress
        self._cancelled = False
        self._next_cid = 0x01020304
        self.unplugging = False  # set from another thread: a wait for a touch ends at once

    # -- reports in ----------------------------------------------------------------------

    def read_reports(self, timeout: Optional[float]) -> bool:
        """Reads what the host wrote within `timeout` and handles each whole report;
        False when the descriptor is gone."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: no one has the slave side open right now
            return False
        self._inbox += chunk
        while len(self._inbox) >= REPORT_SIZE + 1:
            report, self._inbox = self._inbox[1:REPORT_SIZE + 1], self._inbox[REPORT_SIZE + 1:]
            self._report(report)
        return True

    def _report(self, report: bytes):
        cid = report[:4]
        if report[4] & 0x80:
            command, length = report[4] & 0x7F, struct.unpack(">H", report[5:7])[0]
            self.frames.append(("in", _name(command)))
            self._initial(cid, command, length, report[7:7 + min(length, INIT_PAYLOAD)])
        else:
            self._continuation(cid, report[4], report[5:])

    def _initial(self, cid: bytes, command: int, length: int, payload: bytes):
        if command == CMD_INIT:
            if self._assembling and self._assembling[0] == cid:
                self._assembling = None  # INIT on a channel abandons what it was sending
            if self._busy == cid:
                self._cancelled = True
            self._init(cid, payload)
            return
        if self._busy is not None:
            if cid == self._busy and command == CMD_CANCEL:
                self._cancelled = True
            elif command != CMD_CANCEL:
                self._error(cid, ERR_CHANNEL_BUSY)
            return
        if cid == BROADCAST or cid not in self.channels:
            self._error(cid, ERR_INVALID_CHANNEL)
            return
        if self._assembling and self._assembling[0] != cid:
            self._error(cid, ERR_CHANNEL_BUSY)
            return
        if length > MAX_MESSAGE:
            self._error(cid, ERR_INVALID_LEN)
            return
        self._assembling = (cid, command, length, payload, 0)
        self._maybe_complete()

    def _continuation(self, cid: bytes, sequence: int, payload: bytes):
        if not self._assembling or self._assembling[0] != cid:
            return  # a stray continuation: nothing to add it to
        _, command, length, so_far, expected = self._assembling
        if sequence != expected:
            self._assembling = None
            self._error(cid, ERR_INVALID_SEQ)
            return
        self._assembling = (cid, command, length, so_far + payload[:length - len(so_far)], expected + 1)
        self._maybe_complete()

    def _maybe_complete(self):
        cid, command, length, payload, _ = self._assembling
        if len(payload) < length:
            return
        self._assembling = None
        if command == CMD_PING:
            self._send(cid, CMD_PING, payload)
        elif command == CMD_WINK:
            self._send(cid, CMD_WINK, b"")
        elif command == CMD_CANCEL:
            pass  # nothing in progress to cancel: CANCEL is never answered
        elif command == CMD_CBOR:
            self._busy, self._cancelled = cid, False
            try:
                response = self.handle(payload, self._keepalive)
            finally:
                self._busy = None
            if not self.unplugging:  # a key pulled out mid-command never answers
                self._send(cid, CMD_CBOR, response)
        else:  # MSG (CTAP1/U2F), LOCK and vendor commands are not offered
            self._error(cid, ERR_INVALID_CMD)

    def _init(self, cid: bytes, payload: bytes):
        if len(payload) != 8:
            self._error(cid, ERR_INVALID_LEN)
            return
        if cid == BROADCAST:
            self.on_new_host()
            assigned = struct.pack(">I", self._next_cid)
            self._next_cid += 1
            self.channels.add(assigned)
        else:
            assigned = cid
        self._send(cid, CMD_INIT, payload + assigned + bytes([PROTOCOL_VERSION, *DEVICE_VERSION,
                                                             CAPABILITY_WINK | CAPABILITY_CBOR | CAPABILITY_NMSG]))

    def _keepalive(self, status: int, seconds: float) -> bool:
        """Tells the host the key is still at work (status 2: waiting for a touch), then
        listens for `seconds`; True once the host cancelled."""
        if self.unplugging:
            return True
        self._send(self._busy, CMD_KEEPALIVE, bytes([status]))
        self.read_reports(seconds)
        return self._cancelled or self.unplugging

    # -- reports out ---------------------------------------------------------------------

    def _error(self, cid: bytes, code: int):
        self._send(cid, CMD_ERROR, bytes([code]))

    def _send(self, cid: bytes, command: int, payload: bytes):
        self.frames.append(("out", _name(command)))
        reports = [cid + bytes([0x80 | command]) + struct.pack(">H", len(payload)) + payload[:INIT_PAYLOAD]]
        rest = payload[INIT_PAYLOAD:]
        for sequence in range(0, len(rest), CONT_PAYLOAD):
            reports.append(cid + bytes([sequence // CONT_PAYLOAD]) + rest[sequence:sequence + CONT_PAYLOAD])
        for report in reports:
            self._write(report.ljust(REPORT_SIZE, b"\0"))

    def _write(self, report: bytes):
        # A host that went away leaves nobody to read: drop the report rather than block.
        _, writable, _ = select.select([], [self.fd], [], 1.0)
        if writable:
            try:
                os.write(self.fd, report)
            except OSError:
                pass


def _name(command: int) -> str:
    return {CMD_PING: "PING", CMD_MSG: "MSG", CMD_LOCK: "LOCK", CMD_INIT: "INIT", CMD_WINK: "WINK",
            CMD_CBOR: "CBOR", CMD_CANCEL: "CANCEL", CMD_KEEPALIVE: "KEEPALIVE",
            CMD_ERROR: "ERROR"}.get(command, f"0x{command:02x}")
