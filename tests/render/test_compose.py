"""The composer on its own: a job in, a film raster out, checked pixel by pixel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from printserver.model.pixels import GrayscaleImage
from printserver.model.spooled_job import FilmJob, ImageBoxJob
from printserver.render.compose import compose_film, resample_gray
from printserver.render.tone import CODE_MAX, OutputModel, density_gray, gray_lut, output_model

MODEL = OutputModel(2000, 10, 0.20)
WHITE = CODE_MAX  # Min Density 0.20 = the page white
BLACK = int(MODEL.encode(3.00))  # Max Density


def box(pixels: np.ndarray | None, *, mag: str = "REPLICATE", bits: int = 12, polarity: str = "NORMAL",
        photometric: str = "MONOCHROME2", aspect: tuple[int, int] = (1, 1), position: int = 1) -> ImageBoxJob:
    image = GrayscaleImage(pixels, bits, photometric, aspect) if pixels is not None else None
    return ImageBoxJob(position, polarity, mag, "", 20, 300, "", image)


def film(boxes: list[ImageBoxJob], fmt: str = "STANDARD\\1,1", size: tuple[float, float] = (25.4, 25.4),
         dpi: int = 100, **attrs: str) -> FilmJob:
    fb = {"ImageDisplayFormat": fmt, "BorderDensity": "BLACK", "EmptyImageDensity": "WHITE", "MinDensity": 20,
          "MaxDensity": 300, "Trim": "NO"} | attrs
    return FilmJob(1, "1.2", fb, size[0], size[1], dpi, 0.0, 0.0, tuple(boxes))


def test_raster_size_is_the_film_at_the_printer_resolution() -> None:
    assert compose_film(film([box(None)], size=(355.6, 431.8), dpi=300)).shape == (5100, 4200)


def test_replicate_scales_by_whole_pixels_and_centres() -> None:
    px = np.array([[0, 4095], [4095, 0]], np.uint16)
    raster = compose_film(film([box(px)], size=(25.4, 25.4), dpi=100))  # 100 x 100 box
    assert raster.shape == (100, 100)
    assert raster[:50, :50].max() <= BLACK + 1 and raster[:50, 50:].min() >= WHITE - 10
    assert raster[50:, :50].min() >= WHITE - 10 and raster[50:, 50:].max() <= BLACK + 1


def test_none_is_one_image_pixel_per_printer_pixel() -> None:
    px = np.full((10, 20), 4095, np.uint16)
    raster = compose_film(film([box(px, mag="NONE")], dpi=100))
    white = np.argwhere(raster >= WHITE - 10)
    assert (white.max(axis=0) - white.min(axis=0) + 1).tolist() == [10, 20]
    assert white.min(axis=0).tolist() == [45, 40]  # centred in the 100 x 100 box


@pytest.mark.parametrize("mag", ["BILINEAR", "CUBIC"])
def test_smooth_magnifications_interpolate(mag: str) -> None:
    px = np.array([[0, 4095]], np.uint16)
    row = compose_film(film([box(px, mag=mag)], dpi=100))[50]
    assert BLACK + 100 < int(row[50]) < WHITE - 100  # a ramp, not a hard edge
    assert abs(int(row[0]) - BLACK) <= 1 and int(row[99]) >= WHITE - 10


def test_pixel_aspect_ratio_keeps_physical_shape() -> None:
    px = np.full((10, 10), 4095, np.uint16)  # pixels twice as tall as wide: a 1:2 (w:h) image
    raster = compose_film(film([box(px, aspect=(2, 1))], dpi=100))
    white = np.argwhere(raster >= WHITE - 10)
    h, w = (white.max(axis=0) - white.min(axis=0) + 1).tolist()
    assert (h, w) == (100, 50)


def test_empty_box_and_border_densities() -> None:
    raster = compose_film(film([box(None), box(None, position=2)], "STANDARD\\2,1", size=(50.8, 25.4),
                               EmptyImageDensity="160", BorderDensity="WHITE"))
    assert int(raster[50, 50]) == density_gray("160", min_density=20, max_density=300, model=MODEL)
    assert float(MODEL.decode(raster[50, 50])) == pytest.approx(1.60, abs=0.001)  # density-true


def test_trim_draws_a_line_around_the_image() -> None:
    px = np.full((10, 10), 2048, np.uint16)
    raster = compose_film(film([box(px, mag="NONE")], dpi=100, Trim="YES"))
    assert raster[44, 50] == WHITE and raster[45, 50] == raster[50, 50]  # line just outside, on black border
    assert raster[30, 50] == BLACK


def test_lut_polarity_rules() -> None:
    lut8 = gray_lut(8, invert=False, min_density=20, max_density=300, model=MODEL)
    lut12 = gray_lut(12, invert=True, min_density=20, max_density=300, model=MODEL)
    assert MODEL.decode(lut8[[0, 255]]) == pytest.approx([3.00, 0.20], abs=0.005)
    assert MODEL.decode(lut12[[0, 4095]]) == pytest.approx([0.20, 3.00], abs=0.005)


def test_output_model_white_is_the_lowest_min_density_on_the_film() -> None:
    px = np.zeros((2, 2), np.uint16)
    low = ImageBoxJob(1, "NORMAL", "REPLICATE", "", 10, 300, "", GrayscaleImage(px, 12, "MONOCHROME2"))
    assert output_model(film([low])).reference_density == 0.10
    assert output_model(film([box(None)], Illumination=150, ReflectedAmbientLight=0)) == OutputModel(150, 0, 0.20)


def test_cubic_smoothing_kernels_differ_and_stay_within_the_densities() -> None:
    px = np.array([[0, 0, 4095, 4095]], np.uint16)
    rows = {}
    for kernel in ("BILINEAR", "LANCZOS"):
        b = ImageBoxJob(1, "NORMAL", "CUBIC", "X", 20, 300, "", GrayscaleImage(px, 12, "MONOCHROME2"),
                        smoothing_kernel=kernel)
        rows[kernel] = compose_film(film([b], dpi=100))[50].astype(int)
    # the sharper kernel's edge is steeper; neither overshoots beyond Min/Max Density
    assert np.abs(np.diff(rows["LANCZOS"])).max() > np.abs(np.diff(rows["BILINEAR"])).max()
    assert all(r.min() >= BLACK and r.max() <= WHITE for r in rows.values())


def test_requested_image_size_and_crop_in_the_composer() -> None:
    px = np.zeros((10, 10), np.uint16)
    sized = ImageBoxJob(1, "NORMAL", "REPLICATE", "", 20, 300, "", GrayscaleImage(px, 12, "MONOCHROME2"),
                        requested_image_size=12.7)  # half an inch at 100 dpi = 50 printer pixels
    raster = compose_film(film([sized], dpi=100, EmptyImageDensity="WHITE", BorderDensity="WHITE"))
    dark = np.argwhere(raster <= BLACK + 1)
    assert (dark.max(axis=0) - dark.min(axis=0) + 1).tolist() == [50, 50]


def test_font_coverage_read_from_cmap_matches_reportlabs_parser() -> None:
    """render.fontcmap reads each annotation font's cmap as ranges; reportlab's full TrueType parser
    (a test dependency only) must find the same characters (less any mapped to the .notdef glyph, and
    U+00A0 aside, which reportlab adds as an alias of the space when a font's cmap lacks it)."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    from printserver.render.annotate import available_fonts

    fonts = available_fonts()
    assert [Path(f.path).name for f in fonts] == ["DejaVuSans.ttf", "DroidSansFallbackFull.ttf"]
    for font in fonts:
        parsed = TTFontFile(font.path)
        expected = {cp for cp, glyph in parsed.charToGlyph.items() if glyph != 0} - {0xA0}
        ranges = zip(font.coverage.firsts, font.coverage.lasts, strict=True)
        assert {cp for first, last in ranges for cp in range(first, last + 1)} - {0xA0} == expected
    assert ord("Ж") in fonts[0].coverage and ord("日") not in fonts[0].coverage and ord("日") in fonts[1].coverage


# --- the smooth magnifications' resampling path (render.compose.resample_gray) ------------------------

def _old_resample(gray: np.ndarray, size: tuple[int, int], resample: Image.Resampling, lo: int, hi: int) -> np.ndarray:
    """The composer before: Pillow's 16-bit mode, clipped to the box's densities afterwards."""
    return np.clip(np.asarray(Image.fromarray(gray).resize(size, resample)), lo, hi)


def _smooth_image(rows: int, columns: int) -> np.ndarray:
    """12-bit, smooth (gradients and blobs): no pass of any kernel leaves the 16-bit range."""
    y, x = np.mgrid[0:rows, 0:columns] / max(rows, columns)
    v = 0.5 + 0.3 * np.sin(7 * x) * np.cos(5 * y) + 0.15 * np.exp(-((x - 0.4) ** 2 + (y - 0.6) ** 2) * 30)
    return np.rint(np.clip(v, 0, 1) * 4095).astype(np.uint16)


SIZES = [(491, 503), (100, 97), (500, 130)]  # up, down, one of each


@pytest.mark.parametrize("kernel", ["BICUBIC", "BILINEAR", "HAMMING", "LANCZOS", "BOX"])
def test_resampling_matches_the_16_bit_path_within_one_code(kernel: str) -> None:
    """Float resampling = the composer's old 16-bit path within one code (its intermediate pass was rounded)."""
    lut = gray_lut(12, invert=False, min_density=20, max_density=300, model=MODEL)
    lo, hi = int(lut.min()), int(lut.max())
    px = _smooth_image(256, 240)
    for size in SIZES:
        new = resample_gray(lut.astype(np.float32)[px], *size, Image.Resampling[kernel], lo, hi)
        old = _old_resample(lut[px], size, Image.Resampling[kernel], lo, hi)
        assert new.dtype == np.uint16 and new.shape == (size[1], size[0])
        diff = np.abs(new.astype(int) - old)
        assert diff.max() <= 1 and diff.mean() < 0.3, (kernel, size)  # rounded (truncating: ~0.5)


@pytest.mark.parametrize("kernel", ["BICUBIC", "LANCZOS"])
def test_hard_edges_at_page_white_are_resampled_without_a_16_bit_cut(kernel: str) -> None:
    """A windowed CT image has hard edges into page white: the kernel overshoots beyond 65535 between the
    passes. Pillow's 16-bit mode cuts the intermediate pass there, its 32-bit integer mode does not;
    the composer now gives that mode's values (within one code), always inside the box's densities."""
    rng = np.random.default_rng(12)
    px = np.where(rng.random((64, 64)) < 0.5, 0, 4095).astype(np.uint16)  # every pixel an edge
    px[20:40, 20:40] = 4095
    lut = gray_lut(12, invert=False, min_density=20, max_density=300, model=MODEL)
    lo, hi = int(lut.min()), int(lut.max())
    for size in SIZES:
        new = resample_gray(lut.astype(np.float32)[px], *size, Image.Resampling[kernel], lo, hi)
        wide = np.asarray(Image.fromarray(lut.astype(np.int32)[px]).resize(size, Image.Resampling[kernel]))
        assert np.abs(new.astype(int) - np.clip(wide, lo, hi)).max() <= 1, size
        assert new.min() >= lo and new.max() <= hi
        assert (new == hi).any() and (new == lo).any()  # overshoot was there to clip


def test_a_uniform_image_keeps_its_exact_gray_through_every_kernel() -> None:
    """Densities are read on uniform patches: resampling must give back the exact code, not one off."""
    lut = gray_lut(12, invert=False, min_density=20, max_density=300, model=MODEL)
    for value in (0, 1, 2047, 3000, 4095):
        px = np.full((50, 70), value, np.uint16)
        for kernel in ("BICUBIC", "BILINEAR", "HAMMING", "LANCZOS", "BOX"):
            for size in SIZES:
                tile = resample_gray(lut.astype(np.float32)[px], *size, Image.Resampling[kernel], 0, CODE_MAX)
                assert (tile == lut[value]).all(), (value, kernel, size)
