"""Safe, deterministic output paths and atomic file replacement.

Names come from the job's time, the calling AE and film numbers, never from raw DICOM strings, and
are the same each time a job is rendered: a job re-run after a crash replaces its film, never
duplicates it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitize(text: str, fallback: str = "UNKNOWN", max_len: int = 32) -> str:
    """Keep letters, digits, dot, dash, underscore; never empty, never a hidden or relative name."""
    cleaned = _UNSAFE.sub("_", text.strip()).strip("._")[:max_len]
    return cleaned or fallback


def film_pdf_path(root: Path, created: str, calling_ae: str, film_numbers: list[int], job_uid: str) -> Path:
    """<root>/<YYYY-MM-DD>/<HHMMSS>_<callingAE>_film<N>[-<M>]_<job>.pdf"""
    when = datetime.fromisoformat(created)
    films = f"{film_numbers[0]:03d}" if len(film_numbers) == 1 else f"{film_numbers[0]:03d}-{film_numbers[-1]:03d}"
    job = job_uid.rsplit(".", 1)[-1][-8:]
    name = f"{when:%H%M%S}_{sanitize(calling_ae)}_film{films}_{job}.pdf"
    return root / f"{when:%Y-%m-%d}" / name


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Write to a private temporary file, fsync, then rename over `path` and fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
