"""Annotation text drawn into the film raster (Basic Annotation Box Text String), with Pillow + TrueType.

Fonts, first that has the glyph wins, character by character: DejaVu Sans (Debian fonts-dejavu-core:
Latin, Greek, Cyrillic, Hebrew, Arabic, ...) then Droid Sans Fallback (fonts-droid-fallback, 4 MB:
Chinese and Japanese kanji/kana). A character no font covers is drawn as the first font's missing
glyph box and logged, so the film still prints. Coverage comes from the fonts' cmap tables, read as
code point ranges (render.fontcmap).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from printserver.model.spooled_job import AnnotationBoxJob
from printserver.render.fontcmap import Coverage, coverage

log = logging.getLogger(__name__)

#: Font files in order of preference; absolute paths, or names found under FONT_DIRS.
FONTS = ("DejaVuSans.ttf", "DroidSansFallbackFull.ttf")
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
POINTS_PER_INCH = 72


@dataclass(frozen=True)
class _Font:
    path: str
    coverage: Coverage


@cache
def available_fonts() -> tuple[_Font, ...]:
    """The configured fonts that exist here, each with the code points its cmap maps."""
    found = []
    for name in FONTS:
        candidates = [Path(name)] if Path(name).is_absolute() else \
            [p for d in FONT_DIRS if d.is_dir() for p in sorted(d.rglob(name))]
        for path in candidates:
            if path.is_file():
                try:
                    found.append(_Font(str(path), coverage(path)))
                except Exception as exc:  # a broken font must not stop printing
                    log.warning("font %s not usable: %s", path, exc)
                    continue
                break
        else:
            log.warning("annotation font %s not found (install fonts-dejavu-core / fonts-droid-fallback)", name)
    return tuple(found)


@cache
def _truetype(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size_px)


def _runs(text: str, fonts: tuple[_Font, ...], position: int) -> list[tuple[str, str]]:
    """Split `text` into (font path, characters) runs, the first covering font per character."""
    runs: list[tuple[str, str]] = []
    missing = []
    for ch in text:
        font = next((f for f in fonts if ord(ch) in f.coverage), None)
        if font is None:
            if not ch.isspace():
                missing.append(f"U+{ord(ch):04X}")
            font = fonts[0]
        if runs and runs[-1][0] == font.path:
            runs[-1] = (font.path, runs[-1][1] + ch)
        else:
            runs.append((font.path, ch))
    if missing:
        log.warning("annotation position %d: no font has a glyph for %s; drawn as a missing-glyph box",
                    position, ", ".join(dict.fromkeys(missing)))
    return runs


def text_mask(text: str, width: int, height: int, size_px: int, align: str, position: int = 1) -> np.ndarray:
    """Anti-aliased coverage (0..255) of `text` in a width x height box, vertically centred, cut at the edges."""
    mask = Image.new("L", (width, height), 0)
    fonts = available_fonts()
    if not fonts or not text:
        if text:
            log.error("annotation position %d not drawn: no annotation font installed", position)
        return np.asarray(mask)
    runs = [(_truetype(path, size_px), chars) for path, chars in _runs(text, fonts, position)]
    total = sum(font.getlength(chars) for font, chars in runs)
    x = {"LEFT": 0.0, "CENTER": (width - total) / 2, "RIGHT": width - total}.get(align, 0.0)
    if total > width:  # too long for its box: keep the start readable, cut at the right edge
        x = 0.0
    draw = ImageDraw.Draw(mask)
    ascent, descent = runs[0][0].getmetrics()
    y = (height - (ascent + descent)) / 2
    for font, chars in runs:
        draw.text((x, y + ascent), chars, fill=255, font=font, anchor="ls")
        x += font.getlength(chars)
    return np.asarray(mask)


def annotation_rect(a: AnnotationBoxJob, dpi: int, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The annotation box (x0, y0, x1, y1) in printer pixels on a width x height film, None if nothing of it shows."""
    px = dpi / 25.4
    x0, y0 = max(0, round(a.x_mm * px)), max(0, round(a.y_mm * px))
    x1, y1 = min(width, round((a.x_mm + a.width_mm) * px)), min(height, round((a.y_mm + a.height_mm) * px))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def draw_annotations(raster: np.ndarray, annotations: Iterable[AnnotationBoxJob], dpi: int, *, top: int = 0,
                     film_rows: int | None = None) -> None:
    """Draw each annotation in its box, in the gray (or RGB gray) farthest from the film around it.

    `raster` may be a band of the film (render.compose.compose_bands): its first row is the film's row
    `top`, the film `film_rows` high. The ink depends on the mean of the whole box, so a box must lie
    wholly inside the band that draws it (the composer cuts its bands around them); boxes outside are left.
    """
    rows = raster.shape[0]
    for a in annotations:
        rect = annotation_rect(a, dpi, raster.shape[1], rows if film_rows is None else film_rows)
        if rect is None or rect[3] <= top or rect[1] >= top + rows:
            continue
        x0, y0, x1, y1 = rect
        if y0 < top or y1 > top + rows:
            raise ValueError(f"annotation position {a.position} straddles the band of rows {top}..{top + rows}")
        size_px = max(1, round(a.font_size_pt * dpi / POINTS_PER_INCH))
        alpha = text_mask(a.text, x1 - x0, y1 - y0, size_px, a.align, a.position).astype(np.float32) / 255
        region = raster[y0 - top:y1 - top, x0:x1]
        white = float(np.iinfo(raster.dtype).max)  # 8-bit RGB or 16-bit page gray
        background = float(np.asarray(region).mean())
        ink = white if background < white / 2 else 0.0
        if region.ndim == 3:
            alpha = alpha[..., None]
        region[...] = np.rint(region * (1 - alpha) + ink * alpha).astype(raster.dtype)
