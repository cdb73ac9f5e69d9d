"""The job lifecycle as one table: states, allowed transitions, and what the modality is told in each.

A job moves  queued -> rendering -> rendered -> delivering -> done | failed | canceled,  and inside
`delivering` each of its outputs (PDF folder, CUPS queue, PACS, ...) moves on its own through
queued -> [rendering] -> sent / printing / retrying -> done | failed | canceled.  For every state the table
gives the Print Job Execution Status (PS3.3 C.13.8) and Execution Status Info (C.13.9.1; None = the info the
output or the failure reported), hence the Print Job N-EVENT-REPORT that a change implies (PS3.4 H.4.5.1.2:
Event Type ID = EVENT_TYPE_ID[execution status], sent whenever status or info changes). While a job is
delivering, the modality sees the output furthest from done (`OUTPUT_RANK`): a film on paper and in the PACS
is DONE only when both are. A job ends when every output has ended: done if all are done, failed if one
failed (a retry then redoes only the failed ones).

Nothing outside this module names a state by a string; every change goes through `enter` / `enter_output`,
which refuse a transition the table does not allow and write the job's timeline (for `printserver jobs show`
and the console).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from printserver.spool.records import JobRecord, OutputRecord

# Execution Status (PS3.3 C.13.8) and the Print Job N-EVENT-REPORT Event Type IDs (PS3.4 H.4.5.1.2)
PENDING, PRINTING, DONE, FAILURE = "PENDING", "PRINTING", "DONE", "FAILURE"
EVENT_TYPE_ID = {PENDING: 1, PRINTING: 2, DONE: 3, FAILURE: 4}
TIMELINE_MAX = 200


class LifecycleError(Exception):
    """A transition the table does not allow (a bug, or an admin request that does not apply)."""


class JobState(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    RENDERED = "rendered"
    DELIVERING = "delivering"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class OutputState(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    SENT = "sent"
    PRINTING = "printing"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class Row:
    execution_status: str
    info: str | None  # None: the info reported with the change
    next: frozenset[Any]
    meaning: str
    folder: str = "jobs"  # where the job file is while in this state: jobs/, failed/, done/ (record only)

    @property
    def event_type_id(self) -> int:
        return EVENT_TYPE_ID[self.execution_status]


J, O = JobState, OutputState  # noqa: E741 - short names keep the tables readable

JOB_LIFECYCLE: dict[JobState, Row] = {
    J.QUEUED: Row(PENDING, "QUEUED", frozenset({J.RENDERING, J.RENDERED, J.CANCELED}),
                  "accepted and on disk, waiting for a render worker (RENDERED: its renditions survived a restart)"),
    J.RENDERING: Row(PRINTING, "NORMAL", frozenset({J.RENDERED, J.QUEUED, J.FAILED, J.CANCELED}),
                     "a render worker composes the films and writes the renditions the outputs need "
                     "(canceled only once no worker has it: withdrawn, or left by a stop)"),
    J.RENDERED: Row(PRINTING, "NORMAL", frozenset({J.DELIVERING, J.CANCELED, J.QUEUED}),
                    "renditions written; delivery starts (a restart delivers, it does not render again)"),
    J.DELIVERING: Row(PENDING, None, frozenset({J.DONE, J.FAILED, J.CANCELED, J.QUEUED}),
                      "each output delivers on its own; the status is that of the output furthest from done"),
    J.DONE: Row(DONE, "NORMAL", frozenset(), "every output has the film; the record is kept in done/", "done"),
    J.FAILED: Row(FAILURE, None, frozenset({J.QUEUED, J.RENDERED}),
                  "rendering failed, or an output failed for good; kept in failed/ with the reason", "failed"),
    J.CANCELED: Row(FAILURE, "NORMAL", frozenset({J.QUEUED, J.RENDERED}),
                    "canceled by the admin before any output produced what it cannot take back", "failed"),
}

OUTPUT_LIFECYCLE: dict[OutputState, Row] = {
    O.QUEUED: Row(PENDING, "QUEUED", frozenset(O) - {O.QUEUED}, "not tried yet"),
    O.RENDERING: Row(PRINTING, "NORMAL", frozenset({O.QUEUED, O.FAILED, O.CANCELED}),
                     "waits for a rendition it asked for (e.g. fit onto the queue's paper)"),
    O.SENT: Row(PENDING, None, frozenset({O.PRINTING, O.DONE, O.RETRYING, O.FAILED, O.CANCELED, O.QUEUED}),
                "handed over and waiting there (e.g. queued in CUPS, or held while the printer is away)"),
    O.PRINTING: Row(PRINTING, None, frozenset({O.SENT, O.DONE, O.RETRYING, O.FAILED}),
                    "handed over and being produced; can no longer be canceled"),
    O.RETRYING: Row(PENDING, None, frozenset(O) - {O.RETRYING, O.QUEUED},
                    "could not deliver now (peer down, queue stopped); tried again with backoff until give-up"),
    O.DONE: Row(DONE, "NORMAL", frozenset(), "the output has the film; never redone"),
    O.FAILED: Row(FAILURE, None, frozenset({O.QUEUED}), "refused for good, or gave up; `jobs retry` redoes it"),
    O.CANCELED: Row(FAILURE, "NORMAL", frozenset({O.QUEUED}), "withdrawn by the admin"),
}

#: Which output the modality hears about while a job is delivering: the highest rank among unfinished ones.
OUTPUT_RANK = {O.PRINTING: 1, O.RENDERING: 2, O.QUEUED: 3, O.SENT: 4, O.RETRYING: 5}
FINISHED = frozenset({O.DONE, O.FAILED, O.CANCELED})

#: An output that follows a Print Job of its own peer (the relay, outputs/relay_job.py): the peer's Execution
#: Status -> this output's state, so the modality's Print Job tells what the real imager says (its Execution
#: Status Info becomes the output's info). A peer job ended DONE or FAILURE ends the output.
PEER_EXECUTION: dict[str, OutputState] = {PENDING: O.SENT, PRINTING: O.PRINTING, DONE: O.DONE, FAILURE: O.FAILED}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _log(record: JobRecord, event: str, output: str = "", detail: str = "") -> None:
    record.timeline.append({"at": now_iso(), "event": event, "output": output, "detail": detail})
    if len(record.timeline) > TIMELINE_MAX:  # keep how it began and how it is going
        record.timeline[1:] = record.timeline[-(TIMELINE_MAX - 1):]


def _allowed(table: dict[Any, Row], before: Any, after: Any, what: str) -> None:
    if after != before and after not in table[before].next:
        raise LifecycleError(f"{what}: {before} -> {after} is not a transition of the job lifecycle")


def execution(record: JobRecord) -> tuple[str, str]:
    """(Execution Status, Execution Status Info) the job's state implies."""
    state = JobState(record.state)
    row = JOB_LIFECYCLE[state]
    if state is J.DELIVERING:
        waiting = [o for o in record.outputs.values() if OutputState(o.state) not in FINISHED]
        if waiting:
            worst = max(waiting, key=lambda o: OUTPUT_RANK[OutputState(o.state)])
            out_row = OUTPUT_LIFECYCLE[OutputState(worst.state)]
            return out_row.execution_status, out_row.info or worst.info or "NORMAL"
        failed = [o for o in record.outputs.values() if OutputState(o.state) is not O.DONE]
        return (FAILURE, failed[0].info or "CHECK PRINTER") if failed else (DONE, "NORMAL")  # ending now
    return row.execution_status, row.info or record.failure_info or "NORMAL"


def _settle(record: JobRecord) -> None:
    record.execution_status, record.execution_status_info = execution(record)


def enter(record: JobRecord, state: JobState, detail: str = "", *, info: str = "") -> JobRecord:
    """Move the job to `state` (same state: only the detail is logged). `info`: the failure's Status Info."""
    before = JobState(record.state)
    _allowed(JOB_LIFECYCLE, before, state, f"job {record.job_uid}")
    record.state = state.value
    if state in (J.FAILED, J.CANCELED):
        record.failure_info = info or ("NORMAL" if state is J.CANCELED else "CHECK PRINTER")
        record.reason = detail
    elif state is J.QUEUED or state is J.RENDERED:
        record.failure_info, record.reason = "", ""
    if state != before or detail:
        _log(record, state.value, "", detail)
    _settle(record)
    return record


def enter_output(record: JobRecord, output_id: str, state: OutputState, *, info: str = "", detail: str = "",
                 memo: dict[str, Any] | None = None) -> OutputRecord:
    """Move one output of the job; logs the change (or a detail worth keeping, e.g. each retry's reason)."""
    out = record.outputs[output_id]
    before = OutputState(out.state)
    _allowed(OUTPUT_LIFECYCLE, before, state, f"job {record.job_uid} output {output_id}")
    out.state = state.value
    out.info = OUTPUT_LIFECYCLE[state].info or info or "NORMAL"
    if memo is not None:
        out.memo = dict(memo)
    if state in (O.FAILED, O.RETRYING, O.CANCELED):
        out.reason = detail
    elif state is O.DONE or state is O.QUEUED:
        out.reason = ""
    if state != before or (detail and state in (O.RETRYING, O.FAILED)):
        _log(record, state.value, output_id, detail)
    _settle(record)
    return out


def outcome(record: JobRecord) -> JobState | None:
    """DONE / FAILED once every output has ended, else None (still delivering)."""
    states = [OutputState(o.state) for o in record.outputs.values()]
    if any(s not in FINISHED for s in states):
        return None
    return J.DONE if all(s is O.DONE for s in states) else J.FAILED


def reset_for_retry(record: JobRecord, state: JobState, detail: str) -> JobRecord:
    """`jobs retry`: the outputs that did not finish well start over, the done ones stay done."""
    for output_id, out in record.outputs.items():
        if OutputState(out.state) not in (O.DONE, O.QUEUED):
            enter_output(record, output_id, O.QUEUED, memo={})
        out.attempts, out.first_failure = 0, None
    return enter(record, state, detail)
