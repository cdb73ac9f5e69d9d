"""Job records as the spool writes them, for index and page tests without a server."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from printserver.spool.records import JobRecord, write_record


def put_record(spool: Path, job_id: str, *, where: str = "done", created: str = "2026-11-30T10:00:00+00:00",
               printer: str = "PRINTSCP", calling: str = "CT1", stage: str = "printed", status: str = "DONE",
               films: int = 1, copies: int = 1, **extra: object) -> Path:
    """Write `<job_id>.state.json` where the spool keeps it (jobs/, failed/ or done/)."""
    folder = spool / {"queued": "jobs", "failed": "failed", "done": "done"}[where]
    folder.mkdir(parents=True, exist_ok=True)
    record = JobRecord(job_uid=f"2.25.{abs(hash(job_id)) % 10**12}", printer=printer, printer_name="printserver",
                       originator=calling, created=created, print_priority="MED", film_session_label="",
                       films=films, copies=copies, execution_status=status, stage=stage)
    for key, value in extra.items():
        setattr(record, key, value)
    write_record(folder / f"{job_id}.job", record)
    return folder / f"{job_id}.state.json"


def record_dict(path: Path) -> dict[str, object]:
    import json

    return dict(json.loads(path.read_text()))


__all__ = ["asdict", "put_record", "record_dict"]
