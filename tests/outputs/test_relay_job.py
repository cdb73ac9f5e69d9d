"""Following the upstream's Print Job (outputs/relay_job.py), rule by rule, in memory: the upstream's answers
come from a scripted `ask` (the wire is tested in tests/interop/test_relay_follow.py)."""

from __future__ import annotations

from typing import Any

import pytest

from printserver.errors import ConfigError
from printserver.outputs.base import Done, Failed, Wait
from printserver.outputs.relay_job import POLL_MAX, follow, follow_values, from_events, handed_over
from printserver.scu.transport import EventReport, PrintClientError
from printserver.spool.lifecycle import PEER_EXECUTION, OutputState
from printserver.uids import PRINT_JOB

NOW = 1_000_000.0


class Upstream:
    """A scripted upstream: answers each N-GET round with the next entry of `rounds`, records what was asked."""

    def __init__(self, *rounds: Any) -> None:
        self.rounds = list(rounds)
        self.asked: list[dict[str, str]] = []

    def __call__(self, jobs: dict[str, str]) -> Any:
        self.asked.append(dict(jobs))
        answer = self.rounds.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def step(memo: dict[str, Any], upstream: Upstream, now: float = NOW, timeout: float = 3600) -> Any:
    return follow(memo, called_ae="LASER1", job_timeout=timeout, ask=upstream, now=now)


ONE = {"printed": ["film1"], "jobs": {"film1": "1.2.3.1"}, "since": NOW - 1}


def test_the_table_maps_every_execution_status_to_an_output_state() -> None:
    assert PEER_EXECUTION == {"PENDING": OutputState.SENT, "PRINTING": OutputState.PRINTING,
                              "DONE": OutputState.DONE, "FAILURE": OutputState.FAILED}


@pytest.mark.parametrize(("status", "info", "kind", "printing", "our_info"), [
    ("PENDING", "QUEUED", Wait, False, "QUEUED"),
    ("PRINTING", "NORMAL", Wait, True, "NORMAL"),
    ("DONE", "NORMAL", Done, None, "NORMAL"),
    ("FAILURE", "FILM JAM", Failed, None, "FILM JAM"),
    ("FAILURE", "not a code string!", Failed, None, "CHECK PRINTER"),
])
def test_our_output_follows_the_upstream_status_with_its_info(status: str, info: str, kind: type, printing: Any,
                                                               our_info: str) -> None:
    result = step(ONE, Upstream({"film1": (status, info)}))
    assert isinstance(result, kind) and result.info == our_info, result
    if kind is Wait:
        assert result.printing is printing and "film1" in result.detail and status in result.detail
    if kind is Failed:
        assert result.reason == f"LASER1 reports its Print Job for film1 FAILURE ({info})"
    assert result.memo["seen"] == {"film1": [status, info]}


def test_the_film_furthest_from_done_speaks_and_one_failure_fails_the_output() -> None:
    memo = {"printed": ["film1", "film2", "film3"], "jobs": {"film1": "u1", "film2": "u2", "film3": "u3"}}
    waiting = step(memo, Upstream({"film1": ("DONE", "NORMAL"), "film2": ("PRINTING", "NORMAL"),
                                   "film3": ("PENDING", "QUEUED")}))
    assert isinstance(waiting, Wait) and not waiting.printing and waiting.info == "QUEUED"
    upstream = Upstream({"film2": ("PRINTING", "NORMAL"), "film3": ("FAILURE", "SUPPLY EMPTY")})
    failed = step(dict(waiting.memo or {}), upstream)
    assert upstream.asked == [{"film2": "u2", "film3": "u3"}]  # a job that ended is not asked again
    assert isinstance(failed, Failed) and failed.info == "SUPPLY EMPTY" and "film3" in failed.reason


def test_done_when_every_job_is_done_or_cannot_be_told_any_more() -> None:
    memo = {"printed": ["film1", "film2"], "jobs": {"film1": "u1", "film2": "u2"}}
    result = step(memo, Upstream({"film1": ("DONE", "NORMAL"),
                                  "film2": ("", "its Print Job N-GET answered No such SOP Instance (0x0112)")}))
    assert isinstance(result, Done), result
    assert result.detail == ("2 film(s) printed on LASER1; its Print Job says DONE for 1; its Print answer stands "
                             "for film2: its Print Job N-GET answered No such SOP Instance (0x0112)")


def test_without_any_upstream_job_the_print_answer_is_the_truth() -> None:
    upstream = Upstream()
    result = step({"printed": ["film1"], "jobs": {}}, upstream)
    assert isinstance(result, Done) and result.detail == "1 film(s) printed on LASER1" and upstream.asked == []


def test_polls_space_out_and_an_unreachable_or_busy_upstream_keeps_the_state() -> None:
    afters = []
    memo: dict[str, Any] = dict(ONE)
    for answer in [{"film1": ("PRINTING", "NORMAL")}, PrintClientError("association rejected"), None,
                   OSError("connection reset"), {"film1": ("PRINTING", "NORMAL")}, {"film1": ("PRINTING", "NORMAL")}]:
        result = step(memo, Upstream(answer))
        assert isinstance(result, Wait) and result.printing, result  # what was last seen holds
        afters.append(result.after)
        memo = dict(result.memo or {})
    assert afters == [0.5, 1.0, 2.0, 4.0, POLL_MAX, POLL_MAX]


def test_a_job_that_stays_printing_past_job_timeout_fails_saying_so() -> None:
    memo = ONE | {"since": NOW - 120}
    assert isinstance(step(memo, Upstream({"film1": ("PRINTING", "NORMAL")}), timeout=121), Wait)
    result = step(memo, Upstream({"film1": ("PENDING", "QUEUED")}), timeout=100)
    assert isinstance(result, Failed) and result.info == "QUEUED"
    assert result.reason == "LASER1's Print Job for film1 still PENDING (QUEUED) after 120 s (job_timeout = 100 s)"
    gone = step(memo, Upstream(PrintClientError("association rejected")), timeout=100)  # unreachable all along
    assert isinstance(gone, Failed) and "still PRINTING" in gone.reason and "association rejected" in gone.reason


def test_the_clock_starts_at_the_first_step_when_the_memo_has_none() -> None:
    """A journal recovered after a kill -9 knows the job UIDs but not when following began."""
    result = step({"printed": ["film1"], "jobs": {"film1": "u1"}}, Upstream({"film1": ("PRINTING", "NORMAL")}))
    assert isinstance(result, Wait) and (result.memo or {})["since"] == NOW


def test_events_received_on_the_print_association_count_as_seen() -> None:
    def event(type_id: int, uid: str, info: str) -> EventReport:
        from pydicom.dataset import Dataset

        ds = Dataset()
        ds.ExecutionStatusInfo = info
        return EventReport(PRINT_JOB, type_id, ds, uid)

    events = [event(1, "u1", "QUEUED"), event(2, "u1", "NORMAL"), event(3, "other", "NORMAL"), event(2, "u2", "X")]
    assert from_events(events, {"film1": "u1"}) == {"film1": ("PRINTING", "NORMAL")}


def test_configuration_and_cancel() -> None:
    assert follow_values({}, "k") == {"job_timeout": 3600.0}
    assert follow_values({"job_timeout": 90}, "k") == {"job_timeout": 90.0}
    for bad in (0, -1, "1h", True, 10**9):
        with pytest.raises(ConfigError, match=r"^printer\[0\]\.relay\[0\]\.job_timeout: must be 1\.\.604800"):
            follow_values({"job_timeout": bad}, "printer[0].relay[0]")
    assert handed_over({"printed": []}, "LASER1") is None
    assert handed_over({"printed": ["film1"]}, "LASER1") == \
        "1 film(s) already handed to LASER1 (a DICOM printer cannot be asked to withdraw one)"
