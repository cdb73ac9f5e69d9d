"""Film -> paper for the CUPS output (pure): PWG media names, the media a film goes on, CUPS job options, the
scale of a film fitted onto paper. Kept apart from outputs/cups.py (the plug-in and its pycups calls) so it
is tested in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from printserver.model.spooled_job import FilmJob

MM_PER_INCH = 25.4
#: Print Priority -> IPP job-priority (1..100; CUPS orders its queue by it)
JOB_PRIORITY = {"HIGH": 80, "MED": 50, "LOW": 20}
_PWG_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(in|mm)$")


def media_size_mm(keyword: str) -> tuple[float, float] | None:
    """Width x height in mm of a PWG self-describing media name (iso_a4_210x297mm, oe_14x17_14x17in)."""
    m = _PWG_SIZE.search(keyword)
    if not m:
        return None
    scale = MM_PER_INCH if m.group(3) == "in" else 1.0
    return float(m.group(1)) * scale, float(m.group(2)) * scale


@dataclass(frozen=True)
class MediaChoice:
    keyword: str
    size_mm: tuple[float, float] | None
    exact: bool  # the media is the film's size (either orientation)
    note: str = ""


def choose_media(film_size_id: str, film_mm: tuple[float, float], supported: list[str], default: str,
                 overrides: dict[str, str]) -> MediaChoice:
    """The queue's media for a film: the admin's override if the queue has it, else the media of the film's
    size, else the queue's default (with a note saying so)."""
    wanted = overrides.get(film_size_id)
    if wanted:
        if wanted in supported:
            size = media_size_mm(wanted)
            return MediaChoice(wanted, size, size is not None and _same(size, film_mm))
        note = f"cups_media {film_size_id}={wanted} is not in the queue's media-supported"
    else:
        note = ""
    for keyword in supported:
        size = media_size_mm(keyword)
        if size is not None and _same(size, film_mm):
            return MediaChoice(keyword, size, True, note)
    why = f"no media of {film_size_id} ({film_mm[0]:.0f}x{film_mm[1]:.0f} mm) in the queue; using {default}"
    return MediaChoice(default, media_size_mm(default), False, "; ".join(filter(None, (note, why))))


def _same(a: tuple[float, float], b: tuple[float, float], tol: float = 1.5) -> bool:
    w, h = sorted(a)
    fw, fh = sorted(b)
    return abs(w - fw) <= tol and abs(h - fh) <= tol


def parse_options(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split())


def job_options(media: str, copies: int, priority: str, medium_type: str, destination: str,
                cfg: dict[str, Any]) -> dict[str, str]:
    """IPP/CUPS options of a film job. print-scaling=none: the document is already the size to print."""
    options = {"media": media, "print-scaling": "none", "copies": str(copies),
               "job-priority": str(JOB_PRIORITY.get(priority, 50))}
    options.update(parse_options(cfg.get("medium_type", {}).get(medium_type, "")))
    options.update(parse_options(cfg.get("film_destination", {}).get(destination, "")))
    options.update(cfg.get("options", {}))
    return options


def fitted_scale(film: FilmJob, paper_mm: tuple[float, float]) -> float:
    """The scale render.pdf.write_fit_pdf gives `film` on `paper_mm` (paper turned to the film's orientation)."""
    from printserver.render.pdf import fit_scale

    pw, ph = sorted(paper_mm)
    if film.width_mm > film.height_mm:
        pw, ph = ph, pw
    return fit_scale((film.width_mm, film.height_mm), (pw, ph))


def smaller(paper: tuple[float, float], film: tuple[float, float]) -> bool:
    return any(p < f - 1 for p, f in zip(sorted(paper), sorted(film), strict=True))


def film_runs(films: Sequence[FilmJob]) -> list[tuple[int, int]]:
    """Consecutive films of one Film Size ID as (first, last) indexes: each run is one CUPS job on its own
    media, so a collated session of 14x17 and 8x10 films is not printed all on the first film's media."""
    runs: list[tuple[int, int]] = []
    for index, film in enumerate(films):
        if runs and films[runs[-1][0]].attributes.get("FilmSizeID") == film.attributes.get("FilmSizeID"):
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs
