"""Film previews for the console: PNGs made from the composed raster when the job is rendered.

Made in the render worker from each film's bands as they are composed, because only there the film exists:
the PDF is the delivered document and decoding it again would cost more than the preview. Per film a
large view (`film-N.png`, ~1400 px high) and a thumbnail (`thumb-N.png`, ~240 px), plus `films.json`
(film size, layout, orientation of each film), so the console knows them after the job file is gone.
Everything lives under <spool>/console/previews/<job ID>/, folders 0700 and files 0600: films show
patient images. A preview that cannot be written never fails the job.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

LARGE_PX = 1400
THUMB_PX = 240
CONSOLE_DIR = "console"


def console_dir(spool_root: Path) -> Path:
    return spool_root / CONSOLE_DIR


def preview_dir(spool_root: Path, job_id: str) -> Path:
    return console_dir(spool_root) / "previews" / job_id


def private_dir(path: Path, *, levels: int = 1) -> Path:
    """Make `path` (and its `levels - 1` parents) owner-only; mkdir's mode does not reach parents."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in [path, *path.parents][:levels]:
        os.chmod(folder, 0o700)  # whatever the umask
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write atomically, readable by the owner only."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


class PreviewReducer:
    """A film's large preview made from its bands as the composer makes them (render.compose.compose_bands),
    the same pixels as from the whole raster: the worker never holds the film, only its reduction.

    The film is decimated to about twice `height` (every `step`-th row and column), 16-bit page gray
    keeps its top byte (shifted straight into an 8-bit array), then Pillow's resize with reducing_gap
    1.5, done here in its two steps: a box reduction by whole factors, run per group of rows (a whole
    number of blocks, so the blocks are those of the whole image), and a Lanczos resize of the reduced
    image (~half the time of Lanczos from full size).
    """

    def __init__(self, shape: tuple[int, ...], height: int) -> None:
        rows, columns = shape[:2]
        self.step = max(1, math.floor(rows / (2 * height)))  # cheap decimation first, then a good filter
        self.rows, self.columns = len(range(0, rows, self.step)), len(range(0, columns, self.step))
        self.size = (max(1, round(self.columns * height / self.rows)), height)
        self.resize = self.rows > height
        gap = 1.5  # Pillow's reducing_gap
        self.factor = (int(self.columns / self.size[0] / gap) or 1, int(self.rows / height / gap) or 1) \
            if self.resize else (1, 1)
        fx, fy = self.factor
        self.reduced = np.empty((-(-self.rows // fy), -(-self.columns // fx), *shape[2:]), np.uint8)
        self.filled = 0  # rows of `reduced` made
        self.next_row = 0  # the film row the next band starts at
        self.pending: list[np.ndarray] = []  # decimated rows not yet a whole block

    def write(self, band: np.ndarray) -> None:
        small = band[(-self.next_row) % self.step::self.step, ::self.step]
        self.next_row += band.shape[0]
        if small.dtype == np.uint16:
            small = np.right_shift(small, 8, out=np.empty(small.shape, np.uint8), casting="unsafe")
        self.pending.append(np.ascontiguousarray(small))
        waiting = sum(len(p) for p in self.pending)
        if waiting >= self.factor[1]:
            self._reduce(waiting - waiting % self.factor[1])

    def _reduce(self, rows: int) -> None:
        rest = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
        block, self.pending = rest[:rows], [rest[rows:]] if rows < len(rest) else []
        if self.factor != (1, 1):
            block = np.asarray(Image.fromarray(block).reduce(self.factor))
        self.reduced[self.filled:self.filled + len(block)] = block
        self.filled += len(block)

    def image(self) -> Image.Image:
        """The preview, once every band is written."""
        if self.pending:  # the last, partial block (as Pillow reduces the bottom edge of the whole image)
            self._reduce(sum(len(p) for p in self.pending))
        assert self.filled == len(self.reduced), "bands missing"
        image = Image.fromarray(self.reduced)
        if not self.resize:
            return image
        fx, fy = self.factor
        return image.resize(self.size, Image.Resampling.LANCZOS, box=(0, 0, self.columns / fx, self.rows / fy))


def to_8bit(raster: np.ndarray, height: int) -> Image.Image:
    """The raster scaled to about `height` rows, 8 bits (16-bit page gray keeps its top byte): PreviewReducer
    of the whole raster."""
    reducer = PreviewReducer(raster.shape, height)
    reducer.write(raster)
    return reducer.image()


def png_bytes(image: Image.Image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def film_summary(film: Any) -> dict[str, Any]:
    a = film.attributes
    return {"film_number": film.film_number, "film_size": a.get("FilmSizeID", ""),
            "layout": a.get("ImageDisplayFormat", ""), "orientation": a.get("FilmOrientation", ""),
            "width_mm": round(film.width_mm, 1), "height_mm": round(film.height_mm, 1),
            "image_boxes": len(film.image_boxes), "color": film.color}


class FilmPreviews:
    """The previews of a job's films (large view, thumbnail) and its films.json, film by film as the
    render worker composes each film in bands (begin, write each band, end; close after the last)."""

    def __init__(self, job_path: Path, job: Any) -> None:
        self.folder = private_dir(preview_dir(job_path.parent.parent, job_path.stem), levels=3)
        self.films = job.films
        self.film: Any = None
        self.reducer: PreviewReducer | None = None

    def begin(self, film: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.film, self.reducer = film, PreviewReducer(shape, LARGE_PX)

    def write(self, band: np.ndarray) -> None:
        assert self.reducer is not None
        self.reducer.write(band)

    def end(self) -> None:
        assert self.reducer is not None
        n = self.film.film_number
        large = self.reducer.image()
        self.reducer = None
        write_private(self.folder / f"film-{n}.png", png_bytes(large))
        thumb = large.copy()
        thumb.thumbnail((THUMB_PX * 2, THUMB_PX), Image.Resampling.LANCZOS)
        write_private(self.folder / f"thumb-{n}.png", png_bytes(thumb))

    def close(self) -> None:
        write_private(self.folder / "films.json", json.dumps([film_summary(f) for f in self.films]).encode())


class SafePreviews:
    """The render worker's previews: a preview is a convenience, never a reason for a job to fail, so the
    first error is logged and the job goes on without them."""

    def __init__(self, job_path: Path, job: Any) -> None:
        self.name = job_path.name
        self.previews: FilmPreviews | None = None
        try:
            self.previews = FilmPreviews(job_path, job)
        except Exception:
            log.exception("previews of %s not written", self.name)

    def _step(self, name: str, *args: Any) -> None:
        if self.previews is None:
            return
        try:
            getattr(self.previews, name)(*args)
        except Exception:
            log.exception("previews of %s not written", self.name)
            self.previews = None

    def begin(self, film: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self._step("begin", film, shape, dtype)

    def write(self, band: np.ndarray) -> None:
        self._step("write", band)

    def end(self) -> None:
        self._step("end")

    def close(self) -> None:
        self._step("close")


def write_previews(job_path: Path, job: Any, rasters: list[np.ndarray]) -> Path:
    """Previews of whole rasters (tools, tests; the worker streams them through FilmPreviews)."""
    previews = FilmPreviews(job_path, job)
    for film, raster in zip(job.films, rasters, strict=True):
        previews.begin(film, raster.shape, raster.dtype)
        previews.write(raster)
        previews.end()
    previews.close()
    return previews.folder

