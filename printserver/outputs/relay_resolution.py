"""Output `relay`, mode "film": the resolution each film is composed at for the upstream (key `dpi`).

An upstream that gets our film raster at our own resolution resamples it into its `STANDARD\\1,1` box,
a second resampling of every image. So the render workers compose the film at the upstream's resolution
(a "rasters" rendition with `dpi`), chosen in this order:

1. the relay's `dpi` key (the admin knows the imager: 300, 320, 508 dpi, ...);
2. what the upstream tells in Printer Configuration Retrieval (PS3.4 H.4.11, digest §4.8), for its
   `STANDARD\\1,1` format on the film's size: Printer Pixel Spacing (mm) → 25.4 / spacing, else the box's
   Rows × Columns → the largest dpi whose film raster fits that box;
3. nothing known (most imagers, dcmprscp: they do not offer the class) → our own dpi (the film as composed).

The choice is made once per job, before its first film, and kept in the output's memo (`dpi`, `dpi_from`)
so every film of the job, and a delivery after a restart, uses the same one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from printserver.errors import ConfigError
from printserver.layout import MM_PER_INCH
from printserver.outputs.base import RASTERS, Rendition

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from printserver.model.spooled_job import FilmJob
    from printserver.scu.client import PrintClient

#: The range printer profiles allow (config.py resolution_dpi).
DPI_RANGE = (50, 1200)
SINGLE_BOX = "STANDARD\\1,1"
#: The output memo's entries of the choice, kept by every later step.
RESOLUTION_KEYS = ("dpi", "dpi_from")


def dpi_value(table: dict[str, Any], key: str) -> int | None:
    """The `dpi` key of a relay table (None: ask the upstream); ConfigError names the key."""
    dpi = table.get("dpi")
    if dpi is None:
        return None
    if not isinstance(dpi, int) or isinstance(dpi, bool) or not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise ConfigError(f"{key}.dpi: must be {DPI_RANGE[0]}..{DPI_RANGE[1]} (dots per inch of the upstream's "
                          f"films), got {dpi!r}")
    return dpi


def _clamp(dpi: float) -> int:
    return max(DPI_RANGE[0], min(DPI_RANGE[1], int(dpi)))


def _format_dpi(fmt: Dataset, film: FilmJob) -> tuple[int, str] | None:
    """The dpi one Supported Image Display Formats item implies for `film`, and why."""
    spacing = [float(v) for v in fmt.get("PrinterPixelSpacing") or [] if float(v) > 0]
    if spacing:
        return _clamp(round(MM_PER_INCH / min(spacing))), f"Printer Pixel Spacing {min(spacing):g} mm"
    rows, columns = int(fmt.get("Rows") or 0), int(fmt.get("Columns") or 0)
    if rows and columns:
        if str(fmt.get("FilmOrientation", "")) not in ("", film.attributes.get("FilmOrientation", "")):
            rows, columns = columns, rows
        dpi = math.floor(min(columns * MM_PER_INCH / film.width_mm, rows * MM_PER_INCH / film.height_mm))
        return _clamp(dpi), f"its {SINGLE_BOX} box of {rows}x{columns}"
    return None


def upstream_dpi(config: Dataset | None, films: Sequence[FilmJob]) -> tuple[int | None, str]:
    """The dpi the upstream's configuration implies for these films (the lowest over them), and why;
    (None, why) when it tells nothing usable."""
    if config is None:
        return None, "the upstream does not offer Printer Configuration Retrieval"
    found: list[tuple[int, str]] = []
    for film in films:
        size = film.attributes.get("FilmSizeID", "")
        candidates = [f for item in config.get("PrinterConfigurationSequence") or []
                      for f in item.get("SupportedImageDisplayFormatsSequence") or []
                      if str(f.get("ImageDisplayFormat", "")) == SINGLE_BOX]
        same_size = [f for f in candidates if str(f.get("FilmSizeID", "")) == size]
        for fmt in same_size or candidates:  # a printer's resolution rarely depends on the film size
            choice = _format_dpi(fmt, film)
            if choice is not None:
                found.append(choice)
                break
    if not found:
        return None, f"its Printer Configuration names no resolution for {SINGLE_BOX}"
    return min(found)


def decide(configured: int | None, client: PrintClient, films: Sequence[FilmJob]) -> dict[str, Any]:
    """The memo entries of the choice: `dpi` (0 = ours, the films as composed) and `dpi_from`."""
    if configured is not None:
        return {"dpi": configured, "dpi_from": "the relay's dpi key"}
    dpi, why = upstream_dpi(client.printer_configuration(), films)
    if dpi is None:
        return {"dpi": 0, "dpi_from": f"ours ({why})"}
    return {"dpi": dpi, "dpi_from": f"the upstream ({why})"}


def raster_rendition(dpi: int | None, films: Sequence[FilmJob]) -> Rendition:
    """The rasters at `dpi` (None/0, or every film at it already: the plain rasters rendition)."""
    if not dpi or all(f.dpi == dpi for f in films):
        return RASTERS
    return Rendition("rasters", dpi=dpi)
