"""Film composition: each image scaled into its box, centred, aspect kept, on the border density."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from printserver.layout import Rect, box_rects, mm_to_px, parse_display_format
from printserver.model.color import ColorImage
from printserver.model.job import FilmJob, ImageBoxJob
from printserver.render.annotate import draw_annotations
from printserver.render.tone import density_gray, gray_lut

log = logging.getLogger(__name__)

#: Magnification Type -> Pillow resampling filter. NONE is handled apart (no scaling).
RESAMPLING = {
    "REPLICATE": Image.Resampling.NEAREST,
    "BILINEAR": Image.Resampling.BILINEAR,
    "CUBIC": Image.Resampling.BICUBIC,
}


def film_size_px(film: FilmJob) -> tuple[int, int]:
    return mm_to_px(film.width_mm, film.dpi), mm_to_px(film.height_mm, film.dpi)


def box_rects_px(film: FilmJob) -> list[tuple[int, int, int, int]]:
    """Image box rectangles (x0, y0, x1, y1) in printer pixels, in position order.

    Edges are rounded independently so neighbouring boxes and gaps tile the raster exactly.
    """
    if film.box_rects_mm:  # resolved at N-CREATE (data-defined formats, annotation strips)
        rects = [Rect(*r) for r in film.box_rects_mm]
    else:
        rects = box_rects(parse_display_format(film.attributes["ImageDisplayFormat"]), film.width_mm,
                          film.height_mm, film.margin_mm, film.gap_mm)
    return [
        (mm_to_px(r.x, film.dpi), mm_to_px(r.y, film.dpi),
         mm_to_px(r.x + r.width, film.dpi), mm_to_px(r.y + r.height, film.dpi))
        for r in rects
    ]


def scaled_size(box: ImageBoxJob, box_w: int, box_h: int) -> tuple[int, int]:
    """Printed image size in printer pixels: fit the box, keep the (pixel-aspect-corrected) shape."""
    assert box.image is not None
    rows, cols = box.image.rows, box.image.columns
    v, h = box.image.pixel_aspect_ratio
    aspect = v / h  # physical height of a pixel relative to its width
    if box.magnification_type == "NONE":
        scale = 1.0
        if cols > box_w or rows * aspect > box_h:  # too big at 1:1: demagnify to fit
            scale = min(box_w / cols, box_h / (rows * aspect))
    else:
        scale = min(box_w / cols, box_h / (rows * aspect))
    return max(1, min(box_w, round(cols * scale))), max(1, min(box_h, round(rows * aspect * scale)))


def render_image(box: ImageBoxJob, width: int, height: int) -> np.ndarray:
    """P-values -> output gray, then resampled to (height, width) per Magnification Type."""
    image = box.image
    assert image is not None
    if isinstance(image, ColorImage):
        return render_color_image(box, image, width, height)
    invert = (image.photometric_interpretation == "MONOCHROME1") != (box.polarity == "REVERSE")
    lut = gray_lut(image.bits_stored, invert=invert, min_density=box.min_density, max_density=box.max_density)
    gray = lut[image.pixels]
    if (width, height) == (image.columns, image.rows):
        return gray
    resample = RESAMPLING.get(box.magnification_type, Image.Resampling.NEAREST)
    return np.asarray(Image.fromarray(gray, mode="L").resize((width, height), resample))


def render_color_image(box: ImageBoxJob, image: ColorImage, width: int, height: int) -> np.ndarray:
    """RGB as sent (no density mapping for colour), Polarity REVERSE inverted, resampled to (height, width, 3)."""
    rgb = 255 - image.pixels if box.polarity == "REVERSE" else image.pixels
    if (width, height) == (image.columns, image.rows):
        return rgb
    resample = RESAMPLING.get(box.magnification_type, Image.Resampling.NEAREST)
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb), mode="RGB").resize((width, height), resample))


def compose_film(film: FilmJob) -> np.ndarray:
    """The film raster, row 0 at the top of the film as viewed: (rows, columns) uint8, or
    (rows, columns, 3) uint8 RGB for a film of color image boxes."""
    fb = film.attributes
    dmin, dmax = int(fb["MinDensity"]), int(fb["MaxDensity"])
    width, height = film_size_px(film)
    shape = (height, width, 3) if film.color else (height, width)
    raster = np.full(shape, density_gray(fb["BorderDensity"], min_density=dmin, max_density=dmax),
                     dtype=np.uint8)
    empty = density_gray(fb["EmptyImageDensity"], min_density=dmin, max_density=dmax)
    trim = fb.get("Trim") == "YES"
    for (x0, y0, x1, y1), box in zip(box_rects_px(film), film.image_boxes, strict=True):
        box_w, box_h = x1 - x0, y1 - y0
        if box.image is None:
            raster[y0:y1, x0:x1] = empty
            continue
        w, h = scaled_size(box, box_w, box_h)
        tile = render_image(box, w, h)
        left, top = x0 + (box_w - w) // 2, y0 + (box_h - h) // 2
        raster[top:top + h, left:left + w] = tile
        if trim:
            _draw_trim(raster, left, top, w, h, film.dpi)
    if film.annotations:
        draw_annotations(raster, film.annotations, film.dpi)
    return raster


def _draw_trim(raster: np.ndarray, left: int, top: int, w: int, h: int, dpi: int) -> None:
    """A thin line just outside the image, in the gray farthest from the surrounding border."""
    t = max(1, round(0.25 * dpi / 25.4))  # 0.25 mm
    y0, y1 = max(0, top - t), min(raster.shape[0], top + h + t)
    x0, x1 = max(0, left - t), min(raster.shape[1], left + w + t)
    around = int(np.asarray(raster[y0, x0]).flat[0])
    line = 255 if around < 128 else 0
    raster[y0:top, x0:x1] = line
    raster[top + h:y1, x0:x1] = line
    raster[y0:y1, x0:left] = line
    raster[y0:y1, left + w:x1] = line
