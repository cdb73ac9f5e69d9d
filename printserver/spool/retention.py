"""How long a delivered job's pixels stay: its job file in spool/done/, for a re-print (spool/reprint.py).

`Spool.finish` moves a delivered job's file to done/ (stamped with the delivery time) when
`server.keep_printed_days` > 0; the server's admin thread (spool/admin.py) calls `sweep` at start and every
SWEEP_SECONDS, which removes the files older than that, at most SWEEP_MAX per call so a spool with
thousands of old files never stalls the thread that also answers retry/cancel requests. The job's record
(no pixels) stays in done/ either way: `printserver jobs` and the console still list the job. With 0 days
the first sweep removes every kept file, as if the job files had never been kept.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from printserver.spool.store import SUFFIX, Spool

log = logging.getLogger(__name__)

SWEEP_SECONDS = 600.0
SWEEP_MAX = 500
DAY = 86400.0


def kept_job(spool: Spool, job_id: str) -> Path:
    """Where a delivered job's file is kept (it may not exist: never kept, or swept)."""
    return spool.done / f"{job_id}{SUFFIX}"


def sweep(spool: Spool, keep_days: float, *, now: float | None = None, limit: int = SWEEP_MAX) -> int:
    """Remove up to `limit` kept job files delivered more than `keep_days` ago; returns how many."""
    cutoff = (time.time() if now is None else now) - keep_days * DAY
    removed = 0
    try:
        with os.scandir(spool.done) as entries:
            for entry in entries:
                if removed >= limit:
                    break
                if not entry.name.endswith(SUFFIX) or entry.name.startswith("."):
                    continue
                try:
                    if entry.stat().st_mtime <= cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    continue
    except FileNotFoundError:
        return 0
    if removed:
        log.info("removed the pixels of %d delivered job(s) older than %g day(s) (server.keep_printed_days)",
                 removed, keep_days)
    return removed


class Sweeper:
    """Calls `sweep` when due; driven by a thread that wakes often anyway (the admin thread)."""

    def __init__(self, spool: Spool, keep_days: float, every: float = SWEEP_SECONDS) -> None:
        self.spool = spool
        self.keep_days = keep_days
        self.every = every
        self._next = 0.0  # due at once: a lowered keep_printed_days takes effect at start

    def tick(self) -> int:
        if time.monotonic() < self._next:
            return 0
        removed = sweep(self.spool, self.keep_days)
        # a full batch: more are waiting, come back soon (still bounded per call)
        self._next = time.monotonic() + (1.0 if removed >= SWEEP_MAX else self.every)
        return removed
