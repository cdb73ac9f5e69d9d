"""A QC test film: gray step wedge labelled with target ODs, a 10 mm geometry grid, resolution bars.

`build_test_film` returns what an SCU sends (film box attributes and the image box N-SET data sets),
so the same film can be printed locally (`printserver testfilm`, through model -> compose -> PDF) or,
with the print SCU, to any printer. Images are 12-bit MONOCHROME2 with everything burnt in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver.config import PrinterProfile
from printserver.layout import (
    LayoutData,
    Rect,
    film_dimensions,
    image_box_rects,
    mm_to_px,
    parse_display_format,
)
from printserver.render.tone import stored_to_density

DISPLAY_FORMAT = "ROW\\1,2"  # wedge across the top; grid bottom left, resolution bars bottom right
#: For printers offering only STANDARD formats (DCMTK's dcmprscp, many imagers): the same three parts
#: drawn into one image at GRID_PX_PER_MM, printed at its true width through Requested Image Size.
SINGLE_IMAGE_FORMAT = "STANDARD\\1,1"
WEDGE_STEPS = 21
TOP = 4095  # 12-bit
GRID_PITCH_MM = 10
GRID_PX_PER_MM = 10  # grid image resolution; printed at Requested Image Size


@dataclass(frozen=True)
class TestFilm:
    display_format: str
    #: Film box N-CREATE attributes besides Image Display Format and the session reference.
    film_box: dict[str, Any]
    #: Grayscale Image Box N-SET data sets, in Image Box Position order.
    image_boxes: tuple[Dataset, ...]
    #: (P-value, target OD) of each wedge step, left to right.
    wedge: tuple[tuple[int, float], ...]
    grid_mm: tuple[int, int]
    #: Line pairs per mm of each resolution bar group, left to right.
    bars_lp_per_mm: tuple[float, ...]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _to_12_bit(ink: Image.Image, background: np.ndarray) -> np.ndarray:
    """Burn an L-mode drawing (255 = ink) into a 12-bit image: ink prints at Max Density (P-value 0)."""
    mask = np.asarray(ink) > 127
    return np.where(mask, 0, background).astype(np.uint16)


def _item(pixels: np.ndarray) -> Dataset:
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = "MONOCHROME2"
    item.Rows, item.Columns = pixels.shape
    item.BitsAllocated, item.BitsStored, item.HighBit = 16, 12, 11
    item.PixelRepresentation = 0
    item.add_new(0x7FE00010, "OW", pixels.astype("<u2").tobytes())
    return item


def _box(position: int, pixels: np.ndarray, **attrs: Any) -> Dataset:
    ds = Dataset()
    ds.ImageBoxPosition = position
    ds.BasicGrayscaleImageSequence = Sequence([_item(pixels)])
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    return ds


def _wedge_image(targets: list[tuple[int, float]]) -> np.ndarray:
    step_w, wedge_h, label_h = 100, 160, 60
    width = step_w * len(targets)
    background = np.full((wedge_h + label_h, width), TOP, np.int32)  # labels on Min Density
    for i, (p, _) in enumerate(targets):
        background[:wedge_h, i * step_w:(i + 1) * step_w] = p
    ink = Image.new("L", (width, wedge_h + label_h), 0)
    draw = ImageDraw.Draw(ink)
    font = _font(26)
    for i, (_, od) in enumerate(targets):
        draw.text((i * step_w + step_w // 2, wedge_h + label_h // 2), f"{od:.2f}", fill=255, font=font, anchor="mm")
    return _to_12_bit(ink, background)


def _grid_image(width_mm: int, height_mm: int) -> np.ndarray:
    w, h = width_mm * GRID_PX_PER_MM, height_mm * GRID_PX_PER_MM
    ink = Image.new("L", (w + 2, h + 2), 0)  # + line width: the last line is inside the image
    draw = ImageDraw.Draw(ink)
    step = GRID_PITCH_MM * GRID_PX_PER_MM
    for x in range(0, w + 1, step):
        draw.rectangle((x, 0, x + 1, h + 1), fill=255)
    for y in range(0, h + 1, step):
        draw.rectangle((0, y, w + 1, y + 1), fill=255)
    font = _font(30)
    draw.text((step // 2, step // 2), f"{GRID_PITCH_MM} mm", fill=255, font=font, anchor="mm")
    return _to_12_bit(ink, np.full((h + 2, w + 2), TOP, np.int32))


def _bars_image(size_px: int, dpi: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """Groups of 5 line pairs, n printer pixels per line (printed with Magnification NONE), 3 groups a row."""
    ink = Image.new("L", (size_px, size_px), 0)
    draw = ImageDraw.Draw(ink)
    font_px = max(12, size_px // 30)
    font = _font(font_px)
    widths = [n for n in (1, 2, 3, 4, 6, 8) if 10 * n <= size_px // 4]
    lp = tuple(round(dpi / 25.4 / (2 * n), 2) for n in widths)
    draw.text((size_px // 2, font_px), "line pairs / mm", fill=255, font=font, anchor="mm")
    row_h = (size_px - 3 * font_px) // 2
    for i, (n, freq) in enumerate(zip(widths, lp, strict=True)):
        cx = size_px * (2 * (i % 3) + 1) // 6
        top = 3 * font_px + (i // 3) * row_h
        for k in range(5):
            x0 = cx - 5 * n + 2 * k * n
            draw.rectangle((x0, top, x0 + n - 1, top + row_h - 3 * font_px), fill=255)
        draw.text((cx, top + row_h - font_px), f"{freq:g}", fill=255, font=font, anchor="mm")
    return _to_12_bit(ink, np.full((size_px, size_px), TOP, np.int32)), lp


def build_test_film(profile: PrinterProfile, layouts: LayoutData, *, film_size: str | None = None,
                    orientation: str = "PORTRAIT", resolution: str | None = None, min_density: int | None = None,
                    max_density: int | None = None, illumination: int | None = None,
                    ambient: int | None = None, single_image: bool = False) -> TestFilm:
    """The QC film for this printer; unset values are the printer's defaults.

    ``single_image``: one STANDARD\\1,1 image holding wedge, grid and bars where the ROW\\1,2 boxes
    would be, for printers that refuse ROW formats; its bars are then counted in image pixels.
    """
    film_box = {
        "FilmSizeID": film_size or profile.default_film_size,
        "FilmOrientation": orientation,
        "RequestedResolutionID": resolution or profile.default_resolution_id,
        "MagnificationType": "REPLICATE",
        "BorderDensity": "WHITE",
        "EmptyImageDensity": "WHITE",
        "MinDensity": profile.default_min_density if min_density is None else min_density,
        "MaxDensity": profile.default_max_density if max_density is None else max_density,
        "Illumination": illumination or profile.default_illumination,
        "ReflectedAmbientLight": profile.default_reflected_ambient_light if ambient is None else ambient,
    }
    densities = stored_to_density(12, invert=False, min_density=film_box["MinDensity"],
                                  max_density=film_box["MaxDensity"], illumination=film_box["Illumination"],
                                  ambient=film_box["ReflectedAmbientLight"])
    steps = [round(i * TOP / (WEDGE_STEPS - 1)) for i in range(WEDGE_STEPS)]
    wedge = tuple((p, round(float(densities[p]), 2)) for p in steps)

    width, height = film_dimensions(film_box["FilmSizeID"], orientation, layouts)
    rects = image_box_rects(parse_display_format(DISPLAY_FORMAT), width, height, margin=layouts.margin_mm,
                            gap=layouts.gap_mm)
    grid_w = int((rects[1].width - 4) // GRID_PITCH_MM) * GRID_PITCH_MM
    grid_h = int((rects[1].height - 4) // GRID_PITCH_MM) * GRID_PITCH_MM
    dpi = profile.resolution_dpi[film_box["RequestedResolutionID"]]
    if single_image:
        return _single_image_film(film_box, wedge, rects, (grid_w, grid_h), width, height, layouts)
    bars_px = min(mm_to_px(rects[2].width, dpi), mm_to_px(rects[2].height, dpi), 1500) - 4
    bars, lp = _bars_image(bars_px, dpi)
    boxes = (
        _box(1, _wedge_image(list(wedge))),
        _box(2, _grid_image(grid_w, grid_h), RequestedImageSize=str(grid_w + 2 / GRID_PX_PER_MM),
             MagnificationType="BILINEAR"),
        _box(3, bars, MagnificationType="NONE"),
    )
    return TestFilm(DISPLAY_FORMAT, film_box, boxes, wedge, (grid_w, grid_h), lp)


def _single_image_film(film_box: dict[str, Any], wedge: tuple[tuple[int, float], ...], rects: list[Rect],
                       grid_mm: tuple[int, int], width: float, height: float, layouts: LayoutData) -> TestFilm:
    """The three parts pasted at their ROW\\1,2 places into one image of the whole STANDARD\\1,1 box."""
    (box,) = image_box_rects(parse_display_format(SINGLE_IMAGE_FORMAT), width, height, margin=layouts.margin_mm,
                             gap=layouts.gap_mm)
    scale = GRID_PX_PER_MM
    canvas = np.full((int(box.height * scale), int(box.width * scale)), TOP, np.uint16)

    def paste(part: np.ndarray, rect: Rect, fill: bool = False) -> None:
        """Centre ``part`` in ``rect`` (film mm); resized (nearest pixel) to fill it, or if it does not fit."""
        w, h = int(rect.width * scale) - 2, int(rect.height * scale) - 2
        if fill or part.shape[1] > w or part.shape[0] > h:
            factor = min(w / part.shape[1], h / part.shape[0])
            size = (max(1, int(part.shape[1] * factor)), max(1, int(part.shape[0] * factor)))
            part = np.asarray(Image.fromarray(part).resize(size, Image.Resampling.NEAREST))
        x = int((rect.x - box.x) * scale) + (int(rect.width * scale) - part.shape[1]) // 2
        y = int((rect.y - box.y) * scale) + (int(rect.height * scale) - part.shape[0]) // 2
        canvas[y:y + part.shape[0], x:x + part.shape[1]] = part

    paste(_wedge_image(list(wedge)), rects[0], fill=True)  # the grid and bars keep their pixel pitch
    paste(_grid_image(*grid_mm), rects[1])
    bars_px = min(int(rects[2].width * scale), int(rects[2].height * scale), 1500) - 4
    bars, lp = _bars_image(bars_px, round(scale * 25.4))
    paste(bars, rects[2])
    image = _box(1, canvas, RequestedImageSize=f"{canvas.shape[1] / scale:g}", MagnificationType="REPLICATE")
    return TestFilm(SINGLE_IMAGE_FORMAT, film_box, (image,), wedge, grid_mm, lp)
