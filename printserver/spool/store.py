"""Durable print job queue: a job is accepted only once its file is on disk (write, fsync, rename).

Layout of the spool folder (owner-only: 0700 folders, 0600 files; these are patient images):
  jobs/    accepted jobs waiting for rendering or delivery, one file each, named in arrival order, with
           their side files (record, renditions: spool/paths.py names them all)
  failed/  jobs whose rendering or delivery failed for good, with every side file and the reason, kept for
           inspection and `printserver jobs retry` (never silently dropped)
  done/    the records (<job>.state.json) of delivered jobs, for `printserver jobs`; with `keep_printed` also
           their job files (pixels, for a re-print), removed after server.keep_printed_days (spool/retention.py)
  .lock    held by the one server using this spool

Job file: b"PSJOB1\\n", an 8-byte big endian header length, a JSON header, then the raw pixel
buffers the header points to by offset. No pickle: a job file is data, not code.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from printserver.errors import SpoolError
from printserver.model.color import ColorImage
from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import AnnotationBoxJob, FilmJob, ImageBoxJob, PrintJob
from printserver.outputs.files import PRIVATE_DIR, PRIVATE_FILE, fsync_dir, private_dirs, private_open
from printserver.spool.paths import JOB_SUFFIX, JobPaths

MAGIC = b"PSJOB1\n"
SUFFIX = JOB_SUFFIX


def _fields(obj: Any, without: str) -> dict[str, Any]:
    """asdict(obj) less one field. Called with that field emptied: asdict deep-copies every value it meets,
    and on the pixels that was three copies of a film's images per Print (~30 MB and ~0.01 CPU-s in the
    server for a 4x5 film of 512x512 12-bit images)."""
    return {k: v for k, v in asdict(obj).items() if k != without}


def encode_job(job: PrintJob, outputs: dict[str, Any]) -> list[bytes | memoryview]:
    """The job file's parts, to be written in order."""
    blobs: list[memoryview] = []
    offset = 0
    films = []
    for film in job.films:
        boxes = []
        for box in film.image_boxes:
            entry = _fields(replace(box, image=None), "image")  # asdict would deep-copy the pixels
            if box.image is not None:
                arr = np.ascontiguousarray(box.image.pixels)
                data = memoryview(arr).cast("B")
                entry["image"] = {
                    "rows": box.image.rows, "columns": box.image.columns, "dtype": arr.dtype.str,
                    "bits_stored": box.image.bits_stored,
                    "photometric_interpretation": box.image.photometric_interpretation,
                    "pixel_aspect_ratio": list(box.image.pixel_aspect_ratio),
                    "samples_per_pixel": 3 if isinstance(box.image, ColorImage) else 1,
                    "offset": offset, "nbytes": data.nbytes,
                }
                blobs.append(data)
                offset += data.nbytes
                icc = getattr(box.image, "icc_profile", None)
                if icc:  # the colour space the pixels are in (model/color.py)
                    entry["image"]["icc"] = {"offset": offset, "nbytes": len(icc)}
                    blobs.append(memoryview(icc))
                    offset += len(icc)
            boxes.append(entry)
        f = _fields(replace(film, image_boxes=()), "image_boxes") | {"image_boxes": boxes}
        films.append(f)
    header = _fields(replace(job, films=()), "films") | {"films": films, "outputs": outputs}
    head = json.dumps(header, default=str).encode()
    return [MAGIC, len(head).to_bytes(8, "big"), head, *blobs]


def decode_job(data: bytes, *, pixels: bool = True) -> tuple[PrintJob, dict[str, Any]]:
    """The job and its outputs snapshot; `pixels=False` (only the header in `data`): image boxes without images."""
    if not data.startswith(MAGIC):
        raise SpoolError("not a printserver job file")
    n = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "big")
    start = len(MAGIC) + 8
    header = json.loads(data[start:start + n])
    base = start + n
    films = []
    for f in header.pop("films"):
        boxes = []
        for b in f.pop("image_boxes"):
            img = b.pop("image", None)
            image: GrayscaleImage | ColorImage | None = None
            if img is not None and pixels:
                samples = img.get("samples_per_pixel", 1)
                arr = np.frombuffer(data, dtype=np.dtype(img["dtype"]),
                                    count=img["rows"] * img["columns"] * samples, offset=base + img["offset"])
                if samples == 3:
                    icc = img.get("icc")
                    profile = bytes(data[base + icc["offset"]:base + icc["offset"] + icc["nbytes"]]) if icc else None
                    image = ColorImage(arr.reshape(img["rows"], img["columns"], 3), tuple(img["pixel_aspect_ratio"]),
                                       icc_profile=profile)
                else:
                    image = GrayscaleImage(arr.reshape(img["rows"], img["columns"]), img["bits_stored"],
                                           img["photometric_interpretation"], tuple(img["pixel_aspect_ratio"]))
            boxes.append(ImageBoxJob(**b, image=image))
        rects = tuple(tuple(r) for r in f.pop("box_rects_mm", ()))
        annotations = tuple(AnnotationBoxJob(**a) for a in f.pop("annotations", ()))
        films.append(FilmJob(**f, image_boxes=tuple(boxes), box_rects_mm=rects, annotations=annotations))
    outputs = header.pop("outputs")
    return PrintJob(**header, films=tuple(films)), outputs


class Spool:
    """The on-disk queue. One server process owns a spool folder at a time (flock)."""

    def __init__(self, root: str | Path, *, max_jobs: int = 10_000, keep_printed: bool = False) -> None:
        self.root = Path(root)
        self.keep_printed = keep_printed
        self.jobs = self.root / "jobs"
        self.failed = self.root / "failed"
        self.done = self.root / "done"
        self.max_jobs = max_jobs
        self._seq = itertools.count()
        self._lock_fd: int | None = None
        self._mutex = threading.Lock()

    def open(self) -> Spool:
        for folder in (self.jobs, self.failed, self.done):
            private_dirs(folder, PRIVATE_DIR)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SpoolError(f"spool {self.root} is in use by another printserver process") from None
        self._lock_fd = fd
        for stale in self.jobs.glob(".*.tmp"):  # a write that never reached its rename
            stale.unlink(missing_ok=True)
        return self

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def submit(self, job: PrintJob, outputs: dict[str, Any]) -> Path:
        """Store `job` durably; only after this returns may the SCP answer Success."""
        if len(self.pending()) >= self.max_jobs:
            raise SpoolError(f"print queue full ({self.max_jobs} jobs)", queue_full=True)
        parts = encode_job(job, outputs)
        with self._mutex:
            name = f"{time.time_ns():020d}-{next(self._seq):06d}-{os.getpid()}{SUFFIX}"
        final = self.jobs / name
        tmp = self.jobs / f".{name}.tmp"
        try:
            with private_open(tmp, "wb") as fh:
                for part in parts:
                    fh.write(part)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            fsync_dir(self.jobs)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SpoolError(f"cannot store print job in {self.jobs}: {exc}") from exc
        return final

    def pending(self) -> list[Path]:
        """Accepted jobs not yet finished, oldest first."""
        return sorted(p for p in self.jobs.glob(f"*{SUFFIX}") if not p.name.startswith("."))

    @staticmethod
    def load(path: Path) -> tuple[PrintJob, dict[str, Any]]:
        return decode_job(path.read_bytes())

    @staticmethod
    def load_header(path: Path) -> tuple[PrintJob, dict[str, Any]]:
        """The job without its pixels (films, attributes, outputs): what delivery and the views read."""
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 8)
            if not head.startswith(MAGIC):
                raise SpoolError(f"{path.name}: not a printserver job file")
            data = head + fh.read(int.from_bytes(head[len(MAGIC):], "big"))
        return decode_job(data, pixels=False)

    def finish(self, path: Path) -> None:
        """Every output has the job: forget it (durably, so a restart does not redo it); keep its record, and
        with `keep_printed` its job file in done/ (stamped now: retention counts from delivery)."""
        paths = JobPaths.of(path)
        if paths.state.exists():
            os.replace(paths.state, self.done / paths.state.name)
        if self.keep_printed and path.exists():
            os.utime(path)
            os.replace(path, self.done / path.name)  # first: from here on a crash leaves side files, no job
        else:
            path.unlink(missing_ok=True)
        for side in paths.side_files():
            side.unlink(missing_ok=True)
        fsync_dir(self.jobs)

    def fail(self, path: Path, reason: str) -> Path:
        """Failed for good (or canceled): keep the job, its side files and why, out of the queue."""
        paths = JobPaths.of(path)
        kept = paths.in_folder(self.failed)
        for side in paths.side_files():
            os.replace(side, self.failed / side.name)
        os.replace(path, kept.job)
        with private_open(kept.reason, "w") as fh:
            fh.write(reason + "\n")
        fsync_dir(self.failed)
        fsync_dir(self.jobs)
        return kept.job

    def unfail(self, path: Path) -> Path:
        """A failed job back into the queue with its side files (record, renditions), without the reason."""
        paths = JobPaths.of(path)
        back = paths.in_folder(self.jobs)
        paths.reason.unlink(missing_ok=True)
        for side in paths.side_files():
            os.replace(side, self.jobs / side.name)
        os.replace(path, back.job)
        fsync_dir(self.jobs)
        fsync_dir(self.failed)
        return back.job
