"""Film composition: each image scaled into its box, centred, aspect kept, on the border density.

The film is composed in bands of rows (compose_bands) for the render workers, which hand each band to
the PDF writer, the previews and the rasters file as it comes; compose_film is the whole raster at once.

A grayscale film is a 16-bit page-gray raster (render.tone owns the mapping); a film of colour image
boxes is an 8-bit RGB raster (colour has no density mapping), its border and empty boxes the same
page gray at 8 bits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
from PIL import Image

from printserver.layout import MM_PER_INCH, Rect, image_box_rects, mm_to_px, parse_display_format
from printserver.model.color import ColorImage
from printserver.model.sizing import Fit, fit_image
from printserver.model.spooled_job import FilmJob, ImageBoxJob
from printserver.render.annotate import annotation_rect, draw_annotations
from printserver.render.color_management import to_srgb
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


_HANDOVER_PIXELS = 1 << 16  # resample_gray: rows of the resized float tile converted at once


def resample_gray(gray: np.ndarray, width: int, height: int, resample: Image.Resampling, lo: int,
                  hi: int) -> np.ndarray:
    """Page gray (float32) resampled to (height, width), rounded once, within [lo, hi] (uint16).

    Pillow's float mode: the same separable kernels and coefficients (sums in double) as its 16-bit
    mode, but without that mode's rounding of the intermediate pass or its wrap-around of values above
    65535 (a cubic overshoot next to page white came out up to ~4000 codes dark). Rounding (+0.5, then
    truncation) stays in Pillow. Kernels overshoot: clipped to the box's own Min/Max Density.
    The float result is rounded and handed over a few rows at a time (~256 kB, in the CPU cache)
    straight into the 16-bit tile: no whole-tile 4-byte copies (several MB each), and per 982x982
    tile of a 512x512 image ~3.5 ms instead of ~7 ms for the whole tile at once.
    """
    resized = Image.fromarray(gray).resize((width, height), resample)
    tile = np.empty((height, width), np.uint16)
    step = max(1, _HANDOVER_PIXELS // width)
    for r0 in range(0, height, step):
        r1 = min(height, r0 + step)
        rows = resized.crop((0, r0, width, r1)).point(lambda v: v + 0.5).convert("I")  # rounded half up
        tile[r0:r1] = np.clip(np.frombuffer(rows.tobytes(), np.int32).reshape(r1 - r0, width), lo, hi)
    return tile


def render_color_image(box: ImageBoxJob, image: ColorImage, width: int, height: int,
                       used: tuple[int, int] | None = None) -> np.ndarray:
    """RGB as sent (no density mapping for colour), Polarity REVERSE inverted, converted from the box's ICC
    Profile to the page's sRGB (render/color_management.py), resampled to (height, width, 3)."""
    pixels = _crop(image.pixels, used)
    rgb = to_srgb(255 - pixels if box.polarity == "REVERSE" else pixels, image.icc_profile)
    if (width, height) == (rgb.shape[1], rgb.shape[0]):
        return rgb
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb), mode="RGB").resize((width, height),
                                                                                   _resampling(box)))


#: The size of a band of the film (compose_bands): ~120 rows of a 14x17 in 16-bit film, small next to
#: a row of image tiles, large enough that the per-band work (a fill, a look at every box) is negligible.
BAND_BYTES = 1 << 20


def raster_format(film: FilmJob) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of the film's raster: 16-bit page gray, or 8-bit RGB for a film of colour boxes."""
    width, height = film_size_px(film)
    return ((height, width, 3), np.dtype(np.uint8)) if film.color else ((height, width), np.dtype(np.uint16))


def compose_film(film: FilmJob) -> np.ndarray:
    """The film raster, row 0 at the top of the film as viewed: (rows, columns) uint16 page gray
    (render.tone), or (rows, columns, 3) uint8 RGB for a film of colour image boxes."""
    return next(compose_bands(film, rows=raster_format(film)[0][0]))


def compose_bands(film: FilmJob, rows: int | None = None) -> Iterator[np.ndarray]:
    """The film raster top to bottom in bands of `rows` rows (default: ~BAND_BYTES each), so that a render
    worker never holds the whole film (43 MB for 14x17 in at 300 dpi): the bands stacked are
    `compose_film(film)` bit for bit. A band is taller where an annotation box would straddle its lower
    edge (its ink depends on the whole box). Each image is rendered whole, once, when the first band
    reaches it, and dropped after its last row.
    """
    plan = _FilmPlan(film)
    shape, dtype = raster_format(film)
    height = shape[0]
    if rows is None:
        rows = BAND_BYTES // (int(np.prod(shape[1:])) * dtype.itemsize)
    spans = [(r[1], r[3]) for a in film.annotations
             if (r := annotation_rect(a, film.dpi, shape[1], height)) is not None]
    r0 = 0
    while r0 < height:
        r1 = min(height, r0 + max(1, rows))
        while any(a < r1 < b for a, b in spans):
            r1 = max(b for a, b in spans if a < r1 < b)
        band = np.full((r1 - r0, *shape[1:]), plan.border, dtype)
        for box in plan.boxes:
            box.paint(band, r0, plan)
        if film.annotations:
            draw_annotations(band, film.annotations, film.dpi, top=r0, film_rows=height)
        yield band
        r0 = r1


def _paint(band: np.ndarray, r0: int, y0: int, y1: int, x0: int, x1: int, value: int) -> None:
    """Fill the film's rows y0..y1, columns x0..x1, where they cross the band starting at film row r0."""
    a, b = max(y0, r0), min(y1, r0 + band.shape[0])
    if a < b:
        band[a - r0:b - r0, x0:x1] = value


class _FilmPlan:
    """What every band of a film needs: its levels, model, and its image boxes placed."""

    def __init__(self, film: FilmJob) -> None:
        fb = film.attributes
        dmin, dmax = int(fb["MinDensity"]), int(fb["MaxDensity"])
        self.model = output_model(film)
        self.dpi = film.dpi
        self.width, self.height = film_size_px(film)

        def level(code: int) -> int:  # a page-gray code in the raster's own depth
            return round(code * 255 / CODE_MAX) if film.color else code

        self.border = level(density_gray(fb["BorderDensity"], min_density=dmin, max_density=dmax, model=self.model))
        self.empty = level(density_gray(fb["EmptyImageDensity"], min_density=dmin, max_density=dmax,
                                        model=self.model))
        self.black = level(int(self.model.encode(dmax / 100)))
        self.white = int(np.iinfo(raster_format(film)[1]).max)  # 8-bit RGB or 16-bit page gray
        self.trim = fb.get("Trim") == "YES"
        self.boxes = [_PlacedBox(box, rect, film.dpi) for rect, box in zip(box_rects_px(film), film.image_boxes,
                                                                            strict=True)]


class _PlacedBox:
    """An image box on the film: where its image goes, the image while bands cross it, its trim line."""

    def __init__(self, box: ImageBoxJob, rect: tuple[int, int, int, int], dpi: int) -> None:
        self.box, self.rect = box, rect
        self.tile: np.ndarray | None = None
        self.line: int | None = None  # the trim's level: decided by the film at the trim's first row
        self.left = self.top = self.w = self.h = 0
        self.used: tuple[int, int] | None = None
        if box.image is not None:
            x0, y0, x1, y1 = rect
            fit = image_fit(box, x1 - x0, y1 - y0, dpi)
            self.w, self.h, self.used = fit.width, fit.height, (fit.used_columns, fit.used_rows)
            self.left, self.top = x0 + (x1 - x0 - self.w) // 2, y0 + (y1 - y0 - self.h) // 2

    def paint(self, band: np.ndarray, r0: int, plan: _FilmPlan) -> None:
        x0, y0, x1, y1 = self.rect
        if self.box.image is None:
            _paint(band, r0, y0, y1, x0, x1, plan.empty)
            return
        a, b = max(self.top, r0), min(self.top + self.h, r0 + band.shape[0])
        if a < b:
            if self.tile is None:
                self.tile = render_image(self.box, self.w, self.h, plan.model, self.used)
            band[a - r0:b - r0, self.left:self.left + self.w] = self.tile[a - self.top:b - self.top]
            if b == self.top + self.h:
                self.tile = None  # its last row is placed
        if plan.trim:
            self._trim(band, r0, plan)

    def _trim(self, band: np.ndarray, r0: int, plan: _FilmPlan) -> None:
        """A thin line just outside the image: white (Min Density) on a dark border, Max Density on a light one."""
        left, top, w, h = self.left, self.top, self.w, self.h
        t = max(1, round(0.25 * plan.dpi / 25.4))  # 0.25 mm
        y0, y1 = max(0, top - t), min(plan.height, top + h + t)
        x0, x1 = max(0, left - t), min(plan.width, left + w + t)
        if y1 <= r0 or y0 >= r0 + band.shape[0]:
            return
        if self.line is None:  # bands come top down: the trim's first row is in this one
            around = int(np.asarray(band[y0 - r0, x0]).flat[0])
            self.line = plan.white if around < plan.white // 2 else plan.black
        for ya, yb, xa, xb in ((y0, top, x0, x1), (top + h, y1, x0, x1), (y0, y1, x0, left),
                               (y0, y1, left + w, x1)):
            _paint(band, r0, ya, yb, xa, xb, self.line)
