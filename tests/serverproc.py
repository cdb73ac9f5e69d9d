"""`printserver serve` as a real process on 127.0.0.1, for interop and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.dcmtk import free_port


class ServerProcess:
    """Runs `python -m printserver serve` in its own process group; always stopped by the test."""

    def __init__(self, base: Path, *, port: int | None = None, extra: list[str] | None = None) -> None:
        self.base = base
        self.port = port or free_port()
        self.films = base / "films"
        self.spool = base / "spool"
        self.log = base / "server.log"
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> ServerProcess:
        cmd = [sys.executable, "-m", "printserver", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--output", str(self.films), "--spool", str(self.spool),
               *([] if "--web" in self.extra else ["--no-web"]),  # never the shared default port 8080
               *self.extra]
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         cwd=self.base)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()}")
            if "listening on" in self.log.read_text():
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return self
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL the server and its render workers at once (the whole process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def dump_stacks(self) -> None:
        """Every server thread's stack into its log (SIGUSR1, net/scp.py), so a stuck wait shows where."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM: the graceful stop a service manager sends."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        if os.environ.get("DUMP_STACKS"):
            self.dump_stacks()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def pdfs(self) -> list[Path]:
        return sorted(self.films.rglob("*.pdf"))

    def pending_jobs(self) -> list[Path]:
        return sorted((self.spool / "jobs").glob("*.job"))

    def wait_drained(self, count: int, timeout: float = 60) -> list[Path]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.pdfs()) >= count and not self.pending_jobs():
                return self.pdfs()
            time.sleep(0.05)
        self.dump_stacks()
        raise TimeoutError(f"{len(self.pdfs())} PDFs of {count}, {len(self.pending_jobs())} jobs pending:\n"
                           f"{self.log.read_text()[-12000:]}")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.kill()


def wait_until(cond: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `cond` every 0.1 s until it is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
