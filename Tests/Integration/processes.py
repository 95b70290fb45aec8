"""Stopping a server a test started (sshd, swtpm): politely, then for sure."""
import subprocess


def stop(proc: subprocess.Popen, grace: float = 5):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
