"""The truth travels back: a relayed film's output follows the upstream's own Print Job.

An upstream print SCP that supports the Print Job SOP class (and accepted it on the association) answers
each Print N-ACTION with a Referenced Print Job Sequence (PS3.4 H.4.2.2.4 film session, H.4.3.2 film box);
that Print Job SOP instance (H.4.5) then tells Execution Status PENDING / PRINTING / DONE / FAILURE and
Execution Status Info. The relay keeps those UIDs in its memo (and its journal, written the moment the
answer came) and, once its films are printed, asks each job with N-GET on a new short association per
delivery step, returning `Wait(after=...)` in between, so no delivery thread is held while the imager
works. Our output follows the upstream (`lifecycle.PEER_EXECUTION`): PENDING -> sent, PRINTING -> printing,
DONE -> done, FAILURE -> failed, the upstream's Execution Status Info becoming our output's info, hence our
own Print Job's Execution Status Info and N-EVENT-REPORTs to the modality.

Without a Print Job at the upstream (no reference in its answer, the class not accepted, or its N-GET
refused: 0112 when it deleted the job, 0211, 0110, ...) the N-ACTION's success is the truth: done.
`job_timeout` (seconds since the last film's Print) bounds how long a job staying PENDING/PRINTING is
followed; then the output fails saying so. An upstream that cannot be reached while we follow leaves the
output as it was (the poll is tried again, within the same bound). A kill -9 while following resumes
polling from the memo: nothing is printed again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from printserver.errors import ConfigError
from printserver.outputs.base import Done, Failed, Step, Wait
from printserver.spool.lifecycle import DONE, OUTPUT_RANK, PEER_EXECUTION, PENDING, PRINTING, OutputState

if TYPE_CHECKING:
    from printserver.scu.client import PrintClient

log = logging.getLogger(__name__)

JOB_TIMEOUT = 3600.0  # default `job_timeout`, seconds
JOB_TIMEOUT_RANGE = (1.0, 7 * 86400.0)
POLL_FIRST, POLL_MAX = 0.5, 5.0  # seconds between polls: doubling from POLL_FIRST up to POLL_MAX
_CS = re.compile(r"^[A-Z0-9 _]{1,16}$")  # a Code String value (Execution Status Info, PS3.5 6.2)

#: {film label: upstream Print Job UID} -> {film label: (Execution Status, Execution Status Info)}; an empty
#: status: the upstream cannot tell (its N-GET refused; the info says how). None: not asked now (upstream busy).
Ask = Callable[[dict[str, str]], dict[str, tuple[str, str]] | None]


def follow_values(table: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`job_timeout` of one relay table, checked; ConfigError names the key."""
    value = table.get("job_timeout", JOB_TIMEOUT)
    low, high = JOB_TIMEOUT_RANGE
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{key}.job_timeout: must be {low:g}..{high:g} seconds (how long an upstream Print Job "
                          f"staying PENDING or PRINTING is followed)")
    return {"job_timeout": float(value)}


def status_info(value: str, default: str) -> str:
    """The upstream's Execution Status Info as ours (a Code String of at most 16 characters), else `default`."""
    value = (value or "").strip().upper()
    return value if _CS.match(value) else default


def ask_upstream(client: PrintClient, jobs: dict[str, str]) -> dict[str, tuple[str, str]]:
    """One Print Job N-GET per job on `client`'s association."""
    from printserver.scu.transport import Reply
    from printserver.status import describe

    answers = {}
    for label, uid in jobs.items():
        answer = client.print_job_status(uid)
        if isinstance(answer, Reply):
            why = f"its Print Job N-GET answered {describe(answer.status)} (0x{answer.status:04X})"
            answers[label] = ("", why + (f": {answer.error_comment}" if answer.error_comment else ""))
            continue
        status = answer.get("ExecutionStatus", "").strip().upper()
        if status not in PEER_EXECUTION:
            answers[label] = ("", f"its Print Job has Execution Status {status or '(none)'!r}")
        else:
            answers[label] = (status, answer.get("ExecutionStatusInfo", ""))
    return answers


def follow(memo: Mapping[str, Any], *, called_ae: str, job_timeout: float, ask: Ask, now: float) -> Step:
    """One step of following the upstream jobs in `memo["jobs"]` (film label -> Print Job UID); `now`: time.time().

    The output takes the state of the film furthest from done (`lifecycle.OUTPUT_RANK`), fails as soon as one
    upstream job failed, and is done when every one is (or cannot be told any more)."""
    from printserver.scu.transport import PrintClientError

    memo = dict(memo)
    jobs: dict[str, str] = dict(memo.get("jobs", {}))
    seen: dict[str, tuple[str, str]] = {k: (str(v[0]), str(v[1])) for k, v in dict(memo.get("seen", {})).items()}
    since = float(memo.get("since") or now)
    polls = int(memo.get("polls", 0))
    asking = {label: uid for label, uid in jobs.items() if seen.get(label, (PENDING, ""))[0] in (PENDING, PRINTING)}
    problem = ""
    if asking:
        try:
            answers = ask(asking)
        except (PrintClientError, OSError, ConfigError) as exc:
            answers, problem = None, f"could not ask {called_ae} how its jobs go: {exc}"
        for label, (status, info) in (answers or {}).items():
            if seen.get(label) != (status, info):
                log.info("%s's Print Job %s for %s: %s (%s)", called_ae, jobs[label], label, status or "unknown", info)
            seen[label] = (status, info)
        if problem:
            log.warning("%s; asking again later", problem)
    memo.update(seen={k: list(v) for k, v in seen.items()}, since=since, polls=polls + 1)
    printed = len(memo.get("printed", []))

    # a job not answered yet: printing as far as we know (its Print was accepted)
    states = {label: PEER_EXECUTION.get(seen.get(label, (PRINTING, ""))[0], OutputState.DONE) for label in jobs}
    for label, state in states.items():
        if state is OutputState.FAILED:
            info = seen[label][1]
            return Failed(reason=f"{called_ae} reports its Print Job for {label} FAILURE ({info or 'no status info'})",
                          info=status_info(info, "CHECK PRINTER"), memo=memo)
    waiting = [label for label, state in states.items() if state is not OutputState.DONE]
    if not waiting:
        told = sum(1 for label in jobs if seen.get(label, ("",))[0] == DONE)
        untold = [f"{label}: {seen[label][1]}" for label in jobs if not seen.get(label, (DONE,))[0]]
        return Done(detail=f"{printed} film(s) printed on {called_ae}" +
                    (f"; its Print Job says DONE for {told}" if told else "") +
                    (f"; its Print answer stands for {'; '.join(untold)}" if untold else ""), memo=memo)
    label = max(waiting, key=lambda w: OUTPUT_RANK[states[w]])
    status, info = seen.get(label, (PRINTING, ""))
    if now - since > job_timeout:
        reason = f"{called_ae}'s Print Job for {label} still {status} ({info or 'no status info'}) after " \
                 f"{now - since:.0f} s (job_timeout = {job_timeout:g} s)"
        return Failed(reason=reason + (f"; {problem}" if problem else ""),
                      info=status_info(info, "CHECK PRINTER"), memo=memo)
    return Wait(after=min(POLL_FIRST * 2 ** polls, POLL_MAX), printing=states[label] is OutputState.PRINTING,
                info=status_info(info, "NORMAL"), memo=memo,
                detail=f"{label} {status} on {called_ae}" + (f" ({info})" if info else ""))


def from_events(events: list[Any], jobs: dict[str, str]) -> dict[str, tuple[str, str]]:
    """What the upstream's Print Job N-EVENT-REPORTs on the print association already told (PS3.4 H.4.5.1.2:
    Event Type ID 1..4 = PENDING, PRINTING, DONE, FAILURE): the last one per job."""
    from printserver import uids
    from printserver.spool.lifecycle import EVENT_TYPE_ID

    by_type = {v: k for k, v in EVENT_TYPE_ID.items()}
    by_uid = {uid: label for label, uid in jobs.items()}
    told = {}
    for e in events:
        label = by_uid.get(getattr(e, "sop_instance_uid", ""))
        if e.sop_class_uid == uids.PRINT_JOB and label and e.event_type_id in by_type:
            info = e.information.get("ExecutionStatusInfo", "") if e.information is not None else ""
            told[label] = (by_type[e.event_type_id], str(info or ""))
    return told


def handed_over(memo: Mapping[str, Any], called_ae: str) -> str | None:
    """Why a relay output cannot be canceled any more (films already printed upstream), else None."""
    printed = list(memo.get("printed", []))
    if not printed:
        return None
    return f"{len(printed)} film(s) already handed to {called_ae} (a DICOM printer cannot be asked to withdraw one)"
