"""Deliver rendered jobs to every output, and keep trying until each has the film or finally fails.

A job reaches here rendered (its renditions beside it in the spool). Each of its outputs is stepped on its
own (`Output.deliver`, outputs/base.py) by a few delivery threads, oldest due first, one step of a job at a
time; the step's result moves the output through the lifecycle table (spool/lifecycle.py) and is recorded
before anything else happens, so a restart resumes each output where it was (an output done is not redone,
a CUPS job submitted is polled, not printed twice). An output that cannot deliver now is retried with
exponential backoff; after `delivery_give_up` seconds of failures it fails for good. When every output has
ended the job leaves the spool: its record to done/, or the job with the reason to failed/ (the modality
hears a Print Job Failure event).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from printserver.config import ServerConfig
from printserver.outputs.base import DeliveryJob, Done, Failed, Output, Render, Rendition, Retry, Step, Wait
from printserver.outputs.plan import from_snapshot
from printserver.spool.lifecycle import JobState, OutputState, enter, enter_output, outcome
from printserver.spool.paths import JobPaths
from printserver.spool.records import JobBook, JobRecord
from printserver.spool.store import Spool

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

THREADS = 4  # steps of different jobs run side by side: one slow peer does not hold the others up
BUSY_RETRY = 0.05  # seconds before a unit whose job is being stepped is looked at again


class Renderer(Protocol):
    def render(self, path: Path, renditions: list[Rendition],
               callback: Callable[[BaseException | None], None]) -> bool: ...


class Delivery:
    """Threads that step every output of every rendered job."""

    def __init__(self, spool: Spool, book: JobBook, config: ServerConfig, threads: int = THREADS) -> None:
        self.spool = spool
        self.book = book
        self.config = config
        self.threads = threads
        self.renderer: Renderer | None = None
        self._due: list[tuple[float, int, str, str]] = []  # (when, order, job path, output id)
        self._queued: set[tuple[str, str]] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._job_locks: dict[str, threading.Lock] = {}
        self._outputs: dict[str, dict[str, Output]] = {}  # job path -> its outputs (from the job's snapshot)
        self._running = 0
        self._stop = False
        self._threads: list[threading.Thread] = []

    def job_lock(self, path: Path) -> threading.Lock:
        """Held during each step of the job; an admin cancel takes it so it never falls inside a step."""
        with self._cond:
            return self._job_locks.setdefault(str(path), threading.Lock())

    def start(self) -> None:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, name=f"delivery-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)

    def submit(self, path: Path, output_id: str | None = None, at: float = 0.0) -> None:
        """Step `output_id` of the job (None: each unfinished output) at monotonic time `at`."""
        if output_id is None:
            record = self.book.load(path)
            if record is None:
                return
            unfinished = [oid for oid, out in record.outputs.items()
                          if OutputState(out.state) not in (OutputState.DONE, OutputState.FAILED, OutputState.CANCELED)]
            for oid in unfinished:
                self.submit(path, oid, at)
            if not unfinished:  # no output, or every one ended before a kill -9 finished the job: over at once
                self.submit(path, "", at)
            return
        with self._cond:
            unit = (str(path), output_id)
            if unit in self._queued:
                return
            self._queued.add(unit)
            heapq.heappush(self._due, (at, next(self._seq), *unit))
            self._cond.notify_all()

    def forget(self, path: Path) -> None:
        """The job left the spool another way (canceled): drop what was kept for it."""
        with self._cond:
            self._outputs.pop(str(path), None)
            self._job_locks.pop(str(path), None)

    def pending(self) -> int:
        with self._cond:
            return len(self._queued)

    def idle(self) -> bool:
        """Nothing to do right now: no step running, none due (a retry or poll later does not count)."""
        with self._cond:
            return not self._running and not (self._due and self._due[0][0] <= time.monotonic())

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._due or self._due[0][0] > time.monotonic()):
                    self._cond.wait(timeout=(self._due[0][0] - time.monotonic()) if self._due else None)
                if self._stop:
                    return
                _, _, name, output_id = heapq.heappop(self._due)
                self._queued.discard((name, output_id))
                self._running += 1
            try:
                self._one(Path(name), output_id)
            finally:
                with self._cond:
                    self._running -= 1

    def _one(self, path: Path, output_id: str) -> None:
        lock = self.job_lock(path)
        if not lock.acquire(blocking=False):  # another thread steps this job now
            self.submit(path, output_id, time.monotonic() + BUSY_RETRY)
            return
        try:
            again = self._step(path, output_id)
        except Exception:  # a bug must not lose the job: look again later
            log.exception("delivery of %s to %s failed unexpectedly", path.name, output_id)
            again = self.config.delivery_retry_max
        finally:
            lock.release()
        if again is not None and path.exists():
            self.submit(path, output_id, time.monotonic() + again)

    # --- one step of one output of one job: seconds until its next step, None when it is over ---------

    def _step(self, path: Path, output_id: str) -> float | None:
        record = self.book.load(path)
        if record is None or not path.exists():
            return None
        if JobState(record.state) is JobState.RENDERED:
            record = self.book.change(path, lambda r: enter(r, JobState.DELIVERING))
        if record is None or JobState(record.state) is not JobState.DELIVERING:
            return None
        out = record.outputs.get(output_id)
        if out is None or OutputState(out.state) in (OutputState.DONE, OutputState.FAILED, OutputState.CANCELED,
                                                     OutputState.RENDERING):
            self._maybe_over(path)
            return None
        job, snapshot = Spool.load_header(path)
        outputs = self._outputs.get(str(path))
        if outputs is None:
            outputs = self._outputs[str(path)] = {o.id: o for o in from_snapshot(snapshot)}
        output = outputs[output_id]
        try:
            step = output.deliver(DeliveryJob(job, JobPaths.of(path), dict(out.memo), out.attempts))
        except Exception as exc:  # a bug in an output must not lose the film: retry later, say why
            log.exception("%s: delivery of %s failed unexpectedly", output.key, path.name)
            step = Retry(reason=f"internal error: {exc}", info="PRINTER DOWN")
        return self._apply(path, output, step)

    def _apply(self, path: Path, output: Output, step: Step) -> float | None:
        oid = output.id
        again: float | None = None
        to_render: Rendition | None = None

        def change(r: JobRecord) -> None:
            nonlocal again, to_render
            out = r.outputs[oid]
            for note in step.notes:
                if note not in r.warnings:
                    log.warning("print job %s: %s", path.name, note)
                    r.warnings.append(note)
            if isinstance(step, Done):
                out.attempts, out.first_failure = 0, None
                enter_output(r, oid, OutputState.DONE, detail=step.detail, memo=step.memo)
            elif isinstance(step, Wait):
                out.attempts, out.first_failure = 0, None
                state = OutputState.PRINTING if step.printing else OutputState.SENT
                enter_output(r, oid, state, info=step.info, detail=step.detail, memo=step.memo)
                again = step.after
            elif isinstance(step, Render):
                enter_output(r, oid, OutputState.RENDERING, detail=f"needs {step.rendition.kind}", memo=step.memo)
                to_render = step.rendition
            elif isinstance(step, Failed):
                enter_output(r, oid, OutputState.FAILED, info=step.info, detail=step.reason, memo=step.memo)
            elif isinstance(step, Retry):
                now = time.time()
                first = out.first_failure or now
                if now - first > self.config.delivery_give_up:
                    enter_output(r, oid, OutputState.FAILED, info=step.info, memo=step.memo,
                                 detail=f"not delivered after {now - first:.0f} s: {step.reason}")
                else:
                    again = min(self.config.delivery_retry_initial * 2 ** out.attempts,
                                self.config.delivery_retry_max)
                    out.attempts, out.first_failure = out.attempts + 1, first
                    enter_output(r, oid, OutputState.RETRYING, info=step.info, memo=step.memo,
                                 detail=f"attempt {out.attempts}, next in {again:.1f} s: {step.reason}")
                    log.warning("print job %s waits for %s (attempt %d, next in %.1f s): %s", path.name,
                                output.key, out.attempts, again, step.reason)
            if isinstance(step, Done):
                log.info("print job %s: %s %s", path.name, oid, step.detail or "done")
            elif isinstance(step, Failed) or OutputState(out.state) is OutputState.FAILED:
                log.error("print job %s: %s failed for good: %s", path.name, output.key, out.reason)

        self.book.change(path, change)
        if to_render is not None:
            self._render(path, oid, to_render)
        self._maybe_over(path)
        return again

    def _render(self, path: Path, oid: str, rendition: Rendition) -> None:
        def rendered(error: BaseException | None) -> None:
            if error is None:
                self.book.change(path, lambda r: enter_output(r, oid, OutputState.QUEUED,
                                                              detail=f"{rendition.kind} rendered"))
                self.submit(path, oid)
                return
            log.error("print job %s: rendering %s for %s failed: %s", path.name, rendition.kind, oid, error)
            self.book.change(path, lambda r: enter_output(r, oid, OutputState.FAILED, info="INVALID PAGE DES",
                                                          detail=f"rendering {rendition.kind} failed: {error}"))
            with self.job_lock(path):
                self._maybe_over(path)

        if self.renderer is None or not self.renderer.render(path, [rendition], rendered):
            self.book.change(path, lambda r: enter_output(r, oid, OutputState.QUEUED))
            self.submit(path, oid, time.monotonic() + 1.0)  # the pool is busy with this job: ask again

    def _maybe_over(self, path: Path) -> None:
        """Every output ended: the job leaves the spool (done/ or failed/)."""
        record = self.book.load(path)
        if record is None or JobState(record.state) is not JobState.DELIVERING or not path.exists():
            return
        result = outcome(record)
        if result is JobState.DONE:
            self.book.change(path, lambda r: enter(r, JobState.DONE))
            self.spool.finish(path)
            log.info("print job %s delivered to %s", path.name, ", ".join(record.outputs) or "no output")
        elif result is JobState.FAILED:
            failed = [(oid, o) for oid, o in record.outputs.items() if OutputState(o.state) is not OutputState.DONE]
            reason = "; ".join(f"{oid}: {o.reason}" for oid, o in failed)
            info = failed[0][1].info
            self.book.change(path, lambda r: enter(r, JobState.FAILED, reason, info=info))
            self.spool.fail(path, reason)
            log.error("print job %s failed for good: %s", path.name, reason)
        else:
            return
        self.forget(path)
