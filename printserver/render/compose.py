"""Film composition: each image scaled into its box, centred, aspect kept, on the border density."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from printserver.layout import MM_PER_INCH, box_rects, mm_to_px, parse_display_format
from printserver.model.job import FilmJob, ImageBoxJob
from printserver.model.sizing import Fit, fit_image
from printserver.render.tone import CODE_MAX, OutputModel, density_gray, gray_lut, output_model

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
    fmt = parse_display_format(film.attributes["ImageDisplayFormat"])
    rects = box_rects(fmt, film.width_mm, film.height_mm, film.margin_mm, film.gap_mm)
    return [
        (mm_to_px(r.x, film.dpi), mm_to_px(r.y, film.dpi),
         mm_to_px(r.x + r.width, film.dpi), mm_to_px(r.y + r.height, film.dpi))
        for r in rects
    ]


def image_fit(box: ImageBoxJob, box_w: int, box_h: int, dpi: int) -> Fit:
    """Printed size of the box's image in printer pixels (model.sizing: the same rules the SCU was told)."""
    assert box.image is not None
    v, h = box.image.pixel_aspect_ratio
    requested = box.requested_image_size * dpi / MM_PER_INCH if box.requested_image_size else None
    return fit_image(box.image.columns, box.image.rows, v / h, box_w, box_h, magnification=box.magnification_type,
                     requested_width_px=requested, behavior=box.decimate_crop)


def render_image(box: ImageBoxJob, width: int, height: int, model: OutputModel,
                 used: tuple[int, int] | None = None) -> np.ndarray:
    """Stored values -> 16-bit page gray (render.tone), resampled to (height, width) per Magnification Type.

    `used` (columns, rows): print only that centred part of the image (Requested Decimate/Crop Behavior CROP).
    """
    image = box.image
    assert image is not None
    pixels = image.pixels
    if used is not None and used != (image.columns, image.rows):
        c0, r0 = (image.columns - used[0]) // 2, (image.rows - used[1]) // 2
        pixels = pixels[r0:r0 + used[1], c0:c0 + used[0]]
    invert = (image.photometric_interpretation == "MONOCHROME1") != (box.polarity == "REVERSE")
    lut = gray_lut(image.bits_stored, invert=invert, min_density=box.min_density, max_density=box.max_density,
                   model=model, plut=box.presentation_lut)
    gray = lut[pixels]
    if (width, height) == (gray.shape[1], gray.shape[0]):
        return gray
    resample = RESAMPLING.get(box.magnification_type, Image.Resampling.NEAREST)
    if box.magnification_type == "CUBIC" and box.smoothing_kernel:
        resample = Image.Resampling[box.smoothing_kernel]
    out = np.asarray(Image.fromarray(gray).resize((width, height), resample))
    if resample in (Image.Resampling.NEAREST, Image.Resampling.BOX):
        return out
    # Cubic kernels overshoot: never print beyond the box's own Min/Max Density.
    return np.clip(out, lut.min(), lut.max())


def compose_film(film: FilmJob) -> np.ndarray:
    """The film raster (rows, columns) uint16 page gray (render.tone), row 0 at the top of the film as viewed."""
    fb = film.attributes
    dmin, dmax = int(fb["MinDensity"]), int(fb["MaxDensity"])
    model = output_model(film)
    width, height = film_size_px(film)
    border = density_gray(fb["BorderDensity"], min_density=dmin, max_density=dmax, model=model)
    raster = np.full((height, width), border, dtype=np.uint16)
    empty = density_gray(fb["EmptyImageDensity"], min_density=dmin, max_density=dmax, model=model)
    trim = fb.get("Trim") == "YES"
    for (x0, y0, x1, y1), box in zip(box_rects_px(film), film.image_boxes, strict=True):
        box_w, box_h = x1 - x0, y1 - y0
        if box.image is None:
            raster[y0:y1, x0:x1] = empty
            continue
        fit = image_fit(box, box_w, box_h, film.dpi)
        w, h = fit.width, fit.height
        tile = render_image(box, w, h, model, (fit.used_columns, fit.used_rows))
        left, top = x0 + (box_w - w) // 2, y0 + (box_h - h) // 2
        raster[top:top + h, left:left + w] = tile
        if trim:
            _draw_trim(raster, left, top, w, h, film.dpi, black=int(model.encode(dmax / 100)))
    return raster


def _draw_trim(raster: np.ndarray, left: int, top: int, w: int, h: int, dpi: int, black: int) -> None:
    """A thin line just outside the image: white (Min Density) on a dark border, Max Density on a light one."""
    t = max(1, round(0.25 * dpi / 25.4))  # 0.25 mm
    y0, y1 = max(0, top - t), min(raster.shape[0], top + h + t)
    x0, x1 = max(0, left - t), min(raster.shape[1], left + w + t)
    around = int(raster[y0, x0])
    line = CODE_MAX if around < CODE_MAX // 2 else black
    raster[y0:top, x0:x1] = line
    raster[top + h:y1, x0:x1] = line
    raster[y0:y1, x0:left] = line
    raster[y0:y1, left + w:x1] = line
