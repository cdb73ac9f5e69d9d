"""Retry, cancel and re-print spooled jobs: done by the server that owns the spool, or by the CLI when none runs.

A running server holds the spool lock and is the only process that changes its jobs. `printserver jobs
retry|cancel|reprint` (and the console's buttons) then drop a request file into spool/requests/ (written
atomically) and wait, bounded, for the answer the server writes beside it. The server's `AdminRequests`
thread looks for requests every `SCAN_SECONDS` and carries each out in step with the thread working on
the job (the render pool, the delivery threads), so a job is never changed behind its back. Claiming a
request is a rename: the server and a CLI giving up cannot both take it.

Both go through the lifecycle table (spool/lifecycle.py). Cancel means "this film will not be produced" and
succeeds only while every output can promise it: the job is waiting to be rendered, or each unfinished
output withdraws what it was handed (`Output.cancel`: a CUPS job still queued is canceled and must then read
canceled). A job being rendered is answered once its render ends (the request waits); an output that is
printing or has printed cannot be taken back, and the answer says so. A canceled job goes to spool/failed/
with the reason. Retry moves a failed job back into the queue; its outputs that did not finish well start
over, those done stay done; the server then renders it (or, renditions kept, delivers it) at once.
Re-print (spool/reprint.py) spools a new job with a kept job's films for the same or another printer.
The same thread sweeps delivered jobs' pixels past server.keep_printed_days (spool/retention.py), so a
sweep never removes a job file a re-print is reading.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from printserver.errors import SpoolError
from printserver.outputs.base import DeliveryJob
from printserver.outputs.plan import from_snapshot, renditions_needed
from printserver.spool.lifecycle import (
    FINISHED,
    JobState,
    LifecycleError,
    OutputState,
    enter,
    enter_output,
    reset_for_retry,
)
from printserver.spool.paths import STATE_SUFFIX, JobPaths
from printserver.spool.records import JobRecord, read_record, write_record
from printserver.spool.retention import Sweeper
from printserver.spool.store import SUFFIX, Spool

if TYPE_CHECKING:
    from printserver.config import ServerConfig
    from printserver.spool.delivery import Delivery
    from printserver.spool.records import JobBook
    from printserver.spool.worker import Dispatcher

log = logging.getLogger(__name__)

SCAN_SECONDS = 0.5
CANCELED = "canceled by the admin (printserver jobs cancel)"
RETRIED = "retried by the admin (printserver jobs retry)"


class Busy(Exception):
    """The job is in a step that must end before the request can be judged (e.g. rendering): ask again later."""


def rows(spool: Spool) -> list[tuple[str, str, Path]]:
    """(where, job ID, path of its job file) of every job: queued (jobs/), failed, done (records only)."""
    out = []
    for where, folder in (("queued", spool.jobs), ("failed", spool.failed)):
        out += [(where, p.stem, p) for p in sorted(folder.glob(f"*{SUFFIX}"))]
    out += [("done", stem, spool.done / f"{stem}{SUFFIX}")
            for stem in sorted(p.name.removesuffix(STATE_SUFFIX) for p in spool.done.glob(f"*{STATE_SUFFIX}"))]
    return out


def find(spool: Spool, job_id: str, where: str | None = None) -> Path:
    hits = [p for w, stem, p in rows(spool) if where in (None, w) and stem.startswith(job_id)]
    if len(hits) != 1:
        raise SpoolError(f"job {job_id}: {'no' if not hits else 'more than one'} {where or ''} job matches"
                         .replace("  ", " "))
    return hits[0]


def _change(path: Path, change: Callable[[JobRecord], Any], book: JobBook | None) -> None:
    if book is not None:
        book.change(path, change)
        return
    record = read_record(path)
    if record is not None:
        change(record)
        write_record(path, record)


def retry(spool: Spool, job_id: str) -> Path:
    """A failed job back into jobs/: failed outputs start over, done ones stay done (lifecycle.reset_for_retry)."""
    path = spool.unfail(find(spool, job_id, "failed"))
    record = read_record(path)
    if record is not None:
        _, snapshot = Spool.load_header(path)
        paths = JobPaths.of(path)
        rendered = all(paths.rendition(r).exists() for r in renditions_needed(snapshot))
        try:
            reset_for_retry(record, JobState.RENDERED if rendered else JobState.QUEUED, RETRIED)
        except LifecycleError as exc:
            spool.fail(path, f"not retried: {exc}")
            raise SpoolError(f"job {path.stem}: {exc}") from None
        write_record(path, record)
    return path


def cancel(spool: Spool, job_id: str, book: JobBook | None = None) -> Path:
    """Cancel a waiting job (see the module doc); raise SpoolError when it may already be produced."""
    path = find(spool, job_id, "queued")
    record = read_record(path)
    if record is not None:
        job, snapshot = Spool.load_header(path)
        paths = JobPaths.of(path)
        for output in from_snapshot(snapshot):
            out = record.outputs.get(output.id)
            if out is None or OutputState(out.state) in FINISHED:
                continue
            why = output.cancel(DeliveryJob(job, paths, dict(out.memo), out.attempts))
            if why is not None:
                raise SpoolError(f"job {path.stem}: {why}; not canceled")

        def to_canceled(r: JobRecord) -> None:
            for oid, out in r.outputs.items():
                if OutputState(out.state) not in FINISHED:
                    enter_output(r, oid, OutputState.CANCELED, detail=CANCELED)
            enter(r, JobState.CANCELED, CANCELED)
        try:
            _change(path, to_canceled, book)
        except LifecycleError as exc:
            raise SpoolError(f"job {path.stem}: {exc}") from None
    spool.fail(path, CANCELED)
    return path


# --- the CLI's side of a request to a running server --------------------------------------------------

def requests_dir(spool: Spool) -> Path:
    return spool.root / "requests"


def ask_server(spool: Spool, action: str, job_id: str, timeout: float = 30, *, printer: str = "",
               who: str = "") -> tuple[bool, str]:
    """Post a request for the server owning `spool` and wait for its answer (ok, message).

    `printer`: a re-print's target printer (AE title; "" = the job's own); `who`: for the new job's timeline."""
    folder = requests_dir(spool)
    folder.mkdir(mode=0o700, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident() % 100000}"
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps({"action": action, "job": job_id, "printer": printer, "who": who}), encoding="utf-8")
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
    """Carries out retry/cancel/reprint requests for the running server, in step with rendering and delivery;
    sweeps the delivered jobs' pixels when due."""

    def __init__(self, spool: Spool, book: JobBook, dispatcher: Dispatcher, delivery: Delivery,
                 config: ServerConfig | None = None) -> None:
        self.spool = spool
        self.book = book
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.config = config
        self.sweeper = Sweeper(spool, config.keep_printed_days) if config is not None else None
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
            if self.sweeper is not None:
                try:
                    self.sweeper.tick()
                except OSError:
                    log.exception("sweeping kept job files in %s failed", self.spool.done)
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
            message = self._carry_out(str(order["action"]), str(order["job"]), str(order.get("printer") or ""),
                                      str(order.get("who") or ""))
            ok = True
        except Busy:
            os.replace(taken, request)  # nothing changed; the next scan asks again
            return
        except SpoolError as exc:
            ok, message = False, str(exc)
        answer = request.with_suffix(".answer")
        tmp = answer.with_name(f".{answer.name}.tmp")
        tmp.write_text(json.dumps({"ok": ok, "message": message}), encoding="utf-8")
        os.replace(tmp, answer)
        taken.unlink(missing_ok=True)
        log.info("jobs %s %s: %s", order["action"], order["job"], message)

    def _carry_out(self, action: str, job_id: str, printer: str = "", who: str = "") -> str:
        if action == "reprint":
            from printserver.spool.reprint import reprint

            if self.config is None:
                raise SpoolError("this server cannot re-print (no configuration given to its admin thread)")
            path = reprint(self.spool, self.book, self.config, job_id, printer, who)
            self.dispatcher.submit(path)
            target = record.printer if (record := read_record(path)) is not None else printer
            return f"{path.stem}: re-print of {job_id} on {target}, queued"
        if action == "retry":
            path = retry(self.spool, job_id)
            self.dispatcher.resume(path)  # renders or delivers, as its record now says
            return f"{path.stem}: queued again"
        if action == "cancel":
            path = find(self.spool, job_id, "queued")
            withdrawn = self.dispatcher.withdraw(path)
            if withdrawn is None:
                raise Busy
            try:
                with self.delivery.job_lock(path):  # never between a delivery step's look at the job and its act
                    cancel(self.spool, job_id, self.book)
                self.delivery.forget(path)
            except BaseException:
                if withdrawn:
                    self.dispatcher.submit(path)  # not canceled after all: render it as before
                raise
            return f"{path.stem}: canceled (kept in {self.spool.failed})"
        raise SpoolError(f"unknown jobs action {action!r}")
