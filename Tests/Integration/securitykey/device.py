"""The key plugged in: a raw pseudo-terminal whose slave side is the device path libfido2
opens, and a thread serving CTAPHID on the master side."""
import contextlib
import os
import select
import termios
import threading

from .authenticator import Authenticator
from .ctap import Status
from .ctaphid import REPORT_SIZE, CtapHid


def _raw(fd: int):
    """No line discipline at all, and reads that wait for a whole 64-byte report: with
    VMIN=64 and VTIME=0 both poll() and read() on the slave see reports, never pieces."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
    cc = list(cc)
    cc[termios.VMIN], cc[termios.VTIME] = REPORT_SIZE, 0
    cflag = (cflag & ~(termios.CSIZE | termios.PARENB)) | termios.CS8 | termios.CREAD | termios.CLOCAL
    termios.tcsetattr(fd, termios.TCSANOW, [0, 0, cflag, 0, ispeed, ospeed, cc])


class VirtualKey(Authenticator):
    """An `Authenticator` on a device path. `path` is what to give libfido2 (and fido2-tools);
    `unplug()` makes it vanish; `frames` lists the CTAPHID traffic; every state the tests may
    assert on is an attribute of `Authenticator`.

    The kernel gives a freed /dev/pts number to the next pseudo-terminal at once (often the
    terminal of the very next program run), so after `unplug()` the old path may well exist
    and be something else. A test of a key that goes away names it by `link`, a symbolic link
    to the pty that unplugging removes, as udev does for /dev/yubikey-style names."""

    def __init__(self, link=None, **options):
        super().__init__(**options)
        self.link = os.fspath(link) if link is not None else None
        self.path = None
        self._thread = None

    def plug_in(self):
        master, slave = os.openpty()
        _raw(slave)
        self._master, self._slave = master, slave  # holding the slave keeps the pty alive between hosts
        self.path = os.ttyname(slave)
        if self.link is not None:
            os.symlink(self.path, self.link)
        self._stop_r, self._stop_w = os.pipe()
        self.hid = CtapHid(master, self.handle, on_new_host=self._flush_stale)
        self._thread = threading.Thread(target=self._serve, name=f"virtual-key {self.path}", daemon=True)
        self._thread.start()
        return self

    @property
    def frames(self):
        return self.hid.frames

    def _flush_stale(self):
        # Reports a previous host left unread (it exited mid-answer) must not reach the next one.
        termios.tcflush(self._slave, termios.TCIFLUSH)

    def _serve(self):
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            if not self.hid.read_reports(0):
                return

    def unplug(self):
        if self._thread is None:
            return
        if self.link is not None and os.path.islink(self.link):
            os.unlink(self.link)
        self.hid.unplugging = True
        os.write(self._stop_w, b"x")
        self._thread.join(10)
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            os.close(fd)
        self._thread = None
        self.power_cycle()


@contextlib.contextmanager
def virtual_key(**options):
    """`with virtual_key(pin="1234") as key:` a FIDO2 security key at `key.path` (and at
    `link`, when given) for as long as the block runs; the other options are
    `Authenticator`'s. A block that ends while the key had hit a bug of its own (it answered
    CTAP1_ERR_OTHER) fails with the traceback."""
    key = VirtualKey(**options).plug_in()
    try:
        yield key
    finally:
        key.unplug()
    bugs = [e.detail for e in key.exchanges if e.status == Status.OTHER]
    assert not bugs, "the software key failed inside:\n" + "\n".join(bugs)
