"""PDF output on its own: true page size, lossless raster, metadata, atomic deterministic names, and
the page image as readers decode it (pypdf, poppler, MuPDF): PNG-predicted deflate, bit for bit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from printserver.outputs.files import film_pdf_path, sanitize
from printserver.render.pdf import FilmPage, write_fit_pdf, write_pdf
from tests import pdfcheck

MM_PER_PT = 25.4 / 72


def smooth_film(rows: int, columns: int) -> np.ndarray:
    """16-bit gray with what a film has: smooth ramps, noise in the low byte, hard edges, flat border."""
    y, x = np.mgrid[0:rows, 0:columns]
    rng = np.random.default_rng(7)
    img = 20000 + 30000 * np.sin(x / 23.0) * np.cos(y / 31.0) + rng.normal(0, 40, (rows, columns))
    img[:, : columns // 10] = 700  # a border at Max Density
    img[rows // 3: rows // 2, columns // 2:] = 65535
    return np.clip(img, 0, 65535).astype(np.uint16)


def test_pages_are_film_sized_and_rasters_bit_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (300, 200), dtype=np.uint8)
    b = rng.integers(0, 256, (200, 300), dtype=np.uint8)
    path = tmp_path / "x.pdf"
    write_pdf(path, [FilmPage(a, 203.2, 254.0), FilmPage(b, 254.0, 203.2)], title="T", author="A", subject="S",
              keywords="K", extra={"DICOMCallingAE": "CT1"})
    assert [(round(w, 2), round(h, 2)) for w, h in pdfcheck.page_sizes_mm(path)] == [(203.2, 254.0), (254.0, 203.2)]
    assert np.array_equal(pdfcheck.page_image(path, 0), a)
    assert np.array_equal(pdfcheck.page_image(path, 1), b)
    assert pdfcheck.metadata(path)["DICOMCallingAE"] == "CT1"
    assert [p.name for p in tmp_path.iterdir()] == ["x.pdf"]  # no temporary left behind


def test_names_are_sanitised_and_deterministic() -> None:
    root = Path("/films")
    p = film_pdf_path(root, "2026-11-24T08:09:10.5+01:00", "../ CT\\1*", [3], "2.25.123456789012")
    assert p == root / "2026-11-24" / "080910_CT_1_film003_89012.pdf".replace("89012", "56789012")
    assert film_pdf_path(root, "2026-11-24T08:09:10.5+01:00", "../ CT\\1*", [3], "2.25.123456789012") == p
    assert sanitize("") == "UNKNOWN" and sanitize("...") == "UNKNOWN" and "/" not in sanitize("a/b")


def test_16_bit_and_colour_films_decode_bit_exact_through_the_png_predictor(tmp_path: Path) -> None:
    """Several strips (rows not a multiple of a strip), odd widths: pypdf gives every sample back."""
    gray = smooth_film(3001, 333)
    rgb = np.random.default_rng(2).integers(0, 256, (1201, 517, 3), dtype=np.uint8)
    path = tmp_path / "x.pdf"
    write_pdf(path, [FilmPage(gray, 100.0, 900.0), FilmPage(rgb, 200.0, 450.0)], title="T", author="A",
              subject="S", keywords="K", extra={"DICOMFilmSessionLabel": "Ünïcode 日本"})
    assert np.array_equal(pdfcheck.page_image(path, 0), gray)
    assert np.array_equal(pdfcheck.page_image(path, 1), rgb)
    image = pdfcheck.image_dictionary(path, 0)
    assert image["/Filter"] == "/FlateDecode" and image["/BitsPerComponent"] == 16
    assert image["/DecodeParms"]["/Predictor"] == 12 and image["/DecodeParms"]["/Columns"] == 333
    assert pdfcheck.metadata(path)["DICOMFilmSessionLabel"] == "Ünïcode 日本"


def blocks(rows: int = 16, columns: int = 12, size: int = 40) -> np.ndarray:
    """Flat 16-bit blocks of random grays (high and low byte both vary), `size` pixels square."""
    values = np.random.default_rng(5).integers(0, 65536, (rows, columns), dtype=np.uint16)
    return np.kron(values, np.ones((size, size), np.uint16)).astype(np.uint16)


@pytest.mark.parametrize("reader", [pdfcheck.rasterize, pdfcheck.rasterize_mupdf], ids=["poppler", "mupdf"])
def test_viewers_show_the_page_gray_of_the_raster(tmp_path: Path, reader) -> None:
    """At 72 dpi one raster pixel is one screen pixel: a viewer shows each 16-bit gray as its 8-bit value.

    A predictor decoded wrongly would garble every row after the first error; checked at each
    block's centre (poppler smooths the image a little across hard edges).
    """
    gray = blocks()
    path = tmp_path / "v.pdf"
    write_pdf(path, [FilmPage(gray, gray.shape[1] * MM_PER_PT, gray.shape[0] * MM_PER_PT)], title="T", author="A",
              subject="S", keywords="", extra={})
    shown = reader(path, dpi=72).astype(int)
    assert shown.shape == gray.shape
    centres = (slice(20, None, 40), slice(20, None, 40))
    assert np.abs(shown[centres] - gray[centres] / 257).max() <= 1


def test_fit_pdf_keeps_the_raster_and_prints_its_scale(tmp_path: Path) -> None:
    gray = smooth_film(431, 355)
    path = tmp_path / "fit.pdf"
    scales = write_fit_pdf(path, [FilmPage(gray, 355.6, 431.8)], (210.0, 297.0), "14INX17IN from CT (1)",
                           title="T", author="A")
    assert scales == [pytest.approx(min((210 - 16) / 355.6, (297 - 16 - 6) / 431.8))]
    assert np.array_equal(pdfcheck.page_image(path), gray)
    assert [(round(w), round(h)) for w, h in pdfcheck.page_sizes_mm(path)] == [(210, 297)]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "NOT TRUE SIZE - 14INX17IN from CT (1)" in text
