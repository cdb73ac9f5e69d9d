"""Real storage peers for the archive tests: Orthanc (a PACS with a REST API) and DCMTK storescp.

Each runs as a child process from a private folder on loopback ports, is started and stopped by its
fixture by PID, and every wait is bounded. Orthanc's config follows /work/shared/notes/peers-and-tools.md:
remote access off, called AE checked (a wrong one gets A-ASSOCIATE-RJ), no plug-ins. No pytest
dependency, so benchmarks and scripts can use it too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.dcmtk import LOCALHOST, free_port

ORTHANC = "/usr/sbin/Orthanc"


def orthanc_available() -> bool:
    return Path(ORTHANC).exists()


def storescp_available() -> bool:
    return shutil.which("storescp") is not None


def dciodvfy(path: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) dicom3tools' IOD checker reports for a DICOM file."""
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    lines = (run.stdout + run.stderr).splitlines()
    return [x for x in lines if x.startswith("Error")], [x for x in lines if x.startswith("Warning")]


class Orthanc:
    """One private Orthanc; `stop()`/`start()` keep its storage (a PACS that goes down and comes back)."""

    def __init__(self, base: Path, aet: str = "ORTHANC", extra: dict[str, Any] | None = None) -> None:
        """`extra`: more configuration (e.g. `DicomTlsEnabled` and its certificate files)."""
        self.base = base
        self.aet = aet
        self.dicom_port = free_port()
        self.http_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        base.mkdir(parents=True, exist_ok=True)
        self.config = base / "orthanc.json"
        self.config.write_text(json.dumps({
            "Name": "printserver-test", "StorageDirectory": str(base / "storage"),
            "IndexDirectory": str(base / "index"), "DicomAet": aet, "DicomPort": self.dicom_port,
            "HttpPort": self.http_port, "RemoteAccessAllowed": False, "AuthenticationEnabled": False,
            "DicomCheckCalledAet": True, "Plugins": [], "HttpServerEnabled": True, "DicomServerEnabled": True,
            "StableAge": 1, "ConcurrentJobs": 1, "HttpThreadsCount": 4, **(extra or {}),
        }))

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.http_port}"

    def start(self, timeout: float = 30) -> Orthanc:
        self.log = open(self.base / "orthanc.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([ORTHANC, str(self.config)], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.base)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.proc.returncode}: "
                                   f"{(self.base / 'orthanc.log').read_text(errors='replace')[-2000:]}")
            try:
                self.get("/system")
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer on {self.url} within {timeout} s")

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        self.log.close()

    def __enter__(self) -> Orthanc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- REST (loopback only) ----------------------------------------------------------------------

    def _open(self, path: str, data: bytes | None = None) -> bytes:
        req = urllib.request.Request(self.url + path, data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=10) as resp:
            return bytes(resp.read())

    def get(self, path: str) -> Any:
        return json.loads(self._open(path))

    def post(self, path: str, body: Any) -> Any:
        return json.loads(self._open(path, json.dumps(body).encode()))

    def instances(self) -> list[str]:
        return list(self.get("/instances"))

    def tags(self, instance: str) -> dict[str, Any]:
        return dict(self.get(f"/instances/{instance}/simplified-tags"))

    def file(self, instance: str, target: Path) -> Path:
        target.write_bytes(self._open(f"/instances/{instance}/file"))
        return target

    def wait_instances(self, count: int, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.instances()
            if len(found) >= count:
                return found
            time.sleep(0.2)
        return self.instances()


class StoreSCP:
    """DCMTK storescp writing every received object into `base/in` (one file per SOP instance)."""

    def __init__(self, base: Path, aet: str = "STORESCP", args: Sequence[str] = ()) -> None:
        """`args`: more storescp options (`+tls KEY CERT +cf CA -rc` for DICOM TLS, `+xa` to accept every
        transfer syntax it knows: by default it takes uncompressed ones only)."""
        self.base = base
        self.aet = aet
        self.args = list(args)
        self.port = free_port()
        self.folder = base / "in"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> StoreSCP:
        import socket

        self.log = open(self.base / "storescp.log", "ab")  # noqa: SIM115 - closed in stop()
        # file names from the SOP instance UID (storescp's default): a resent object overwrites, as a PACS keeps one
        self.proc = subprocess.Popen(["storescp", "-aet", self.aet, "-od", str(self.folder), *self.args,
                                      str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"storescp exited with {self.proc.returncode}")
            try:
                with socket.create_connection((LOCALHOST, self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("storescp did not listen")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        self.log.close()

    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.iterdir() if p.is_file())

    def __enter__(self) -> StoreSCP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
