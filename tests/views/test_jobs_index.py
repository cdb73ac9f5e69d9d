"""The job index over the spool's records: order, filters, paging, change tracking, rebuild."""

from __future__ import annotations

import json
import os
from pathlib import Path

from printserver import config
from printserver.views.jobs import JobFilter, JobIndex, output_states, pdf_paths, timeline
from tests.views.records import put_record


def index(spool: Path, **kwargs: object) -> JobIndex:
    return JobIndex(spool, config.load(None), db_path=":memory:", **kwargs)


def test_newest_first_with_filters_and_pages(tmp_path: Path) -> None:
    for i in range(25):
        put_record(tmp_path, f"{i:04d}", created=f"2026-11-{10 + i % 3:02d}T10:{i:02d}:00+00:00",
                   calling="CT1" if i % 2 else "MR2", printer="PRINTSCP" if i < 20 else "MAMMO")
    idx = index(tmp_path)
    page = idx.list(JobFilter(per_page=10))
    assert page.total == 25 and page.pages == 3
    created = [j["created"] for j in page.jobs]
    assert created == sorted(created, reverse=True)
    assert idx.list(JobFilter(calling_ae="MR2")).total == 13
    assert idx.list(JobFilter(printer="MAMMO")).total == 5
    assert idx.list(JobFilter(date="2026-11-11")).total == 8
    assert idx.list(JobFilter(text="0017")).jobs[0]["id"] == "0017"
    last = idx.list(JobFilter(per_page=10, page=3))
    assert len(last.jobs) == 5 and last.page == 3
    assert idx.list(JobFilter(per_page=10, page=99)).page == 3  # past the end: the last page


def test_sees_state_changes_moves_and_removals(tmp_path: Path) -> None:
    queued = put_record(tmp_path, "a", where="queued", state="queued", status="PENDING")
    put_record(tmp_path, "b")
    idx = index(tmp_path)
    assert {j["id"]: j["state"] for j in idx.list(JobFilter()).jobs} == {"a": "queued", "b": "done"}
    version = idx.version
    (tmp_path / "failed").mkdir()
    os.replace(queued, tmp_path / "failed" / queued.name)  # what spool.fail does
    moved = tmp_path / "failed" / queued.name
    data = json.loads(moved.read_text())
    data.update(state="failed", execution_status="FAILURE")
    moved.write_text(json.dumps(data))
    (tmp_path / "done" / "b.state.json").unlink()
    assert idx.refresh(force=True) == 2
    assert idx.version > version
    rows = idx.list(JobFilter()).jobs
    assert [(j["id"], j["state"], j["location"]) for j in rows] == [("a", "failed", "failed")]
    assert idx.list(JobFilter(state="failed")).total == 1


def test_index_file_lost_or_damaged_is_rebuilt_from_records(tmp_path: Path) -> None:
    put_record(tmp_path, "a")
    db = tmp_path / "console" / "index.sqlite"
    first = JobIndex(tmp_path, db_path=db)
    assert first.list(JobFilter()).total == 1
    first.close()
    db.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    again = JobIndex(tmp_path, db_path=db)
    assert [j["id"] for j in again.list(JobFilter()).jobs] == ["a"]
    assert db.stat().st_mode & 0o077 == 0  # job data: owner only
    again.close()


def test_a_record_written_before_the_lifecycle_is_read_translated(tmp_path: Path) -> None:
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "old.state.json").write_text(json.dumps({
        "job_uid": "2.25.9", "printer": "PRINTSCP", "printer_name": "p", "originator": "CT1",
        "created": "2026-01-01T10:00:00+00:00", "print_priority": "MED", "film_session_label": "", "films": 1,
        "copies": 1, "execution_status": "DONE", "execution_status_info": "NORMAL", "stage": "printed",
        "outputs_written": ["/films/a.pdf"], "history": ["2026-01-01 10:00:05 PDF written"]}))
    idx = index(tmp_path)
    (job,) = idx.list(JobFilter()).jobs
    assert job["state"] == "done"
    assert [e["what"] for e in idx.get("old")["timeline"]][-1] == "done: Execution Status DONE / NORMAL"
    assert "2026-01-01 10:00:05 PDF written" in " ".join(e["what"] for e in idx.get("old")["timeline"])


def test_output_states_pdfs_and_timeline_from_per_output_records() -> None:
    """The shape of the job lifecycle's records (state per output, a timeline of events)."""
    record = {"state": "delivering", "execution_status": "PRINTING", "execution_status_info": "NORMAL",
              "outputs": {"pdf": {"kind": "pdf", "state": "done", "info": "NORMAL", "memo": {"path": "/f/a.pdf"}},
                          "cups": {"kind": "cups", "state": "retrying", "info": "PRINTER OFFLINE",
                                   "reason": "cupsd unreachable", "memo": {"job_id": 9}}},
              "timeline": [{"at": "2026-11-30T10:00:00+00:00", "event": "accepted", "output": "", "detail": "1 film"},
                           {"at": "2026-11-30T10:00:02+00:00", "event": "retrying", "output": "cups",
                            "detail": "cupsd unreachable"}]}
    assert output_states(record) == [
        {"output": "PDF", "state": "done", "detail": "NORMAL a.pdf"},
        {"output": "CUPS", "state": "retrying", "detail": "PRINTER OFFLINE cupsd unreachable job 9"}]
    assert pdf_paths(record) == ["/f/a.pdf"]
    assert [e["what"] for e in timeline(record)] == ["accepted: 1 film", "retrying (cups): cupsd unreachable",
                                                     "delivering: Execution Status PRINTING / NORMAL"]


def test_film_size_and_layout_from_the_job_header_then_kept(tmp_path: Path) -> None:
    put_record(tmp_path, "a", where="queued", state="queued")
    header = json.dumps({"films": [{"film_number": 1, "attributes": {"FilmSizeID": "8INX10IN",
                                                                     "ImageDisplayFormat": "STANDARD\\2,2"}}]})
    (tmp_path / "jobs" / "a.job").write_bytes(b"PSJOB1\n" + len(header).to_bytes(8, "big") + header.encode())
    idx = index(tmp_path)
    assert idx.list(JobFilter()).jobs[0]["film_size"] == "8INX10IN"
    # delivered: the job file is gone, the record moves to done/; the index keeps what it learned
    (tmp_path / "done").mkdir()
    os.replace(tmp_path / "jobs" / "a.state.json", tmp_path / "done" / "a.state.json")
    (tmp_path / "jobs" / "a.job").unlink()
    idx.refresh(force=True)
    job = idx.list(JobFilter()).jobs[0]
    assert (job["location"], job["film_size"], job["layout"]) == ("done", "8INX10IN", "STANDARD\\2,2")


def test_counters_per_printer(tmp_path: Path) -> None:
    put_record(tmp_path, "a", created="2026-11-30T09:00:00+00:00", films=2, copies=2)
    put_record(tmp_path, "b", created="2026-11-30T09:30:00+00:00", where="failed", state="failed")
    put_record(tmp_path, "c", created="2026-11-29T09:30:00+00:00")
    put_record(tmp_path, "d", created="2026-11-30T11:00:00+00:00", where="queued", state="queued")
    counters = index(tmp_path).counters("2026-11-30")["PRINTSCP"]
    assert counters == {"films_today": 6, "jobs_today": 3, "failed": 1, "waiting": 1}
