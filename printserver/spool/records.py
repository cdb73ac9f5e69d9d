"""The record of each print job: where it is on its way to paper, kept beside the job file.

One small JSON file per job (`<job>.state.json`, written atomically) says what the modality is told
by Print Job N-GET and N-EVENT-REPORT, what `printserver jobs` lists, and where delivery resumes
after a restart (e.g. the CUPS job already submitted is polled, not printed twice). Listeners
(the Print Job event sender) are told of every change of Execution Status or Status Info.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from printserver.model.job import PrintJob

log = logging.getLogger(__name__)

STATE_SUFFIX = ".state.json"

# Execution Status (PS3.3 C.13.8) and the Print Job N-EVENT-REPORT Event Type IDs (PS3.4 H.4.5.1.2)
PENDING, PRINTING, DONE, FAILURE = "PENDING", "PRINTING", "DONE", "FAILURE"
EVENT_TYPE_ID = {PENDING: 1, PRINTING: 2, DONE: 3, FAILURE: 4}


@dataclass
class JobRecord:
    job_uid: str
    printer: str  # called AE title of the virtual printer
    printer_name: str
    originator: str  # calling AE title
    created: str
    print_priority: str
    film_session_label: str
    films: int
    copies: int
    execution_status: str = PENDING
    execution_status_info: str = "QUEUED"
    #: Where the job is, in printserver's words: queued, rendering, delivering, retrying, printed, failed, canceled
    stage: str = "queued"
    outputs_written: list[str] = field(default_factory=list)
    cups_job_id: int | None = None
    attempts: int = 0
    next_attempt: float = 0.0
    first_failure: float | None = None
    warnings: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)

    @classmethod
    def for_job(cls, job: PrintJob, printer: str) -> JobRecord:
        return cls(job_uid=job.job_uid, printer=printer, printer_name=job.printer_name, originator=job.calling_ae,
                   created=job.created, print_priority=str(job.session.get("PrintPriority", "MED")),
                   film_session_label=str(job.session.get("FilmSessionLabel", "")), films=len(job.films),
                   copies=job.copies)


def state_path(job_path: Path) -> Path:
    return job_path.with_name(job_path.stem + STATE_SUFFIX)


def read_record(job_path: Path) -> JobRecord | None:
    try:
        return JobRecord(**json.loads(state_path(job_path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_record(job_path: Path, record: JobRecord) -> None:
    target = state_path(job_path)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(asdict(record), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


Listener = Callable[[JobRecord], None]


class JobBook:
    """Thread-safe access to the records of the jobs in the spool, and change notification."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._by_uid: dict[str, JobRecord] = {}

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def get(self, job_uid: str) -> JobRecord | None:
        with self._lock:
            return self._by_uid.get(job_uid)

    def load(self, job_path: Path) -> JobRecord | None:
        record = read_record(job_path)
        if record is not None:
            with self._lock:
                self._by_uid[record.job_uid] = record
        return record

    def create(self, job_path: Path, record: JobRecord) -> None:
        write_record(job_path, record)
        with self._lock:
            self._by_uid[record.job_uid] = record
        self._notify(record)

    def update(self, job_path: Path, **changes: Any) -> JobRecord | None:
        """Change a job's record (durably); listeners hear of Execution Status / Info changes."""
        with self._lock:
            record = read_record(job_path)
            if record is None:
                return None
            before = (record.execution_status, record.execution_status_info)
            note = changes.pop("note", None)
            for key, value in changes.items():
                setattr(record, key, value)
            if note:
                record.history.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {note}")
                record.history = record.history[-50:]
            write_record(job_path, record)
            self._by_uid[record.job_uid] = record
        if (record.execution_status, record.execution_status_info) != before:
            self._notify(record)
        return record

    def _notify(self, record: JobRecord) -> None:
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:  # a listener never stops a job
                log.exception("job listener failed for %s", record.job_uid)
