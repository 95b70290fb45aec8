"""What pam_syslog wrote: there is no syslog daemon on these machines, so a test binds the
datagram socket /dev/log itself for the duration of a test and reads what arrives."""
import os
import socket
import stat


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
        self.sock.setblocking(False)
        self.lines = []

    def read(self) -> list:
        """Every message received so far (the syslog header stripped to 'tag: text')."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            text = data.decode(errors="replace")
            # <PRI>Mon DD HH:MM:SS tag[pid]: message
            if text.startswith("<") and ">" in text:
                text = text[text.index(">") + 1:]
                parts = text.split(" ", 3)
                text = parts[3] if len(parts) == 4 else text
            self.lines.append(text)
        return list(self.lines)

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.PATH)
        except FileNotFoundError:
            pass
