"""Layouts defined as data: SLIDE, SUPERSLIDE and CUSTOM\\i Image Display Formats, Annotation Display Formats.

PS3.3 C.13.5.1 leaves the box count of SLIDE/SUPERSLIDE and the meaning of CUSTOM\\i to the SCP's
conformance statement, and PS3.3 C.13.4 the annotation positions to the SCP: so they are data in
layouts/ (display_formats.toml, annotation_formats.toml) that an admin overlays without code.
Everything here is pure: TOML in, definitions out; layout.py turns them into rectangles on a film.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALIGNMENTS = ("LEFT", "CENTER", "RIGHT")
BANDS = ("TOP", "BOTTOM")
#: Fractions may miss 1.0 by rounding in hand-written data; this much is forgiven.
EPSILON = 1e-6


@dataclass(frozen=True)
class SlideFormat:
    """SLIDE / SUPERSLIDE: equal boxes of a slide's image size, `columns` x `rows`, centred, row-major."""

    box_mm: tuple[float, float]
    columns: int
    rows: int
    gap_mm: float | None = None  # None: the film geometry's gap


@dataclass(frozen=True)
class CustomFormat:
    """CUSTOM\\i: boxes listed in Image Box Position order, as fractions of the image area or in mm."""

    units: str  # "area" (fractions of the image area inside margin and annotation bands) or "mm" (film corner)
    boxes: tuple[tuple[float, float, float, float], ...]  # (x, y, width, height)
    description: str = ""


@dataclass(frozen=True)
class AnnotationBoxFormat:
    band: str  # TOP or BOTTOM: the strip of the film the text goes in
    x: float  # fraction of the width between the margins
    width: float
    align: str  # LEFT, CENTER, RIGHT


@dataclass(frozen=True)
class AnnotationFormat:
    """One Annotation Display Format ID: text strips kept free of images, positions 1..m in list order."""

    band_mm: float
    font_size_pt: float
    boxes: tuple[AnnotationBoxFormat, ...]
    description: str = ""

    def band_height(self, band: str) -> float:
        return self.band_mm if any(b.band == band for b in self.boxes) else 0.0


def _err(path: Path, key: str, message: str) -> ValueError:
    return ValueError(f"{path}: {key} {message}")


def _number(value: Any, path: Path, key: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (positive and value <= 0):
        raise _err(path, key, "must be a " + ("positive" if positive else "non-negative") + " number")
    return float(value)


def _count(value: Any, path: Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _err(path, key, "must be an integer >= 1")
    return value


def parse_display_formats(data: dict[str, Any], path: Path) -> dict[str, SlideFormat | CustomFormat]:
    """display_formats.toml -> {"SLIDE": .., "SUPERSLIDE": .., "CUSTOM\\1": ..}; errors name file and key."""
    out: dict[str, SlideFormat | CustomFormat] = {}
    for kind in ("SLIDE", "SUPERSLIDE"):
        if kind not in data:
            continue
        t = data[kind]
        box = t.get("box_mm")
        if not (isinstance(box, list) and len(box) == 2):
            raise _err(path, f"{kind}.box_mm", "must be [width_mm, height_mm]")
        gap = t.get("gap_mm")
        out[kind] = SlideFormat(
            (_number(box[0], path, f"{kind}.box_mm", positive=True), _number(box[1], path, f"{kind}.box_mm",
                                                                              positive=True)),
            _count(t.get("columns"), path, f"{kind}.columns"), _count(t.get("rows"), path, f"{kind}.rows"),
            None if gap is None else _number(gap, path, f"{kind}.gap_mm"))
    for number, t in data.get("CUSTOM", {}).items():
        key = f"CUSTOM.{number}"
        if not number.isdigit() or int(number) < 1:
            raise _err(path, key, "must be numbered 1, 2, ... (CUSTOM\\i)")
        units = t.get("units", "area")
        if units not in ("area", "mm"):
            raise _err(path, f"{key}.units", "must be 'area' or 'mm'")
        boxes = []
        for i, b in enumerate(t.get("boxes", []), start=1):
            if not (isinstance(b, list) and len(b) == 4):
                raise _err(path, f"{key}.boxes[{i}]", "must be [x, y, width, height]")
            x, y, w, h = (_number(v, path, f"{key}.boxes[{i}]") for v in b)
            if w <= 0 or h <= 0:
                raise _err(path, f"{key}.boxes[{i}]", "must have a positive width and height")
            if units == "area" and (x + w > 1 + EPSILON or y + h > 1 + EPSILON):
                raise _err(path, f"{key}.boxes[{i}]", "must lie inside the image area (fractions 0..1)")
            boxes.append((x, y, w, h))
        if not boxes:
            raise _err(path, f"{key}.boxes", "must list at least one box")
        out[f"CUSTOM\\{int(number)}"] = CustomFormat(units, tuple(boxes), str(t.get("description", "")))
    unknown = set(data) - {"SLIDE", "SUPERSLIDE", "CUSTOM"}
    if unknown:
        raise _err(path, ", ".join(sorted(unknown)), "is not SLIDE, SUPERSLIDE or CUSTOM")
    return out


def parse_annotation_formats(data: dict[str, Any], path: Path) -> dict[str, AnnotationFormat]:
    """annotation_formats.toml -> {Annotation Display Format ID: AnnotationFormat}."""
    out: dict[str, AnnotationFormat] = {}
    for fid, t in data.items():
        if not (isinstance(t, dict) and 1 <= len(fid) <= 16 and fid == fid.strip().upper()):
            raise _err(path, fid, "must be a table named by an ID of 1-16 upper case characters (CS)")
        boxes = []
        for i, b in enumerate(t.get("boxes", []), start=1):
            key = f"{fid}.boxes[{i}]"
            band, align = str(b.get("band", "BOTTOM")).upper(), str(b.get("align", "LEFT")).upper()
            if band not in BANDS:
                raise _err(path, f"{key}.band", "must be TOP or BOTTOM")
            if align not in ALIGNMENTS:
                raise _err(path, f"{key}.align", "must be LEFT, CENTER or RIGHT")
            x, w = _number(b.get("x", 0.0), path, f"{key}.x"), _number(b.get("width", 1.0), path, f"{key}.width")
            if w <= 0 or x + w > 1 + EPSILON:
                raise _err(path, key, "x and width must be fractions of the film width (0..1)")
            boxes.append(AnnotationBoxFormat(band, x, w, align))
        if not boxes:
            raise _err(path, f"{fid}.boxes", "must list at least one annotation position")
        out[fid] = AnnotationFormat(_number(t.get("band_mm", 10.0), path, f"{fid}.band_mm", positive=True),
                                    _number(t.get("font_size_pt", 14.0), path, f"{fid}.font_size_pt", positive=True),
                                    tuple(boxes), str(t.get("description", "")))
    return out


def load_folder(folder: Path) -> tuple[dict[str, SlideFormat | CustomFormat], dict[str, AnnotationFormat]]:
    """The data-defined formats of one layouts folder (missing files: none)."""
    display: dict[str, SlideFormat | CustomFormat] = {}
    annotation: dict[str, AnnotationFormat] = {}
    path = folder / "display_formats.toml"
    if path.is_file():
        display = parse_display_formats(tomllib.loads(path.read_text(encoding="utf-8")), path)
    path = folder / "annotation_formats.toml"
    if path.is_file():
        annotation = parse_annotation_formats(tomllib.loads(path.read_text(encoding="utf-8")), path)
    return display, annotation
