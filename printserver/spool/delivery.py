"""Deliver rendered jobs to CUPS, and keep trying until they are printed or finally fail.

A job reaches here with its document written beside it in the spool (`<job>.film.pdf`). It leaves
the spool only when CUPS reports the job completed; cupsd unreachable, the queue missing or not
accepting, or the printer aborting the job mean a retry with exponential backoff (the job stays on
disk, so a restart resumes: a CUPS job already submitted is polled again, not printed twice). After
`delivery_give_up` seconds of failures the job is failed for good: moved to spool/failed/ with the
reason, its record says FAILURE, the modality hears a Print Job Failure event.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from pathlib import Path

from printserver.config import ServerConfig
from printserver.outputs import cups as C
from printserver.render.pdf import FilmPage, write_fit_pdf
from printserver.spool.records import DONE, FAILURE, PENDING, PRINTING, JobBook
from printserver.spool.store import Spool

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


def document_path(job_path: Path) -> Path:
    return job_path.with_name(job_path.stem + ".film.pdf")


class Delivery:
    """One thread that submits, polls and retries CUPS jobs, oldest due first."""

    def __init__(self, spool: Spool, book: JobBook, config: ServerConfig) -> None:
        self.spool = spool
        self.book = book
        self.config = config
        self._due: list[tuple[float, str]] = []
        self._queued: set[str] = set()
        self._cond = threading.Condition()
        #: Held during each step of a job; an admin cancel takes it so it never falls inside a step
        self.step_lock = threading.Lock()
        self._stop = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def wants(job_path: Path) -> bool:
        return document_path(job_path).exists()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cups-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def submit(self, job_path: Path, at: float = 0.0) -> None:
        with self._cond:
            if str(job_path) in self._queued:
                return
            self._queued.add(str(job_path))
            heapq.heappush(self._due, (at, str(job_path)))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queued)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._due or self._due[0][0] > time.monotonic()):
                    self._cond.wait(timeout=(self._due[0][0] - time.monotonic()) if self._due else None)
                if self._stop:
                    return
                _, name = heapq.heappop(self._due)
                self._queued.discard(name)
            path = Path(name)
            with self.step_lock:
                try:
                    again = self._step(path)
                except Exception as exc:  # a bug must not lose the job: retry later, say why
                    log.exception("delivery of %s failed unexpectedly", path.name)
                    again = self._retry(path, C.CupsUnavailable(f"internal error: {exc}", "UNKNOWN"))
            if again is not None and path.exists():
                self.submit(path, time.monotonic() + again)

    # --- one step of one job: returns seconds until the next step, None when the job is over -------

    def _step(self, path: Path) -> float | None:
        record = self.book.load(path)
        if record is None or not path.exists():
            return None
        job, outputs = Spool.load(path)
        cfg = outputs["cups"]
        try:
            with C.connection(cfg.get("server", "")) as conn:
                if record.cups_job_id is None:
                    attrs = C.queue_attributes(conn, cfg["queue"])
                    C.check_queue(attrs, cfg["queue"])
                    document, options, notes = self._prepare(path, job, cfg, attrs)
                    title = f"{job.session.get('FilmSessionLabel') or 'film'} from {job.calling_ae or 'unknown'}"
                    job_id = C.submit(conn, cfg["queue"], str(document), title, options)
                    log.info("print job %s sent to CUPS queue %s as job %d (%s)", path.name, cfg["queue"], job_id,
                             " ".join(f"{k}={v}" for k, v in options.items()))
                    self.book.update(path, cups_job_id=job_id, stage="printing", execution_status=PENDING,
                                     execution_status_info="QUEUED", warnings=record.warnings + notes,
                                     note=f"sent to CUPS {cfg['queue']} as job {job_id}")
                    return POLL_SECONDS
                status = C.job_status(conn, record.cups_job_id)
                state = status.state
                if status.device_unreachable:  # CUPS holds the job and retries the printer: not printing yet
                    self.book.update(path, execution_status=PENDING, execution_status_info="PRINTER OFFLINE")
                    return POLL_SECONDS
                if state in (C.JOB_PENDING, C.JOB_HELD, C.JOB_STOPPED):
                    queue = C.queue_attributes(conn, cfg["queue"])
                    info = "PRINTER OFFLINE" if queue.get("printer-state") == C.PRINTER_STOPPED else "QUEUED"
                    self.book.update(path, execution_status=PENDING, execution_status_info=info)
                    return POLL_SECONDS
                if state == C.JOB_PROCESSING:
                    self.book.update(path, execution_status=PRINTING, execution_status_info="NORMAL")
                    return POLL_SECONDS
                if state == C.JOB_COMPLETED:
                    self.book.update(path, execution_status=DONE, execution_status_info="NORMAL", stage="printed",
                                     note=f"CUPS job {record.cups_job_id} completed")
                    self.spool.finish(path)
                    log.info("print job %s printed (CUPS job %d)", path.name, record.cups_job_id)
                    return None
                # canceled or aborted by CUPS or the printer: print it again (later)
                self.book.update(path, cups_job_id=None)
                raise C.CupsUnavailable(f"CUPS job {record.cups_job_id} ended in state {state} (canceled/aborted)",
                                        "CHECK PRINTER")
        except C.CupsUnavailable as exc:
            return self._retry(path, exc)
        except C.CupsRejected as exc:
            self._fail(path, str(exc), "CHECK PRINTER")
            return None

    def _prepare(self, path: Path, job: object, cfg: dict, attrs: dict) -> tuple[Path, dict[str, str], list[str]]:
        """Media and options for the queue; for policy `fit` on other paper, the scaled document."""
        from printserver.model.job import PrintJob

        assert isinstance(job, PrintJob)
        film = job.films[0]
        supported = list(attrs.get("media-supported", []))
        choice = C.choose_media(str(film.attributes.get("FilmSizeID", "")), (film.width_mm, film.height_mm),
                                supported, str(attrs.get("media-default", "")), cfg.get("media", {}))
        notes = [choice.note] if choice.note else []
        document = document_path(path)
        if not choice.exact and choice.size_mm is not None:
            paper_smaller = sorted(choice.size_mm)[0] < sorted((film.width_mm, film.height_mm))[0] - 1 or \
                sorted(choice.size_mm)[1] < sorted((film.width_mm, film.height_mm))[1] - 1
            if cfg.get("paper_policy") == "fit":
                from printserver.render.compose import compose_film

                pages = [FilmPage(compose_film(f), f.width_mm, f.height_mm) for f in job.films]
                document = path.with_name(path.stem + ".fit.pdf")
                scales = write_fit_pdf(document, pages, choice.size_mm, f"{film.attributes.get('FilmSizeID')} "
                                       f"film on {choice.keyword}", title=f"film from {job.calling_ae}",
                                       author=job.calling_ae)
                notes.append(f"fit: films scaled to {min(scales) * 100:.1f} % on {choice.keyword}")
            elif paper_smaller:
                notes.append(f"true-size: paper {choice.keyword} is smaller than the "
                             f"{film.attributes.get('FilmSizeID')} film: the film is cropped")
        for note in notes:
            log.warning("print job %s: %s", path.name, note)
        options = C.job_options(choice.keyword, job.copies, str(job.session.get("PrintPriority", "MED")),
                                str(job.session.get("MediumType", "")), str(job.session.get("FilmDestination", "")),
                                cfg)
        return document, options, notes

    def _retry(self, path: Path, exc: C.CupsUnavailable) -> float | None:
        record = self.book.load(path)
        if record is None:
            return None
        now = time.time()
        first = record.first_failure or now
        if now - first > self.config.delivery_give_up:
            self._fail(path, f"not delivered after {now - first:.0f} s: {exc}", exc.status_info)
            return None
        delay = min(self.config.delivery_retry_initial * 2 ** record.attempts, self.config.delivery_retry_max)
        log.warning("print job %s waits for CUPS (attempt %d, next in %.0f s): %s", path.name, record.attempts + 1,
                    delay, exc)
        self.book.update(path, attempts=record.attempts + 1, first_failure=first, stage="retrying",
                         execution_status=PENDING, execution_status_info=exc.status_info, note=str(exc))
        return delay

    def _fail(self, path: Path, reason: str, info: str) -> None:
        log.error("print job %s failed for good: %s", path.name, reason)
        self.book.update(path, execution_status=FAILURE, execution_status_info=info, stage="failed", note=reason)
        self.spool.fail(path, reason)
