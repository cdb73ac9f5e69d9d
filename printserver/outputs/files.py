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


#: Tokens of a printer's pdf_name pattern (config `pdf_name`); every value is sanitised.
PDF_NAME_TOKENS = ("date", "time", "calling_ae", "called_ae", "printer", "label", "films", "job")
DEFAULT_PDF_NAME = "{date}/{time}_{calling_ae}_film{films}_{job}.pdf"
_TOKEN = re.compile(r"\{([^{}]*)\}")


def check_pdf_name(pattern: str) -> str | None:
    """Why `pattern` is not a usable pdf_name, or None. {job} keeps names unique and re-runs idempotent."""
    unknown = [t for t in _TOKEN.findall(pattern) if t not in PDF_NAME_TOKENS]
    if unknown:
        return f"unknown token {{{unknown[0]}}} (known: {', '.join(PDF_NAME_TOKENS)})"
    if "{job}" not in pattern:
        return "must contain {job} (one file per print job)"
    if not pattern.endswith(".pdf") or pattern.startswith("/") or ".." in pattern.split("/"):
        return "must be a relative path ending in .pdf, without '..'"
    return None


def film_pdf_path(root: Path, created: str, calling_ae: str, film_numbers: list[int], job_uid: str, *,
                  pattern: str = DEFAULT_PDF_NAME, called_ae: str = "", printer: str = "", label: str = "") -> Path:
    """<root>/<pattern>; by default <YYYY-MM-DD>/<HHMMSS>_<callingAE>_film<N>[-<M>]_<job>.pdf"""
    when = datetime.fromisoformat(created)
    films = f"{film_numbers[0]:03d}" if len(film_numbers) == 1 else f"{film_numbers[0]:03d}-{film_numbers[-1]:03d}"
    values = {
        "date": f"{when:%Y-%m-%d}", "time": f"{when:%H%M%S}", "calling_ae": sanitize(calling_ae),
        "called_ae": sanitize(called_ae), "printer": sanitize(printer), "label": sanitize(label, "NOLABEL"),
        "films": films, "job": job_uid.rsplit(".", 1)[-1][-8:],
    }
    parts = [_TOKEN.sub(lambda m: values[m.group(1)], part) for part in pattern.split("/")]
    return root.joinpath(*(sanitize(part, max_len=120) for part in parts))


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
