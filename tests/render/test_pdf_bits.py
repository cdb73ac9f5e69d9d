"""A printer's `pdf_bits`: 16 (density-true, the default) or 8 (smaller). At 8 the PDF records the
8-bit encoding, so the density a reader decodes is the one the page holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from printserver import config
from printserver.errors import ConfigError
from printserver.model.job import FilmJob, ImageBoxJob
from printserver.model.pixels import GrayscaleImage
from printserver.render.compose import compose_film
from printserver.render.gsdf import p_to_density
from printserver.render.pdf import FilmPage, write_pdf
from printserver.render.tone import OutputModel, output_model, to_8bit
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import print_film

WEDGE = np.tile(np.repeat(np.linspace(0, 4095, 32).round().astype(np.uint16), 8), (64, 1))  # 32 steps


def wedge_film(dpi: int = 100) -> FilmJob:
    """A 2x1 film: a 32-step wedge Min -> Max Density (LIN OD) and a CT-like phantom, black border."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[-1:1:256j, -1:1:256j]
    phantom = np.clip(np.where(x**2 + y**2 < 0.8, 1100, 50) + rng.normal(0, 25, x.shape), 0, 4095).astype(np.uint16)
    boxes = (ImageBoxJob(1, "NORMAL", "REPLICATE", "", 20, 300, "", GrayscaleImage(WEDGE, 12, "MONOCHROME2"),
                         presentation_lut={"shape": "LIN OD"}),
             ImageBoxJob(2, "NORMAL", "CUBIC", "", 20, 300, "", GrayscaleImage(phantom, 12, "MONOCHROME2")))
    fb = {"ImageDisplayFormat": "STANDARD\\2,1", "BorderDensity": "BLACK", "EmptyImageDensity": "BLACK",
          "MinDensity": 20, "MaxDensity": 300, "Trim": "NO"}
    return FilmJob(1, "1.2.3", fb, 203.2, 101.6, dpi, 2.0, 2.0, boxes)


def write(path: Path, film: FilmJob, raster: np.ndarray, bits: int) -> Path:
    extra = {"DICOMFilmBoxes": json.dumps([film.attributes]),
             "DICOMGrayscaleModel": json.dumps([output_model(film).as_dict()], sort_keys=True)}
    write_pdf(path, [FilmPage(raster, film.width_mm, film.height_mm)], title="T", author="A", subject="S",
              keywords="", extra=extra, pdf_bits=bits)
    return path


def test_8_bit_pdf_records_its_model_and_reads_back_the_densities_it_holds(tmp_path: Path) -> None:
    film = wedge_film()
    raster = compose_film(film)
    deep, lean = write(tmp_path / "16.pdf", film, raster, 16), write(tmp_path / "8.pdf", film, raster, 8)
    assert pdfcheck.grayscale_model(deep).encoding == "sRGB-16"
    assert pdfcheck.grayscale_model(lean).encoding == "sRGB-8"
    page = pdfcheck.page_image(lean)
    assert page.dtype == np.uint8 and pdfcheck.image_dictionary(lean)["/BitsPerComponent"] == 8
    od16, od8 = pdfcheck.page_od(deep), pdfcheck.page_od(lean)
    assert np.array_equal(od16, output_model(film).decode(raster))  # 16 bits: the film itself
    # 8 bits: each density is the nearest 8-bit step's, within half a step of the film's ...
    model8 = pdfcheck.grayscale_model(lean)
    lighter, darker = model8.decode(page + 0.5), model8.decode(np.maximum(page - 0.5, 0))
    assert np.all((lighter - 0.002 <= od16) & (od16 <= darker + 0.002))
    # ... which is fine in the light and mid densities and coarse near Dmax (the documented trade-off)
    light = od16 <= 1.0
    assert np.abs(od8 - od16)[light].max() < 0.01
    assert 0.03 < np.abs(od8 - od16).max() < 0.08
    # Decoding the 8-bit codes with a 16-bit model would be wrong by far: the record is what makes it honest
    wrong = OutputModel(**(model8.as_dict() | {"encoding": "sRGB-16"})).decode(page)
    assert np.abs(wrong - od16).max() > 1.0


def test_8_bit_step_near_dmax_is_about_a_seventh_of_an_od() -> None:
    model = OutputModel(2000, 10, 0.20, encoding="sRGB-8")
    code = int(to_8bit(OutputModel(2000, 10, 0.20).encode(3.0)))
    assert float(model.decode(code) - model.decode(code + 1)) == pytest.approx(0.14, abs=0.03)


def test_viewers_show_an_8_bit_page_as_its_16_bit_one(tmp_path: Path) -> None:
    film = wedge_film()
    raster = compose_film(film)
    deep, lean = write(tmp_path / "16.pdf", film, raster, 16), write(tmp_path / "8.pdf", film, raster, 8)
    for reader in (pdfcheck.rasterize, pdfcheck.rasterize_mupdf):
        a, b = reader(deep, dpi=50).astype(int), reader(lean, dpi=50).astype(int)
        assert a.shape == b.shape and np.abs(a - b).max() <= 1


def test_8_bit_film_of_images_is_under_a_third_of_the_16_bit_size(tmp_path: Path) -> None:
    film = wedge_film(dpi=200)
    raster = compose_film(film)
    deep, lean = write(tmp_path / "16.pdf", film, raster, 16), write(tmp_path / "8.pdf", film, raster, 8)
    assert lean.stat().st_size < 0.33 * deep.stat().st_size


def test_printer_with_pdf_bits_8_prints_8_bit_films_with_honest_densities(scp_factory) -> None:
    scp = scp_factory(pdf_bits=8)
    values = (0, 1365, 2730, 4095)
    statuses = print_film(scp.port, [np.full((64, 64), v, np.uint16) for v in values], "STANDARD\\2,2")
    assert statuses == [Status.SUCCESS] * len(statuses)
    (pdf,) = scp.wait_pdfs(1)
    assert pdfcheck.page_image(pdf).dtype == np.uint8
    assert pdfcheck.grayscale_model(pdf).encoding == "sRGB-8"
    expected = p_to_density(values, 12, min_density=0.2, max_density=3.0, illumination=2000, ambient=10)
    seen = [pdfcheck.od_at(pdf, fx, fy) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]
    assert seen == pytest.approx(list(expected), abs=0.08)  # half an 8-bit step at Dmax
    assert seen[1:] == pytest.approx(list(expected[1:]), abs=0.02)  # lighter: 8 bits are close


@pytest.mark.parametrize("bits", [12, "8"])
def test_pdf_bits_other_than_16_or_8_is_refused_naming_the_key(bits: object) -> None:
    with pytest.raises(ConfigError, match=r"printer\[0\]\.pdf_bits"):
        config.from_dict({"printer": [{"pdf_bits": bits}]})
