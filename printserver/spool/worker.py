"""Render spooled jobs in a pool of worker processes: every rendering of a film happens here.

A worker composes the films of a job once and writes the renditions its outputs asked for (the true-size PDF,
a PDF fitted onto a queue's paper, the film rasters; outputs/base.py) beside the job file (spool/paths.py).
Rendering runs in a process pool (spawned, so no thread state of the network server is forked) to use every
core and keep the association threads responsive. Delivery (spool/delivery.py) then hands the renditions to
the outputs. A crash at any point means the job is rendered again on the next start; renditions are written
atomically under fixed names, so a redo replaces them.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from printserver.config import ServerConfig
from printserver.errors import ConfigError, SpoolError
from printserver.model.spooled_job import ImageBoxJob, PrintJob
from printserver.outputs.base import Rendition
from printserver.outputs.files import atomic_write
from printserver.outputs.plan import from_snapshot, renditions_needed
from printserver.outputs.relay_layout import source_arrays
from printserver.render.pdf import fit_document, true_size_document
from printserver.render.tone import output_model
from printserver.spool.delivery import Delivery
from printserver.spool.lifecycle import JobState, enter
from printserver.spool.paths import JobPaths
from printserver.spool.records import JobBook, JobRecord, OutputRecord
from printserver.spool.rendering import FilmSink, PdfPages, RasterArchive, render_films
from printserver.spool.store import Spool
from printserver.views.previews import SafePreviews

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


def process_job(job_path: str, renditions: list[dict[str, Any]] | None = None) -> list[str]:
    """Compose every film of a spooled job once and write the renditions (default: what its outputs need).

    Runs in a worker process; returns the files written. Each film is composed in bands that go to every
    rendition and the console's previews as they come (spool/rendering.py); the files replace the old
    ones only once all are complete. Rasters at another resolution (a relay's upstream) are composed in a
    pass of their own; the modality's own pixels ("source", a relay forwarding the layout) are copied."""
    job, snapshot = Spool.load(Path(job_path))  # the job file keeps the pixels until the job is done
    wanted = [Rendition.from_json(r) for r in renditions] if renditions is not None else renditions_needed(snapshot)
    paths = JobPaths.of(job_path)
    header = without_pixels(job)  # what the previews and the PDFs' metadata read
    bits = int(snapshot.get("pdf_bits", 16))  # the printer's page depth (a job spooled before it existed: 16)

    def sink(rendition: Rendition, fh: BinaryIO) -> FilmSink:
        if rendition.kind == "pdf":
            return PdfPages(true_size_document(fh, **pdf_metadata(header), pdf_bits=bits))
        if rendition.kind == "fit-pdf":
            assert rendition.paper_mm is not None
            return PdfPages(fit_document(fh, rendition.paper_mm, rendition.caption, title=f"film from {job.calling_ae}",
                                         author=job.calling_ae, pdf_bits=bits))
        if rendition.kind == "rasters":
            return RasterArchive(fh)
        raise ValueError(f"unknown rendition {rendition.kind!r}")

    def at_own_dpi(r: Rendition) -> bool:
        return r.kind != "rasters" or r.dpi is None or all(film.dpi == r.dpi for film in job.films)

    native = [r for r in wanted if r.kind != "source" and at_own_dpi(r)]
    other_dpi = sorted({r.dpi for r in wanted if r.kind == "rasters" and not at_own_dpi(r)})  # type: ignore[type-var]
    with ExitStack() as files:
        fh = {i: files.enter_context(atomic_write(paths.rendition(r))) for i, r in enumerate(wanted)}
        # the previews with the printer's own films: not when a delivery asks only for another resolution
        sinks: list[FilmSink] = [SafePreviews(Path(job_path), header)] if native or renditions is None else []
        sinks += [sink(r, fh[i]) for i, r in enumerate(wanted) if r in native]
        if sinks:
            render_films(job.films, sinks)
        for dpi in other_dpi:
            render_films([replace(film, dpi=dpi) for film in job.films],
                         [sink(r, fh[i]) for i, r in enumerate(wanted) if r.kind == "rasters" and r.dpi == dpi])
        for i, r in enumerate(wanted):
            if r.kind == "source":
                np.savez(fh[i], **source_arrays(job))
    return [str(paths.rendition(r)) for r in wanted]


def without_pixels(job: PrintJob) -> PrintJob:
    """The job with every image kept (its kind, depth, photometry: the grayscale model and `color` read
    them) but its pixels an empty array of their own: what the previews and the PDFs' metadata read,
    without a reference to the job file's bytes (~10 MB for a 4x5 film of 512x512 12-bit images)."""

    def box(b: ImageBoxJob) -> ImageBoxJob:
        return b if b.image is None else replace(b, image=replace(b.image, pixels=b.image.pixels[:0, :0].copy()))

    return replace(job, films=tuple(replace(f, image_boxes=tuple(box(b) for b in f.image_boxes)) for f in job.films))


Callback = Callable[[BaseException | None], None]


class Dispatcher:
    """Feeds jobs to the process pool; a rendered job goes on to delivery, one that cannot be rendered to failed/."""

    def __init__(self, spool: Spool, workers: int = 2, book: JobBook | None = None,
                 delivery: Delivery | None = None) -> None:
        self.spool = spool
        self.workers = workers
        self.book = book or JobBook()
        self._own_delivery = delivery is None  # a Dispatcher alone (tests, tools) delivers too
        self.delivery = delivery or Delivery(spool, self.book, ServerConfig())
        self.delivery.renderer = self
        self._pool: ProcessPoolExecutor | None = None
        self._in_flight: dict[Path, Future[list[str]]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = False

    def start(self) -> None:
        self._pool = self._new_pool()
        if self._own_delivery:
            self.delivery.start()
        leftovers = self.spool.pending()
        if leftovers:
            log.info("finishing %d print job(s) left in the spool", len(leftovers))
        for path in leftovers:
            self.resume(path)

    def resume(self, path: Path) -> None:
        """Carry on with a job found in jobs/ (at start, after a retry): where its record says it is."""
        record = self.book.load(path)
        if record is None and (self.spool.done / JobPaths.of(path).state.name).exists():
            self.spool.finish(path)  # killed inside Spool.finish: delivered already
            return
        try:
            job, snapshot = Spool.load_header(path)
            outputs = {o.id: o.kind for o in from_snapshot(snapshot)}
        except (SpoolError, ConfigError, ValueError, KeyError, TypeError) as exc:
            log.error("print job %s failed: unreadable job file (%r)", path.name, exc)
            self.spool.fail(path, f"unreadable job file: {exc!r}")
            return
        if record is None:  # killed between spooling and its record: the job file is the truth
            record = JobRecord.for_job(job, str(snapshot.get("printer", job.called_ae)))
            self.book.create(path, record)
        missing = {oid: kind for oid, kind in outputs.items() if oid not in record.outputs}
        if missing:  # a record older than per-output state: every output not known done is still to do
            record = self.book.change(path, lambda r: r.outputs.update(
                {oid: OutputRecord(kind) for oid, kind in missing.items()})) or record
        state = JobState(record.state)
        if state in (JobState.QUEUED, JobState.RENDERING):
            self.submit(path)
        elif state in (JobState.RENDERED, JobState.DELIVERING):
            self.delivery.submit(path)  # rendered before: deliver, don't render again
        elif state is JobState.DONE:  # killed between its record and the spool's clean-up
            self.spool.finish(path)
        else:
            self.spool.fail(path, record.reason or state.value)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, path: Path) -> None:
        """Render what the job's outputs need; then delivery takes it."""
        with self._lock:
            if path in self._in_flight:
                return
        self.book.change(path, lambda r: enter(r, JobState.RENDERING))  # before: the render may end at once
        self._render(path, None, lambda error, p=path: self._rendered(p, error))

    def render(self, path: Path, renditions: list[Rendition], callback: Callback) -> bool:
        """Render more for a job being delivered (an output's `Render` step); callback(None | error) after."""
        return self._render(path, [r.to_json() for r in renditions], callback)

    def _render(self, path: Path, renditions: list[dict[str, Any]] | None, callback: Callback) -> bool:
        with self._lock:
            if self._stopping or path in self._in_flight or self._pool is None:
                return False
            pool = self._pool
            future = pool.submit(process_job, str(path), renditions)
            self._in_flight[path] = future
        future.add_done_callback(lambda f, p=path: self._done(p, f, pool, renditions, callback))
        return True

    def _done(self, path: Path, future: Future[list[str]], pool: ProcessPoolExecutor,
              renditions: list[dict[str, Any]] | None, callback: Callback) -> None:
        resubmit = False
        error: BaseException | None = None
        try:
            written = future.result()
        except CancelledError:  # stopping or withdrawn: the job stays in the spool as it is
            written = None
        except BrokenProcessPool:
            resubmit = not self._stopping  # a worker died (killed, out of memory): the job is intact
            log.error("render worker died while printing %s; %s", path.name,
                      "retrying" if resubmit else "left in the spool")
            written = None
        except Exception as exc:  # a job that cannot be rendered
            error, written = exc, None
        if not resubmit and (written is not None or error is not None):
            try:
                callback(error)  # while still in flight: wait_idle never sees the gap before delivery has it
            except Exception:
                log.exception("after rendering %s", path.name)
        with self._lock:
            self._in_flight.pop(path, None)
            if resubmit and self._pool is pool:
                self._pool.shutdown(wait=False, cancel_futures=False)
                self._pool = self._new_pool()
            self._idle.notify_all()
        if resubmit:
            self._render(path, renditions, callback)

    def _rendered(self, path: Path, error: BaseException | None) -> None:
        if error is not None:
            log.error("print job %s failed: %s", path.name, error)
            reason = "".join(traceback.format_exception(error))
            self.book.change(path, lambda r: enter(r, JobState.FAILED, f"rendering failed: {error}",
                                                   info="INVALID PAGE DES"))
            self.spool.fail(path, reason)
            return
        self.book.change(path, lambda r: enter(r, JobState.RENDERED))
        self.delivery.submit(path)

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
        """True once no render is in flight and delivery has nothing due now (tests, graceful stop): a job
        that only waits for a retry or its peer counts as settled."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                settled = self._idle.wait_for(lambda: not self._in_flight, max(0.0, deadline - time.monotonic()))
            if settled and self.delivery.idle():
                with self._lock:
                    if not self._in_flight:
                        return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def stop(self, wait: bool = True) -> None:
        with self._lock:
            self._stopping = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
        if self._own_delivery:
            self.delivery.stop()
