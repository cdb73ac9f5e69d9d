"""Film previews for the console: PNGs made from the composed raster when the job is rendered.

Made in the render worker (one call after composing), because only there the film raster exists:
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


def to_8bit(raster: np.ndarray, height: int) -> Image.Image:
    """The raster scaled to about `height` rows, 8 bits (16-bit page gray keeps its top byte).

    Runs in the render worker for every film, so memory and time count: the top byte goes straight
    into an 8-bit array (no 16-bit copy of the film: 43 MB on 14x17), and Pillow box-reduces by a
    whole factor before the Lanczos filter (reducing_gap; ~half the time of Lanczos from full size).
    """
    step = max(1, math.floor(raster.shape[0] / (2 * height)))  # cheap decimation first, then a good filter
    small = raster[::step, ::step]
    if small.dtype == np.uint16:
        small = np.right_shift(small, 8, out=np.empty(small.shape, np.uint8), casting="unsafe")
    image = Image.fromarray(np.ascontiguousarray(small))
    width = max(1, round(image.width * height / image.height))
    if image.height <= height:
        return image
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=1.5)


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


def write_previews(job_path: Path, job: Any, rasters: list[np.ndarray]) -> Path:
    folder = private_dir(preview_dir(job_path.parent.parent, job_path.stem), levels=3)
    for film, raster in zip(job.films, rasters, strict=True):
        n = film.film_number
        large = to_8bit(raster, LARGE_PX)
        write_private(folder / f"film-{n}.png", png_bytes(large))
        thumb = large.copy()
        thumb.thumbnail((THUMB_PX * 2, THUMB_PX), Image.Resampling.LANCZOS)
        write_private(folder / f"thumb-{n}.png", png_bytes(thumb))
    write_private(folder / "films.json", json.dumps([film_summary(f) for f in job.films]).encode())
    return folder


def write_previews_safely(job_path: Path, job: Any, rasters: list[np.ndarray]) -> None:
    """The render worker's call: a preview is a convenience, never a reason for a job to fail."""
    try:
        write_previews(job_path, job, rasters)
    except Exception:
        log.exception("previews of %s not written", job_path.name)
