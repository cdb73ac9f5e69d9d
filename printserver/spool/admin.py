"""Retry and cancel spooled jobs: done by the server that owns the spool, or by the CLI when none runs.

A running server holds the spool lock and is the only process that changes its jobs. `printserver jobs
retry|cancel` then drops a request file into spool/requests/ (written atomically) and waits, bounded, for
the answer the server writes beside it. The server's `AdminRequests` thread looks for requests every
`SCAN_SECONDS` and carries each out in step with the thread working on the job (the render pool, the
delivery thread), so a job is never changed behind its back. Claiming a request is a rename: the server
and a CLI giving up cannot both take it.

Cancel means "this film will not be printed" and succeeds only while that can be guaranteed: the job is
waiting to be rendered, waiting for a delivery (re)try, or queued in CUPS and not yet printing (the CUPS
job is canceled and must then read canceled). A job being rendered is answered once its render ends (the
request waits); a job CUPS is printing or has printed cannot be canceled, and the answer says so. A
canceled job goes to spool/failed/ with the reason, its record says FAILURE, stage canceled. Retry moves
a failed job back into the queue with a fresh record; the server then renders or delivers it at once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from printserver.errors import SpoolError
from printserver.outputs import cups as C
from printserver.spool.records import FAILURE, PENDING, read_record, write_record
from printserver.spool.store import SUFFIX, Spool

if TYPE_CHECKING:
    from printserver.spool.delivery import Delivery
    from printserver.spool.records import JobBook
    from printserver.spool.worker import Dispatcher

log = logging.getLogger(__name__)

SCAN_SECONDS = 0.5
CANCELED = "canceled by the admin (printserver jobs cancel)"


class Busy(Exception):
    """The job is in a step that must end before the request can be judged (e.g. rendering): ask again later."""


def rows(spool: Spool) -> list[tuple[str, str, Path]]:
    """(where, job ID, path) of every job: queued (jobs/), failed, done (records only)."""
    out = []
    for where, folder in (("queued", spool.jobs), ("failed", spool.failed)):
        out += [(where, p.stem, p) for p in sorted(folder.glob(f"*{SUFFIX}"))]
    out += [("done", p.name.removesuffix(".state.json"), p) for p in sorted(spool.done.glob("*.state.json"))]
    return out


def find(spool: Spool, job_id: str, where: str) -> Path:
    hits = [p for w, stem, p in rows(spool) if w == where and stem.startswith(job_id)]
    if len(hits) != 1:
        raise SpoolError(f"job {job_id}: {'no' if not hits else 'more than one'} {where} job matches")
    return hits[0]


def retry(spool: Spool, job_id: str) -> Path:
    """A failed job back into jobs/ with a fresh record (PENDING/QUEUED, no attempts, no CUPS job)."""
    path = find(spool, job_id, "failed")
    rec = read_record(path)
    target = spool.jobs / path.name
    for side in path.parent.glob(f"{path.stem}.*"):
        if side != path and not side.name.endswith(".reason.txt"):
            os.replace(side, spool.jobs / side.name)
    (path.parent / f"{path.stem}.reason.txt").unlink(missing_ok=True)
    os.replace(path, target)
    if rec is not None:
        write_record(target, replace(rec, execution_status=PENDING, execution_status_info="QUEUED", stage="queued",
                                     attempts=0, first_failure=None, next_attempt=0.0, cups_job_id=None,
                                     history=[*rec.history, "retried by the admin"][-50:]))
    return target


def cancel(spool: Spool, job_id: str, book: JobBook | None = None) -> Path:
    """Cancel a waiting job (see the module doc); raise SpoolError when it may already be on paper."""
    path = find(spool, job_id, "queued")
    rec = read_record(path)
    if rec is not None and rec.cups_job_id is not None:
        _, outputs = Spool.load(path)
        try:
            with C.connection(outputs["cups"].get("server", "")) as conn:
                state = C.cancel_job(conn, rec.cups_job_id)
        except C.CupsUnavailable as exc:
            raise SpoolError(f"job {path.stem}: cannot cancel CUPS job {rec.cups_job_id}: {exc}") from None
        if state not in (C.JOB_CANCELED, C.JOB_ABORTED):
            what = "has printed" if state == C.JOB_COMPLETED else "is printing"
            raise SpoolError(f"job {path.stem}: CUPS {what} it (CUPS job {rec.cups_job_id}); not canceled")
    changes = dict(execution_status=FAILURE, execution_status_info="NORMAL", stage="canceled", note=CANCELED)
    if book is not None:
        book.update(path, **changes)
    elif rec is not None:
        write_record(path, replace(rec, execution_status=FAILURE, execution_status_info="NORMAL", stage="canceled",
                                   history=[*rec.history, CANCELED][-50:]))
    spool.fail(path, CANCELED)
    return path


# --- the CLI's side of a request to a running server --------------------------------------------------

def requests_dir(spool: Spool) -> Path:
    return spool.root / "requests"


def ask_server(spool: Spool, action: str, job_id: str, timeout: float = 30) -> tuple[bool, str]:
    """Post a request for the server owning `spool` and wait for its answer (ok, message)."""
    folder = requests_dir(spool)
    folder.mkdir(exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}"
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps({"action": action, "job": job_id}), encoding="utf-8")
    request = folder / f"{name}.req"
    os.replace(tmp, request)
    answer = folder / f"{name}.answer"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answer.exists():
            return _read_answer(answer)
        time.sleep(0.1)
    for _ in range(5):  # not taken (or put back as busy): withdraw it, so it never runs later
        try:
            os.replace(request, folder / f".{name}.withdrawn")
        except FileNotFoundError:
            if answer.exists():
                return _read_answer(answer)
            time.sleep(0.2)
            continue
        (folder / f".{name}.withdrawn").unlink()
        return False, f"the server did not carry out the request within {timeout:.0f} s (withdrawn)"
    return False, f"the server took the request but did not answer within {timeout:.0f} s"


def _read_answer(answer: Path) -> tuple[bool, str]:
    reply = json.loads(answer.read_text(encoding="utf-8"))
    answer.unlink(missing_ok=True)
    return bool(reply["ok"]), str(reply["message"])


# --- the server's side ------------------------------------------------------------------------------

class AdminRequests:
    """Carries out retry/cancel requests for the running server, in step with rendering and delivery."""

    def __init__(self, spool: Spool, book: JobBook, dispatcher: Dispatcher, delivery: Delivery | None) -> None:
        self.spool = spool
        self.book = book
        self.dispatcher = dispatcher
        self.delivery = delivery
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        requests_dir(self.spool).mkdir(exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="jobs-admin", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(SCAN_SECONDS):
            for request in sorted(requests_dir(self.spool).glob("*.req")):
                try:
                    self.handle(request)
                except Exception:  # one bad request must not stop the others
                    log.exception("jobs request %s failed", request.name)

    def handle(self, request: Path) -> None:
        taken = request.with_suffix(".taken")
        try:
            os.replace(request, taken)  # claimed: a CLI giving up can no longer withdraw it
        except FileNotFoundError:
            return  # withdrawn meanwhile
        order = json.loads(taken.read_text(encoding="utf-8"))
        try:
            message = self._carry_out(str(order["action"]), str(order["job"]))
            ok = True
        except Busy:
            os.replace(taken, request)  # nothing changed; the next scan asks again
            return
        except (SpoolError, C.CupsUnavailable) as exc:
            ok, message = False, str(exc)
        answer = request.with_suffix(".answer")
        tmp = answer.with_name(f".{answer.name}.tmp")
        tmp.write_text(json.dumps({"ok": ok, "message": message}), encoding="utf-8")
        os.replace(tmp, answer)
        taken.unlink(missing_ok=True)
        log.info("jobs %s %s: %s", order["action"], order["job"], message)

    def _carry_out(self, action: str, job_id: str) -> str:
        if action == "retry":
            path = retry(self.spool, job_id)
            self.book.load(path)
            if self.delivery is not None and self.delivery.wants(path):
                self.delivery.submit(path)
            else:
                self.dispatcher.submit(path)
            return f"{path.stem}: queued again"
        if action == "cancel":
            path = find(self.spool, job_id, "queued")
            withdrawn = self.dispatcher.withdraw(path)
            if withdrawn is None:
                raise Busy
            try:
                if self.delivery is None:
                    cancel(self.spool, job_id, self.book)
                else:
                    with self.delivery.step_lock:  # never between the delivery thread's look at the job and its act
                        cancel(self.spool, job_id, self.book)
            except BaseException:
                if withdrawn:
                    self.dispatcher.submit(path)  # not canceled after all: render it as before
                raise
            return f"{path.stem}: canceled (kept in {self.spool.failed})"
        raise SpoolError(f"unknown jobs action {action!r}")
