"""CUPS output through pycups: film -> media, copies, priority, title, options; job state; queue health.

pycups is imported lazily (`printserver[cups]`), so a server without CUPS printers never needs it.
Errors are sorted into what delivery can wait out (`CupsUnavailable`: cupsd unreachable, queue
missing, stopped or not accepting) and what it cannot (`CupsRejected`: the job itself was refused).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MM_PER_INCH = 25.4
#: Print Priority -> IPP job-priority (1..100; CUPS orders its queue by it)
JOB_PRIORITY = {"HIGH": 80, "MED": 50, "LOW": 20}
# IPP job-state (RFC 8011 5.3.7)
JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED, JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = range(3, 10)
# IPP printer-state
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5
_PWG_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(in|mm)$")
_lock = threading.Lock()  # cups.setServer is process-global
#: What cupsd and its ipp backend say (C locale) while the printer behind a queue cannot be reached. CUPS 2.4 sets
#: no printer-state-reasons keyword for it (the queue stays "processing", the job is held with
#: resources-are-not-ready between attempts), so the message is the only sign while the job is processing.
_UNREACHABLE = ("may not exist or is unavailable", "is not responding", "unable to connect", "unable to locate printer")


class CupsUnavailable(Exception):
    """Delivery must wait: cupsd unreachable, queue missing, stopped or not accepting jobs."""

    def __init__(self, message: str, status_info: str = "PRINTER DOWN") -> None:
        super().__init__(message)
        self.status_info = status_info


class CupsRejected(Exception):
    """CUPS refused this job for good (bad document, bad option)."""


def available() -> bool:
    try:
        import cups  # noqa: F401
    except ImportError:
        return False
    return True


def _module() -> Any:
    try:
        import cups
    except ImportError:
        raise CupsUnavailable("pycups is not installed (pip install 'printserver[cups]')",
                              "PRINTER DOWN") from None
    return cups


def resolve_server(server: str) -> str:
    """The configured server, else CUPS_SERVER, else the system default ('' = libcups decides)."""
    return server or os.environ.get("CUPS_SERVER", "")


@contextmanager
def connection(server: str) -> Iterator[Any]:
    """A pycups Connection to `server` (setServer must precede Connection, notes: cups-testbed)."""
    cups = _module()
    with _lock:
        target = resolve_server(server)
        if target:
            cups.setServer(target)
        try:
            conn = cups.Connection()
        except RuntimeError as exc:
            raise CupsUnavailable(f"cupsd {target or '(default)'} unreachable: {exc}", "PRINTER DOWN") from None
    yield conn


def media_size_mm(keyword: str) -> tuple[float, float] | None:
    """Width x height in mm of a PWG self-describing media name (iso_a4_210x297mm, oe_14x17_14x17in)."""
    m = _PWG_SIZE.search(keyword)
    if not m:
        return None
    scale = MM_PER_INCH if m.group(3) == "in" else 1.0
    return float(m.group(1)) * scale, float(m.group(2)) * scale


@dataclass(frozen=True)
class MediaChoice:
    keyword: str
    size_mm: tuple[float, float] | None
    exact: bool  # the media is the film's size (either orientation)
    note: str = ""


def choose_media(film_size_id: str, film_mm: tuple[float, float], supported: list[str], default: str,
                 overrides: dict[str, str]) -> MediaChoice:
    """The queue's media for a film: the admin's override if the queue has it, else the media of the film's
    size, else the queue's default (with a note saying so)."""
    wanted = overrides.get(film_size_id)
    if wanted:
        if wanted in supported:
            size = media_size_mm(wanted)
            return MediaChoice(wanted, size, size is not None and _same(size, film_mm))
        note = f"cups_media {film_size_id}={wanted} is not in the queue's media-supported"
    else:
        note = ""
    for keyword in supported:
        size = media_size_mm(keyword)
        if size is not None and _same(size, film_mm):
            return MediaChoice(keyword, size, True, note)
    why = f"no media of {film_size_id} ({film_mm[0]:.0f}x{film_mm[1]:.0f} mm) in the queue; using {default}"
    return MediaChoice(default, media_size_mm(default), False, "; ".join(filter(None, (note, why))))


def _same(a: tuple[float, float], b: tuple[float, float], tol: float = 1.5) -> bool:
    w, h = sorted(a)
    fw, fh = sorted(b)
    return abs(w - fw) <= tol and abs(h - fh) <= tol


def parse_options(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split())


def job_options(media: str, copies: int, priority: str, medium_type: str, destination: str,
                cfg: dict[str, Any]) -> dict[str, str]:
    """IPP/CUPS options of a film job. print-scaling=none: the document is already the size to print."""
    options = {"media": media, "print-scaling": "none", "copies": str(copies),
               "job-priority": str(JOB_PRIORITY.get(priority, 50))}
    options.update(parse_options(cfg.get("medium_type", {}).get(medium_type, "")))
    options.update(parse_options(cfg.get("film_destination", {}).get(destination, "")))
    options.update(cfg.get("options", {}))
    return options


def queue_attributes(conn: Any, queue: str) -> dict[str, Any]:
    cups = _module()
    try:
        return conn.getPrinterAttributes(queue)
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS queue {queue}: {_ipp_text(exc)}", "PRINTER OFFLINE") from None


def check_queue(attrs: dict[str, Any], queue: str) -> None:
    """Raise CupsUnavailable when the queue cannot take a job now."""
    if not attrs.get("printer-is-accepting-jobs", True):
        raise CupsUnavailable(f"CUPS queue {queue} is not accepting jobs", "PRINTER OFFLINE")


def submit(conn: Any, queue: str, document: str, title: str, options: dict[str, str]) -> int:
    cups = _module()
    try:
        return int(conn.printFile(queue, document, title, options))
    except cups.IPPError as exc:
        status = exc.args[0] if exc.args else None
        if status in (cups.IPP_NOT_ACCEPTING, cups.IPP_NOT_FOUND, cups.IPP_SERVICE_UNAVAILABLE,
                      getattr(cups, "IPP_NOT_POSSIBLE", -1)):
            raise CupsUnavailable(f"CUPS queue {queue}: {_ipp_text(exc)}", "PRINTER OFFLINE") from None
        raise CupsRejected(f"CUPS refused the job: {_ipp_text(exc)}") from None


@dataclass(frozen=True)
class JobStatus:
    state: int
    #: The printer behind the queue cannot be reached while CUPS holds the job (it retries, notes: cups-testbed)
    device_unreachable: bool


def device_unreachable(message: str) -> bool:
    return any(m in message.lower() for m in _UNREACHABLE)


def job_status(conn: Any, job_id: int) -> JobStatus:
    cups = _module()
    try:
        attrs = conn.getJobAttributes(job_id)
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS job {job_id}: {_ipp_text(exc)}", "PRINTER DOWN") from None
    state = int(attrs["job-state"])
    reasons = attrs.get("job-state-reasons", [])
    reasons = [reasons] if isinstance(reasons, str) else list(reasons)
    unreachable = (state == JOB_HELD and "resources-are-not-ready" in reasons) or \
        (state == JOB_PROCESSING and device_unreachable(str(attrs.get("job-printer-state-message", ""))))
    return JobStatus(state, unreachable)


def cancel_job(conn: Any, job_id: int) -> int:
    """Cancel a CUPS job that has not started printing; its job-state afterwards (7 = canceled)."""
    cups = _module()
    try:
        if job_status(conn, job_id).state in (JOB_PENDING, JOB_HELD, JOB_STOPPED):
            conn.cancelJob(job_id)
    except cups.IPPError as exc:
        raise CupsUnavailable(f"CUPS job {job_id}: {_ipp_text(exc)}", "PRINTER DOWN") from None
    return job_status(conn, job_id).state


def _ipp_text(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[1]) if len(args) > 1 else str(exc)


def queue_health(server: str, queue: str) -> tuple[str, str, str]:
    """(Printer Status, Printer Status Info, why) of a CUPS queue, for the Printer SOP instance."""
    try:
        with connection(server) as conn:
            attrs = queue_attributes(conn, queue)
    except CupsUnavailable as exc:
        return "FAILURE", exc.status_info, str(exc)
    if not attrs.get("printer-is-accepting-jobs", True):
        return "FAILURE", "PRINTER OFFLINE", f"CUPS queue {queue} is not accepting jobs"
    if attrs.get("printer-state") == PRINTER_STOPPED:
        return "WARNING", "PRINTER OFFLINE", f"CUPS queue {queue} is stopped (films wait in the spool)"
    if device_unreachable(str(attrs.get("printer-state-message", ""))):
        return "WARNING", "PRINTER OFFLINE", f"the printer behind CUPS queue {queue} does not answer (CUPS retries)"
    return "NORMAL", "NORMAL", ""
