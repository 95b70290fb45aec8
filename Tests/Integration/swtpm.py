"""A software TPM 2.0 (swtpm) on a unix socket, started and stopped by a test."""
import os
import pathlib
import shutil
import socket
import subprocess
import time

import processes


class SoftwareTPM:
    def __init__(self, workdir: pathlib.Path):
        if shutil.which("swtpm") is None:
            raise RuntimeError("swtpm is not installed: run `make deps`")
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "state").mkdir(exist_ok=True)
        self.socket = self.dir / "swtpm.sock"
        self.proc = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.dir / 'state'}",
             "--server", f"type=unixio,path={self.socket}", "--ctrl", f"type=unixio,path={self.socket}.ctrl",
             "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.socket.exists():
                try:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(str(self.socket))
                    s.close()
                    return
                except OSError:
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"swtpm did not start: {self.proc.stderr.read().decode(errors='replace')}")

    @property
    def tcti(self) -> str:
        return f"swtpm:path={self.socket}"

    def stop(self):
        processes.stop(self.proc)
