"""Job records as the spool writes them, for index and page tests without a server."""

from __future__ import annotations

import json
from pathlib import Path

from printserver.spool.records import JobRecord, OutputRecord, write_record


def put_record(spool: Path, job_id: str, *, where: str = "done", created: str = "2026-11-30T10:00:00+00:00",
               printer: str = "PRINTSCP", calling: str = "CT1", state: str = "done", status: str = "DONE",
               films: int = 1, copies: int = 1, pdf: str = "", patient_id: str = "") -> Path:
    """Write `<job_id>.state.json` where the spool keeps it (jobs/, failed/ or done/); `pdf`: a PDF output
    that wrote this file; `patient_id`: a PACS output that identified the patient (its memo, as outputs/pacs.py
    records it)."""
    folder = spool / {"queued": "jobs", "failed": "failed", "done": "done"}[where]
    folder.mkdir(parents=True, exist_ok=True)
    record = JobRecord(job_uid=f"2.25.{sum(map(ord, job_id)) * 7919}{len(job_id)}", printer=printer,
                       printer_name="printserver", originator=calling, created=created, print_priority="MED",
                       film_session_label="", films=films, copies=copies, execution_status=status, state=state)
    if pdf:
        record.outputs["pdf"] = OutputRecord(kind="pdf", state="done", info="NORMAL", memo={"path": pdf})
    if patient_id:
        record.outputs["pacs"] = OutputRecord(kind="pacs", state="done", info="NORMAL", memo={
            "stored": ["film1"], "patient_id": patient_id, "identity": {"PatientID": "film 1 image box 1"}})
    write_record(folder / f"{job_id}.job", record)
    return folder / f"{job_id}.state.json"


def record_dict(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text()))
