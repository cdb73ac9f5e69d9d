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
from typing import IO, Any, BinaryIO

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


#: Files with patient images (job files, renditions, records, PDFs) are created owner-only; an output may then
#: open them up to a group (pdf_mode / pdf_group), never to everyone.
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def private_open(path: Path, mode: str = "wb") -> IO[Any]:
    """Create (or truncate) `path` readable by the owner only, whatever the umask allows."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its mode through O_CREAT: set it
    return os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {}))


def private_dirs(path: Path, mode: int = PRIVATE_DIR) -> None:
    """mkdir -p with `mode` for every folder created (existing ones are left as the admin made them)."""
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode)
        except FileExistsError:
            continue
        os.chmod(folder, mode)  # mkdir's mode passes through the umask


def dir_mode(file_mode: int) -> int:
    """The folder mode matching a file mode: x wherever r (0o640 -> 0o750)."""
    return file_mode | ((file_mode & 0o444) >> 2) | PRIVATE_DIR


def check_mode(text: str) -> int | None:
    """An octal file mode with no permission for others (0600, 0640, 0660), else None."""
    try:
        mode = int(text, 8)
    except ValueError:
        return None
    return mode if 0 <= mode <= 0o777 and not mode & 0o007 and mode & 0o600 == 0o600 else None


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Write to a private temporary file, fsync, then rename over `path` and fsync the folder.

    The file is owner-only (0600) from its first byte; new folders are 0700."""
    private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with private_open(tmp, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
