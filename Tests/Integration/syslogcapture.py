"""What pam_syslog wrote: there is no syslog daemon on these machines, so a test binds the
datagram socket /dev/log itself for the duration of a test and reads what arrives."""
import errno
import os
import socket
import stat
import threading
import time


class SyslogCapture:
    PATH = "/dev/log"

    def __init__(self):
        if os.path.lexists(self.PATH):
            mode = os.lstat(self.PATH).st_mode
            if not stat.S_ISSOCK(mode):
                raise RuntimeError(f"{self.PATH} exists and is not a socket; cannot capture syslog")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.connect(self.PATH)
                raise RuntimeError(f"a syslog daemon is listening on {self.PATH}; stop it to run these tests")
            except ConnectionRefusedError:
                os.unlink(self.PATH)  # stale socket from an earlier run
            finally:
                probe.close()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.PATH)
        os.chmod(self.PATH, 0o666)
        self.sock.settimeout(0.05)
        self.lines = []
        self.severities = []
        self.lock = threading.Lock()
        self.running = True
        # Drain continuously: syslog(3) blocks when a datagram socket's queue is full (10
        # messages by default), and the module logs from inside this very process.
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    @classmethod
    def when_free(cls, timeout=300):
        """A capture, once no other test run on this machine holds /dev/log: each holds it for
        one test (or one module), so two runs at once take turns instead of failing. A real
        syslog daemon still fails, after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return cls()
            except (RuntimeError, OSError) as e:
                busy = "listening" in str(e) or getattr(e, "errno", None) == errno.EADDRINUSE
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _drain(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            # <PRI>Mon DD HH:MM:SS tag[pid]: message
            severity = None
            if text.startswith("<") and ">" in text:
                pri = text[1:text.index(">")]
                severity = int(pri) & 7 if pri.isdigit() else None
                text = text[text.index(">") + 1:]
                parts = text.split(" ", 3)
                text = parts[3] if len(parts) == 4 else text
            with self.lock:
                self.lines.append(text)
                self.severities.append(severity)

    def read(self) -> list:
        """Every message received so far (the syslog header stripped to 'tag: text')."""
        import time
        time.sleep(0.1)
        with self.lock:
            return list(self.lines)

    def errors(self) -> list:
        """Messages logged at LOG_ERR or more severe."""
        self.read()
        with self.lock:
            return [l for l, s in zip(self.lines, self.severities) if s is not None and s <= 3]

    def close(self):
        self.running = False
        self.reader.join(1)
        self.sock.close()
        try:
            os.unlink(self.PATH)
        except FileNotFoundError:
            pass
