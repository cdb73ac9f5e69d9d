"""Film geometry: Image Display Format parsing, film sizes, image box and annotation rectangles, in millimetres.

Pure data and arithmetic, shared by the model (validation, box count) and the renderer (placement).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from printserver.formats import EPSILON, AnnotationFormat, CustomFormat, SlideFormat, load_folder

FORMAT_KINDS = ("STANDARD", "ROW", "COL")
#: Formats whose boxes come from layout data (printserver/formats.py), not from parameters.
DATA_FORMAT_KINDS = ("SLIDE", "SUPERSLIDE", "CUSTOM")
ALL_FORMAT_KINDS = FORMAT_KINDS + DATA_FORMAT_KINDS
ORIENTATIONS = ("PORTRAIT", "LANDSCAPE")
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class DisplayFormat:
    """A parsed Image Display Format (2010,0010): STANDARD\\C,R, ROW\\R1,.., COL\\C1,.., SLIDE, SUPERSLIDE, CUSTOM\\i"""

    kind: str
    counts: tuple[int, ...]  # CUSTOM: (i,); SLIDE / SUPERSLIDE: ()

    @property
    def box_count(self) -> int:
        """Grid formats only: data-defined formats know their count from the layout data."""
        if self.kind == "STANDARD":
            return self.counts[0] * self.counts[1]
        if self.kind in DATA_FORMAT_KINDS:
            raise ValueError(f"{self} takes its box count from the layout data")
        return sum(self.counts)

    def __str__(self) -> str:
        if not self.counts:
            return self.kind
        return f"{self.kind}\\{','.join(map(str, self.counts))}"


def parse_display_format(value: str, max_boxes: int = 1000) -> DisplayFormat:
    """Parse and check an Image Display Format; ValueError says what is wrong."""
    text = value.strip()
    kind, sep, params = text.partition("\\")
    if kind in ("SLIDE", "SUPERSLIDE"):
        if sep:
            raise ValueError(f"{kind} takes no parameters, got '{params}'")
        return DisplayFormat(kind, ())
    if kind == "CUSTOM":
        if not params.isdigit() or int(params) < 1:
            raise ValueError(f"CUSTOM needs a format number i >= 1 (CUSTOM\\i), got '{params}'")
        return DisplayFormat(kind, (int(params),))
    if not sep:
        raise ValueError(f"'{text}' has no '\\' between the format name and its parameters")
    if kind not in FORMAT_KINDS:
        raise ValueError(f"format '{kind}' is not supported (supported: {', '.join(ALL_FORMAT_KINDS)})")
    try:
        counts = tuple(int(p) for p in params.split(","))
    except ValueError:
        raise ValueError(f"parameters '{params}' are not comma-separated integers") from None
    if kind == "STANDARD" and len(counts) != 2:
        raise ValueError(f"STANDARD needs exactly two parameters C,R, got '{params}'")
    if any(c < 1 for c in counts):
        raise ValueError(f"every count must be at least 1, got '{params}'")
    fmt = DisplayFormat(kind, counts)
    if fmt.box_count > max_boxes:
        raise ValueError(f"{fmt.box_count} image boxes exceed the printer's maximum of {max_boxes}")
    return fmt


@dataclass(frozen=True)
class Rect:
    """A rectangle on the film in millimetres, origin top-left, y downwards."""

    x: float
    y: float
    width: float
    height: float


def _grid_rects(fmt: DisplayFormat, width: float, height: float, margin: float, gap: float) -> list[Rect]:
    """STANDARD / ROW / COL boxes in Image Box Position order (PS3.3 C.13.5.1).

    STANDARD and ROW number row by row (left to right, then down); COL numbers column by column
    (top to bottom, then right).
    """
    area_w = width - 2 * margin
    area_h = height - 2 * margin

    def split(start: float, length: float, n: int) -> list[tuple[float, float]]:
        size = (length - gap * (n - 1)) / n
        return [(start + i * (size + gap), size) for i in range(n)]

    rects: list[Rect] = []
    if fmt.kind == "STANDARD":
        columns, rows = fmt.counts
        for y, h in split(margin, area_h, rows):
            rects.extend(Rect(x, y, w, h) for x, w in split(margin, area_w, columns))
    elif fmt.kind == "ROW":
        for (y, h), n in zip(split(margin, area_h, len(fmt.counts)), fmt.counts, strict=True):
            rects.extend(Rect(x, y, w, h) for x, w in split(margin, area_w, n))
    else:  # COL
        for (x, w), n in zip(split(margin, area_w, len(fmt.counts)), fmt.counts, strict=True):
            rects.extend(Rect(x, y, w, h) for y, h in split(margin, area_h, n))
    return rects


@dataclass(frozen=True)
class LayoutData:
    film_sizes: dict[str, tuple[float, float]]
    margin_mm: float
    gap_mm: float
    #: SLIDE, SUPERSLIDE, CUSTOM\\i -> their definition (display_formats.toml)
    display_formats: dict[str, Any] = field(default_factory=dict)
    #: Annotation Display Format ID -> its definition (annotation_formats.toml)
    annotation_formats: dict[str, AnnotationFormat] = field(default_factory=dict)


def builtin_layouts_dir() -> Path:
    """layouts/ ships inside the wheel as printserver/layouts; a source checkout has it at the root."""
    packaged = Path(__file__).parent / "layouts"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "layouts"


@cache
def load_layouts(extra_dir: str | None = None) -> LayoutData:
    """Built-in layout data, overlaid by an admin's folder of the same TOML files."""
    sizes: dict[str, tuple[float, float]] = {}
    geometry: dict[str, float] = {}
    display: dict[str, Any] = {}
    annotation: dict[str, AnnotationFormat] = {}
    dirs = [builtin_layouts_dir()] + ([Path(extra_dir)] if extra_dir else [])
    for folder in dirs:
        more_display, more_annotation = load_folder(folder)
        display.update(more_display)
        annotation.update(more_annotation)
        path = folder / "film_sizes.toml"
        if not path.is_file():
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for name, dims in data.get("film_sizes", {}).items():
            if not (isinstance(dims, list) and len(dims) == 2 and all(float(d) > 0 for d in dims)):
                raise ValueError(f"{path}: film_sizes.{name} must be [width_mm, height_mm]")
            sizes[name] = (float(dims[0]), float(dims[1]))
        geometry.update(data.get("geometry", {}))
    return LayoutData(sizes, float(geometry.get("margin_mm", 4.0)), float(geometry.get("gap_mm", 2.0)), display,
                      annotation)


def film_dimensions(film_size_id: str, orientation: str, layouts: LayoutData) -> tuple[float, float]:
    """(width, height) in mm as the film is viewed: LANDSCAPE turns the portrait film."""
    w, h = layouts.film_sizes[film_size_id]
    return (h, w) if orientation == "LANDSCAPE" else (w, h)


def mm_to_px(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)


def image_box_rects(
    fmt: DisplayFormat,
    width: float,
    height: float,
    *,
    margin: float,
    gap: float,
    display_formats: dict[str, SlideFormat | CustomFormat] | None = None,
    annotation: AnnotationFormat | None = None,
) -> list[Rect]:
    """Image box rectangles in position order for any Image Display Format; ValueError says why not.

    Annotation text strips (with a gap) are taken off the top/bottom of the image area first.
    """
    top = annotation.band_height("TOP") + gap if annotation and annotation.band_height("TOP") else 0.0
    bottom = annotation.band_height("BOTTOM") + gap if annotation and annotation.band_height("BOTTOM") else 0.0
    area = Rect(margin, margin + top, width - 2 * margin, height - 2 * margin - top - bottom)
    if area.width <= 0 or area.height <= 0:
        raise ValueError("leaves no image area on this film")
    if fmt.kind not in DATA_FORMAT_KINDS:
        rects = _grid_rects(fmt, width, area.height + 2 * margin, margin, gap)
        return [Rect(r.x, r.y + top, r.width, r.height) for r in rects]
    name = str(fmt)
    data = (display_formats or {}).get(name)
    if data is None:
        known = ", ".join(sorted(display_formats or {})) or "none"
        raise ValueError(f"is not defined in this printer's layouts (defined: {known})")
    if isinstance(data, SlideFormat):
        g = gap if data.gap_mm is None else data.gap_mm
        (bw, bh), cols, rows = data.box_mm, data.columns, data.rows
        grid_w, grid_h = cols * bw + (cols - 1) * g, rows * bh + (rows - 1) * g
        if grid_w > area.width + EPSILON or grid_h > area.height + EPSILON:
            raise ValueError(f"needs {grid_w:g} x {grid_h:g} mm, the film has {area.width:g} x {area.height:g} mm")
        x0, y0 = area.x + (area.width - grid_w) / 2, area.y + (area.height - grid_h) / 2
        return [Rect(x0 + c * (bw + g), y0 + r * (bh + g), bw, bh) for r in range(rows) for c in range(cols)]
    if data.units == "area":
        return [Rect(area.x + x * area.width, area.y + y * area.height, w * area.width, h * area.height)
                for x, y, w, h in data.boxes]
    rects = [Rect(*b) for b in data.boxes]
    for i, r in enumerate(rects, start=1):
        if r.x + r.width > width + EPSILON or r.y + r.height > height + EPSILON:
            raise ValueError(f"box {i} lies outside the {width:g} x {height:g} mm film")
    return rects


def annotation_rects(fmt: AnnotationFormat, width: float, height: float, *, margin: float) -> list[Rect]:
    """Annotation box rectangles in Annotation Position order: inside the top or bottom text strip."""
    inner = width - 2 * margin
    rects = []
    for b in fmt.boxes:
        y = margin if b.band == "TOP" else height - margin - fmt.band_mm
        rects.append(Rect(margin + b.x * inner, y, b.width * inner, fmt.band_mm))
    return rects
