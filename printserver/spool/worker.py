"""Drain the spool: each job is composed and written by a worker process, then removed.

Rendering runs in a process pool (spawned, so no thread state of the network server is forked) to
use every core and keep the association threads responsive. A job leaves the spool only after all
its outputs are written; a crash at any point means the job is redone on the next start, and the
deterministic output names make the redo replace, not duplicate.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import traceback
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from printserver.model.job import PrintJob
from printserver.outputs.files import DEFAULT_PDF_NAME, film_pdf_path
from printserver.render.compose import compose_film
from printserver.render.pdf import FilmPage, write_pdf
from printserver.render.tone import output_model
from printserver.spool.delivery import Delivery
from printserver.spool.records import DONE, FAILURE, PRINTING, JobBook
from printserver.spool.store import Spool
from printserver.views.previews import write_previews_safely

log = logging.getLogger(__name__)


def pdf_metadata(job: PrintJob) -> dict[str, Any]:
    label = job.session.get("FilmSessionLabel", "")
    numbers = ", ".join(str(f.film_number) for f in job.films)
    return {
        "title": f"Film {numbers} from {job.calling_ae or 'unknown AE'}" + (f" - {label}" if label else ""),
        "author": job.calling_ae,
        "subject": f"DICOM print to {job.called_ae} ({job.printer_name})",
        "keywords": "DICOM, print, film",
        "extra": {
            "DICOMCallingAE": job.calling_ae,
            "DICOMCalledAE": job.called_ae,
            "DICOMPrinterName": job.printer_name,
            "DICOMFilmSessionLabel": label,
            "DICOMPrintJobUID": job.job_uid,
            "DICOMPrintTime": job.created,
            "DICOMFilmSession": json.dumps(job.session, sort_keys=True),
            "DICOMFilmBoxes": json.dumps([f.attributes for f in job.films], sort_keys=True),
            # Per page: how page gray maps back to optical density (render.tone.OutputModel.decode).
            "DICOMGrayscaleModel": json.dumps([output_model(f).as_dict() for f in job.films], sort_keys=True),
        },
    }


def process_job(job_path: str) -> list[str]:
    """Compose every film of a spooled job and write its outputs. Runs in a worker process."""
    job, outputs = Spool.load(Path(job_path))
    pages = [FilmPage(compose_film(film), film.width_mm, film.height_mm) for film in job.films]
    write_previews_safely(Path(job_path), job, [page.raster for page in pages])  # the console's PNGs
    written = []
    if "pdf_dir" in outputs:
        path = film_pdf_path(Path(outputs["pdf_dir"]), job.created, job.calling_ae,
                             [f.film_number for f in job.films], job.job_uid,
                             pattern=outputs.get("pdf_name", DEFAULT_PDF_NAME), called_ae=job.called_ae,
                             printer=job.printer_name, label=str(job.session.get("FilmSessionLabel", "")))
        write_pdf(path, pages, **pdf_metadata(job))
        written.append(str(path))
    if "cups" in outputs:  # the true-size document, kept in the spool until CUPS has printed it
        document = Path(job_path).with_name(Path(job_path).stem + ".film.pdf")
        write_pdf(document, pages, **pdf_metadata(job))
        written.append(str(document))
    return written


class Dispatcher:
    """Feeds spooled jobs to the process pool and retires them when their outputs exist."""

    def __init__(self, spool: Spool, workers: int = 2, book: JobBook | None = None,
                 delivery: Delivery | None = None) -> None:
        self.spool = spool
        self.workers = workers
        self.book = book or JobBook()
        self.delivery = delivery
        self._pool: ProcessPoolExecutor | None = None
        self._in_flight: dict[Path, Future[list[str]]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = False

    def start(self) -> None:
        self._pool = self._new_pool()
        leftovers = self.spool.pending()
        if leftovers:
            log.info("finishing %d print job(s) left in the spool", len(leftovers))
        for path in leftovers:
            self.book.load(path)
            if self.delivery is not None and self.delivery.wants(path):
                self.delivery.submit(path)  # rendered before the restart: deliver, don't render again
            else:
                self.submit(path)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, path: Path) -> None:
        with self._lock:
            if self._stopping or path in self._in_flight or self._pool is None:
                return
            pool = self._pool
            future = pool.submit(process_job, str(path))
            self._in_flight[path] = future
        self.book.update(path, stage="rendering", execution_status=PRINTING, execution_status_info="NORMAL")
        future.add_done_callback(lambda f, p=path: self._done(p, f, pool))

    def _done(self, path: Path, future: Future[list[str]], pool: ProcessPoolExecutor) -> None:
        resubmit = False
        try:
            written = future.result()
        except CancelledError:  # stopping: the job stays in the spool for the next start
            pass
        except BrokenProcessPool:
            resubmit = not self._stopping  # a worker died (killed, out of memory): the job is intact
            log.error("render worker died while printing %s; %s", path.name,
                      "retrying" if resubmit else "left in the spool")
        except Exception as exc:  # a job that cannot be rendered: keep it aside, say why
            reason = "".join(traceback.format_exception(exc))
            log.error("print job %s failed: %s", path.name, exc)
            self.book.update(path, stage="failed", execution_status=FAILURE, execution_status_info="INVALID PAGE DES",
                             note=f"rendering failed: {exc}")
            self.spool.fail(path, reason)
        else:
            pdfs = [out for out in written if not out.endswith(".film.pdf")]
            for out in pdfs:
                log.info("film written: %s", out)
            if self.delivery is not None and self.delivery.wants(path):
                self.book.update(path, stage="delivering", outputs_written=pdfs, note="rendered; to CUPS")
                self.delivery.submit(path)
            else:
                self.book.update(path, stage="printed", execution_status=DONE, execution_status_info="NORMAL",
                                 outputs_written=pdfs, note="PDF written")
                self.spool.finish(path)
        with self._lock:
            self._in_flight.pop(path, None)
            if resubmit and self._pool is pool:
                self._pool.shutdown(wait=False, cancel_futures=False)
                self._pool = self._new_pool()
            self._idle.notify_all()
        if resubmit:
            self.submit(path)

    def withdraw(self, path: Path) -> bool | None:
        """Take back a render not yet started (for a cancel): True if one was withdrawn, False if none was
        pending, None if the job is being rendered right now (ask again when it is done)."""
        with self._lock:
            future = self._in_flight.get(path)
        if future is None:
            return False
        if not future.cancel():  # cancel() runs _done (CancelledError: the job stays in the spool) at once
            return None
        return True

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is in flight (tests, graceful stop)."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._in_flight, timeout)

    def stop(self, wait: bool = True) -> None:
        with self._lock:
            self._stopping = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
