"""The record of each print job: where it is on its way to every output, kept beside the job file.

One small JSON file per job (`<job>.state.json`, written atomically) says what the modality is told by
Print Job N-GET and N-EVENT-REPORT, what `printserver jobs` and the console show (state per output, the
timeline), and where delivery resumes after a restart (each output's state and memo: an output already done
is not redone, a CUPS job already submitted is polled, not printed twice). States and their meaning are
spool/lifecycle.py's; this module only stores them. Listeners (the Print Job event sender) are told of
every change of Execution Status or Status Info.

The record (JSON):
  job_uid, printer (called AE), printer_name, originator (calling AE), created, print_priority,
  film_session_label, films, copies,
  state                      job state (lifecycle.JobState)
  execution_status, execution_status_info   what Print Job N-GET answers now
  reason, failure_info       why it failed (state failed/canceled)
  outputs: {id: {kind, state, info, reason, memo, attempts, first_failure}}   per output (lifecycle.OutputState)
  warnings: [text]           substitutions worth telling (paper smaller than the film, ...)
  timeline: [{at, event, output, detail}]   accepted, rendered, each output's changes and retries
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from printserver.model.job import PrintJob
from printserver.spool.lifecycle import DONE, EVENT_TYPE_ID, FAILURE, PENDING, PRINTING, JobState, now_iso
from printserver.spool.paths import JobPaths

__all__ = ["DONE", "EVENT_TYPE_ID", "FAILURE", "PENDING", "PRINTING", "JobBook", "JobRecord", "OutputRecord",
           "read_record", "write_record"]

log = logging.getLogger(__name__)


@dataclass
class OutputRecord:
    kind: str
    state: str = "queued"
    info: str = "QUEUED"
    reason: str = ""
    #: The output's own small memory across steps and restarts (e.g. {"job_id": 12} for CUPS)
    memo: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    first_failure: float | None = None


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
    state: str = JobState.QUEUED.value
    execution_status: str = PENDING
    execution_status_info: str = "QUEUED"
    reason: str = ""
    failure_info: str = ""
    outputs: dict[str, OutputRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timeline: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def for_job(cls, job: PrintJob, printer: str) -> JobRecord:
        record = cls(job_uid=job.job_uid, printer=printer, printer_name=job.printer_name, originator=job.calling_ae,
                     created=job.created, print_priority=str(job.session.get("PrintPriority", "MED")),
                     film_session_label=str(job.session.get("FilmSessionLabel", "")), films=len(job.films),
                     copies=job.copies, warnings=list(job.findings))  # values a lenient printer replaced
        record.timeline.append({"at": now_iso(), "event": "accepted", "output": "",
                                "detail": f"{len(job.films)} film(s) from {job.calling_ae or 'unknown AE'}"})
        return record

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        known = {f.name for f in fields(cls)}
        if "stage" in data:  # a record written before the lifecycle table: keep what it knew
            data = _legacy(data)
        outputs = {k: OutputRecord(**v) for k, v in data.get("outputs", {}).items()}
        return cls(**{k: v for k, v in data.items() if k in known and k != "outputs"}, outputs=outputs)


def _legacy(data: dict[str, Any]) -> dict[str, Any]:
    was = {"printed": "done", "printing": "delivering", "retrying": "delivering"}.get(data["stage"], data["stage"])
    data = dict(data, state=was if was in set(JobState) else JobState.QUEUED.value)
    if data.get("cups_job_id") is not None:
        data["outputs"] = {"cups": {"kind": "cups", "state": "sent", "memo": {"job_id": data["cups_job_id"]}}}
    data["timeline"] = [{"at": "", "event": "note", "output": "", "detail": h} for h in data.get("history", [])]
    return data


def state_path(job_path: Path) -> Path:
    return JobPaths.of(job_path).state


def read_record(job_path: Path) -> JobRecord | None:
    try:
        return JobRecord.from_json(json.loads(state_path(job_path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_record(job_path: Path, record: JobRecord) -> None:
    from printserver.outputs.files import private_open

    target = state_path(job_path)
    tmp = target.with_name(f".{target.name}.tmp")
    with private_open(tmp, "w") as fh:
        json.dump(asdict(record), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


Listener = Callable[[JobRecord], None]


class JobBook:
    """Thread-safe access to the records of the jobs in the spool, and change notification."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
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
        """The record of a just-spooled job; its outputs come from the job's snapshot when not given."""
        if not record.outputs:
            from printserver.outputs.plan import from_snapshot
            from printserver.spool.store import Spool

            _, snapshot = Spool.load_header(job_path)
            record.outputs = {o.id: OutputRecord(o.kind) for o in from_snapshot(snapshot)}
        write_record(job_path, record)
        with self._lock:
            self._by_uid[record.job_uid] = record
            self._notify(record)

    def change(self, job_path: Path, change: Callable[[JobRecord], Any]) -> JobRecord | None:
        """Apply `change` (lifecycle.enter / enter_output ...) to the job's record, durably; listeners hear of
        Execution Status / Info changes. None when the job has no record (any more)."""
        with self._lock:
            record = read_record(job_path)
            if record is None:
                return None
            before = (record.execution_status, record.execution_status_info)
            change(record)
            write_record(job_path, record)
            self._by_uid[record.job_uid] = record
            if (record.execution_status, record.execution_status_info) != before:
                self._notify(record)  # under the lock: listeners hear the changes in the order they happened
        return record

    def _notify(self, record: JobRecord) -> None:
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:  # a listener never stops a job
                log.exception("job listener failed for %s", record.job_uid)
