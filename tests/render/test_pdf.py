"""PDF output on its own: true page size, lossless raster, metadata, atomic deterministic names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from printserver.outputs.files import film_pdf_path, sanitize
from printserver.render.pdf import FilmPage, write_pdf
from tests import pdfcheck


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
