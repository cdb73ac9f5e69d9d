"""Film composition: each image scaled into its box, centred, aspect kept, on the border density.

A grayscale film is a 16-bit page-gray raster (render.tone owns the mapping); a film of colour image
boxes is an 8-bit RGB raster (colour has no density mapping), its border and empty boxes the same
page gray at 8 bits.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from printserver.layout import MM_PER_INCH, Rect, image_box_rects, mm_to_px, parse_display_format
from printserver.model.color import ColorImage
from printserver.model.sizing import Fit, fit_image
from printserver.model.spooled_job import FilmJob, ImageBoxJob
from printserver.render.annotate import draw_annotations
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
    if film.box_rects_mm:  # resolved at N-CREATE (data-defined formats, annotation strips)
        rects = [Rect(*r) for r in film.box_rects_mm]
    else:
        rects = image_box_rects(parse_display_format(film.attributes["ImageDisplayFormat"]), film.width_mm,
                                film.height_mm, margin=film.margin_mm, gap=film.gap_mm)
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


def _crop(pixels: np.ndarray, used: tuple[int, int] | None) -> np.ndarray:
    """The centred part of the image that prints (Requested Decimate/Crop Behavior CROP)."""
    rows, columns = pixels.shape[:2]
    if used is None or used == (columns, rows):
        return pixels
    c0, r0 = (columns - used[0]) // 2, (rows - used[1]) // 2
    return pixels[r0:r0 + used[1], c0:c0 + used[0]]


def _resampling(box: ImageBoxJob) -> Image.Resampling:
    resample = RESAMPLING.get(box.magnification_type, Image.Resampling.NEAREST)
    if box.magnification_type == "CUBIC" and box.smoothing_kernel:
        resample = Image.Resampling[box.smoothing_kernel]
    return resample


def render_image(box: ImageBoxJob, width: int, height: int, model: OutputModel,
                 used: tuple[int, int] | None = None) -> np.ndarray:
    """Stored values -> 16-bit page gray (render.tone), resampled to (height, width) per Magnification Type.

    `used` (columns, rows): print only that centred part of the image (Requested Decimate/Crop Behavior CROP).
    """
    image = box.image
    assert image is not None
    if isinstance(image, ColorImage):
        return render_color_image(box, image, width, height, used)
    pixels = _crop(image.pixels, used)
    invert = (image.photometric_interpretation == "MONOCHROME1") != (box.polarity == "REVERSE")
    lut = gray_lut(image.bits_stored, invert=invert, min_density=box.min_density, max_density=box.max_density,
                   model=model, plut=box.presentation_lut)
    if (width, height) == (pixels.shape[1], pixels.shape[0]):
        return lut[pixels]
    resample = _resampling(box)
    if resample == Image.Resampling.NEAREST:
        return np.asarray(Image.fromarray(lut[pixels]).resize((width, height), resample))
    return resample_gray(lut.astype(np.float32)[pixels], width, height, resample, int(lut.min()), int(lut.max()))


def resample_gray(gray: np.ndarray, width: int, height: int, resample: Image.Resampling, lo: int,
                  hi: int) -> np.ndarray:
    """Page gray (float32) resampled to (height, width), rounded once, within [lo, hi] (uint16).

    Pillow's float mode: the same separable kernels and coefficients (sums in double) as its 16-bit
    mode, but without that mode's rounding of the intermediate pass or its wrap-around of values above
    65535 (a cubic overshoot next to page white came out up to ~4000 codes dark). Rounding (+0.5, then
    truncation) stays in Pillow: per 982x982 tile of a 512x512 image ~9 ms instead of the 16-bit
    mode's ~12 ms (the resize itself is faster in float; the 4-byte result costs more to hand over).
    Kernels overshoot: clipped to the box's own Min/Max Density.
    """
    out = Image.fromarray(gray).resize((width, height), resample).point(lambda v: v + 0.5).convert("I")
    tile = np.frombuffer(out.tobytes(), np.int32).reshape(height, width)
    return np.clip(tile, lo, hi).astype(np.uint16)  # truncated x + 0.5: rounded half up, as Pillow rounds


def render_color_image(box: ImageBoxJob, image: ColorImage, width: int, height: int,
                       used: tuple[int, int] | None = None) -> np.ndarray:
    """RGB as sent (no density mapping for colour), Polarity REVERSE inverted, resampled to (height, width, 3)."""
    pixels = _crop(image.pixels, used)
    rgb = 255 - pixels if box.polarity == "REVERSE" else pixels
    if (width, height) == (rgb.shape[1], rgb.shape[0]):
        return rgb
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb), mode="RGB").resize((width, height),
                                                                                   _resampling(box)))


def compose_film(film: FilmJob) -> np.ndarray:
    """The film raster, row 0 at the top of the film as viewed: (rows, columns) uint16 page gray
    (render.tone), or (rows, columns, 3) uint8 RGB for a film of colour image boxes."""
    fb = film.attributes
    dmin, dmax = int(fb["MinDensity"]), int(fb["MaxDensity"])
    model = output_model(film)
    width, height = film_size_px(film)

    def level(code: int) -> int:  # a page-gray code in the raster's own depth
        return round(code * 255 / CODE_MAX) if film.color else code

    border = level(density_gray(fb["BorderDensity"], min_density=dmin, max_density=dmax, model=model))
    empty = level(density_gray(fb["EmptyImageDensity"], min_density=dmin, max_density=dmax, model=model))
    black = level(int(model.encode(dmax / 100)))
    raster = np.full((height, width, 3) if film.color else (height, width), border,
                     dtype=np.uint8 if film.color else np.uint16)
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
            _draw_trim(raster, left, top, w, h, film.dpi, black=black)
    if film.annotations:
        draw_annotations(raster, film.annotations, film.dpi)
    return raster


def _draw_trim(raster: np.ndarray, left: int, top: int, w: int, h: int, dpi: int, black: int) -> None:
    """A thin line just outside the image: white (Min Density) on a dark border, Max Density on a light one."""
    t = max(1, round(0.25 * dpi / 25.4))  # 0.25 mm
    y0, y1 = max(0, top - t), min(raster.shape[0], top + h + t)
    x0, x1 = max(0, left - t), min(raster.shape[1], left + w + t)
    white = int(np.iinfo(raster.dtype).max)
    around = int(np.asarray(raster[y0, x0]).flat[0])
    line = white if around < white // 2 else black
    raster[y0:top, x0:x1] = line
    raster[top + h:y1, x0:x1] = line
    raster[y0:y1, x0:left] = line
    raster[y0:y1, left + w:x1] = line
