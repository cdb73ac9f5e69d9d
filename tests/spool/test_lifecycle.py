"""The job lifecycle table in memory: transitions, what the modality is told in each state, the timeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from printserver.spool.lifecycle import (
    EVENT_TYPE_ID,
    JOB_LIFECYCLE,
    OUTPUT_LIFECYCLE,
    OUTPUT_RANK,
    JobState,
    LifecycleError,
    OutputState,
    enter,
    enter_output,
    execution,
    outcome,
    reset_for_retry,
)
from printserver.spool.records import JobRecord, OutputRecord

PACKAGE = Path(__file__).resolve().parents[2] / "printserver"


def record(*outputs: str) -> JobRecord:
    rec = JobRecord("2.25.7", "PRINTSCP", "printserver", "CT", "2026-12-01T10:00:00+00:00", "MED", "", 1, 1)
    rec.outputs = {o: OutputRecord(o) for o in outputs}
    return rec


def delivering(*outputs: str) -> JobRecord:
    rec = record(*outputs)
    for state in (JobState.RENDERING, JobState.RENDERED, JobState.DELIVERING):
        enter(rec, state)
    return rec


def test_the_tables_are_closed_and_every_state_implies_an_event() -> None:
    assert set(JOB_LIFECYCLE) == set(JobState) and set(OUTPUT_LIFECYCLE) == set(OutputState)
    for table, states in ((JOB_LIFECYCLE, JobState), (OUTPUT_LIFECYCLE, OutputState)):
        for row in table.values():
            assert row.next <= set(states) and row.execution_status in EVENT_TYPE_ID
    assert JOB_LIFECYCLE[JobState.DONE].next == frozenset() and OUTPUT_LIFECYCLE[OutputState.DONE].next == frozenset()
    assert {JOB_LIFECYCLE[s].event_type_id for s in JobState} == {1, 2, 3, 4}
    assert set(OUTPUT_RANK) == set(OutputState) - {OutputState.DONE, OutputState.FAILED, OutputState.CANCELED}


def test_a_job_walks_queued_to_done_and_tells_the_modality_each_step() -> None:
    rec = record("pdf")
    seen = [(rec.execution_status, rec.execution_status_info)]
    for state in (JobState.RENDERING, JobState.RENDERED, JobState.DELIVERING):
        enter(rec, state)
        seen.append((rec.execution_status, rec.execution_status_info))
    enter_output(rec, "pdf", OutputState.DONE, detail="written /films/x.pdf")
    seen.append((rec.execution_status, rec.execution_status_info))
    assert outcome(rec) is JobState.DONE
    enter(rec, JobState.DONE)
    assert seen == [("PENDING", "QUEUED"), ("PRINTING", "NORMAL"), ("PRINTING", "NORMAL"), ("PENDING", "QUEUED"),
                    ("DONE", "NORMAL")]
    assert [(t["event"], t["output"]) for t in rec.timeline] == [
        ("rendering", ""), ("rendered", ""), ("delivering", ""), ("done", "pdf"), ("done", "")]
    assert rec.timeline[3]["detail"] == "written /films/x.pdf"


@pytest.mark.parametrize(("start", "to"), [(JobState.QUEUED, JobState.DONE), (JobState.DONE, JobState.RENDERING),
                                          (JobState.QUEUED, JobState.DELIVERING)])
def test_a_transition_outside_the_table_is_refused(start: JobState, to: JobState) -> None:
    rec = record("pdf")
    rec.state = start.value
    with pytest.raises(LifecycleError, match=f"{start} -> {to}"):
        enter(rec, to)
    assert rec.state == start.value


def test_an_output_printing_cannot_be_canceled_and_done_is_final() -> None:
    rec = delivering("cups")
    enter_output(rec, "cups", OutputState.PRINTING, info="NORMAL")
    with pytest.raises(LifecycleError):
        enter_output(rec, "cups", OutputState.CANCELED)
    enter_output(rec, "cups", OutputState.DONE)
    with pytest.raises(LifecycleError):
        enter_output(rec, "cups", OutputState.QUEUED)


def test_while_delivering_the_modality_hears_the_output_furthest_from_done() -> None:
    rec = delivering("pdf", "cups", "pacs")
    enter_output(rec, "pdf", OutputState.DONE)
    enter_output(rec, "cups", OutputState.PRINTING, info="NORMAL")
    assert execution(rec) == ("PENDING", "QUEUED")  # the PACS has not been tried yet
    enter_output(rec, "pacs", OutputState.RETRYING, info="PRINTER DOWN", detail="connection refused")
    assert execution(rec) == ("PENDING", "PRINTER DOWN") == (rec.execution_status, rec.execution_status_info)
    assert rec.outputs["pacs"].reason == "connection refused"
    enter_output(rec, "pacs", OutputState.DONE)
    assert execution(rec) == ("PRINTING", "NORMAL")  # only CUPS left, and it is printing
    enter_output(rec, "cups", OutputState.SENT, info="PRINTER OFFLINE")  # CUPS holds it: printer away
    assert execution(rec) == ("PENDING", "PRINTER OFFLINE") and outcome(rec) is None
    enter_output(rec, "cups", OutputState.FAILED, info="CHECK PRINTER", detail="aborted")
    assert outcome(rec) is JobState.FAILED and execution(rec) == ("FAILURE", "CHECK PRINTER")


def test_retry_starts_over_only_what_did_not_finish_well() -> None:
    rec = delivering("pdf", "cups")
    enter_output(rec, "pdf", OutputState.DONE, memo={"path": "/films/a.pdf"})
    enter_output(rec, "cups", OutputState.SENT, info="QUEUED", memo={"job_id": 7})
    rec.outputs["cups"].attempts = 3
    enter_output(rec, "cups", OutputState.FAILED, info="CHECK PRINTER", detail="aborted by the printer")
    enter(rec, JobState.FAILED, "cups: aborted by the printer", info="CHECK PRINTER")
    assert (rec.execution_status, rec.execution_status_info, rec.reason) == \
        ("FAILURE", "CHECK PRINTER", "cups: aborted by the printer")
    reset_for_retry(rec, JobState.RENDERED, "retried by the admin")
    assert rec.outputs["pdf"].state == "done" and rec.outputs["pdf"].memo == {"path": "/films/a.pdf"}
    cups = rec.outputs["cups"]
    assert (cups.state, cups.memo, cups.attempts, cups.reason) == ("queued", {}, 0, "")
    assert (rec.state, rec.reason, rec.execution_status) == ("rendered", "", "PRINTING")
    assert rec.timeline[-1]["detail"] == "retried by the admin"


def test_no_stage_string_and_no_state_literal_outside_the_table() -> None:
    """The lifecycle is data in one module: nothing else spells a state into a record."""
    states = "|".join(sorted({s.value for s in JobState} | {s.value for s in OutputState}))
    assignment = re.compile(rf"""(\bstage\s*=|\.state\s*=\s*["'](?:{states})["'])""")
    offenders = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py") if p.name != "lifecycle.py"
                 for n, line in enumerate(p.read_text().splitlines(), 1) if assignment.search(line)]
    assert offenders == []
