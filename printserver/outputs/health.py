"""Is a printer able to print? The truth behind Printer Status / Printer Status Info.

The worst of the configured status and every output's own `health()` (PDF folder not writable -> FAILURE /
PRINTER DOWN; cupsd down -> FAILURE / PRINTER DOWN, queue rejecting -> FAILURE / PRINTER OFFLINE, queue
stopped -> WARNING / PRINTER OFFLINE: films wait in the spool; ...). Results are cached briefly so a Printer
N-GET stays fast.
"""

from __future__ import annotations

import logging
import threading
import time

from printserver.config import PrinterProfile
from printserver.outputs.plan import outputs_of

log = logging.getLogger(__name__)

CACHE_SECONDS = 1.0
_RANK = {"NORMAL": 0, "WARNING": 1, "FAILURE": 2}


def check(profile: PrinterProfile) -> tuple[str, str, str]:
    """(Printer Status, Printer Status Info, why) - the worst of the configured status and every output."""
    results = [(profile.printer_status, profile.printer_status_info, "configured")]
    for output in outputs_of(profile, profile.ae_title):
        try:
            results.append(output.health())
        except Exception as exc:  # a broken check says so instead of hiding the printer
            log.exception("%s: health check failed", output.key)
            results.append(("FAILURE", "PRINTER DOWN", f"{output.key}: health check failed: {exc}"))
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
