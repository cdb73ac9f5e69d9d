"""Is a printer's output able to print? The truth behind Printer Status / Printer Status Info.

PDF folder not writable -> FAILURE / PRINTER DOWN; CUPS queue checked through pycups (cupsd down ->
FAILURE / PRINTER DOWN, queue rejecting -> FAILURE / PRINTER OFFLINE, queue stopped -> WARNING /
PRINTER OFFLINE: films wait in the spool). Results are cached briefly so a Printer N-GET stays fast.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from printserver.config import PrinterProfile

CACHE_SECONDS = 1.0
_RANK = {"NORMAL": 0, "WARNING": 1, "FAILURE": 2}


def _folder_health(folder: str) -> tuple[str, str, str]:
    path = Path(folder)
    while not path.exists() and path != path.parent:
        path = path.parent  # the folder is created on demand: its nearest existing parent must be writable
    if not path.is_dir():
        return "FAILURE", "PRINTER DOWN", f"output folder {folder}: {path} is not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return "FAILURE", "PRINTER DOWN", f"output folder {folder} is not writable"
    return "NORMAL", "NORMAL", ""


def check(profile: PrinterProfile) -> tuple[str, str, str]:
    """(Printer Status, Printer Status Info, why) - the worst of the configured status and every output."""
    results = [(profile.printer_status, profile.printer_status_info, "configured")]
    if profile.pdf_dir:
        results.append(_folder_health(profile.pdf_dir))
    if profile.cups_queue:
        from printserver.outputs import cups

        results.append(cups.queue_health(profile.cups_server, profile.cups_queue))
    return max(results, key=lambda r: _RANK.get(r[0], 0))


class HealthCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[str, str, str]]] = {}

    def get(self, profile: PrinterProfile) -> tuple[str, str, str]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(profile.ae_title)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        result = check(profile)
        self.put(profile, result)
        return result

    def put(self, profile: PrinterProfile, result: tuple[str, str, str]) -> None:
        """A fresh result from elsewhere (the event monitor): N-GET and events then tell the same."""
        with self._lock:
            self._cache[profile.ae_title] = (time.monotonic(), result)
