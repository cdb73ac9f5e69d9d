"""Interop with a peer nobody here wrote: DCMTK's print SCU (dcmpsprt + dcmprscu) prints to
`printserver serve`, and the PDF is what the film should be."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import pdfcheck
from tests.dcmtk import DcmtkPrintScu, PrintOptions, dcmtk_available, write_test_image
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed (see README)")

VALUES = (0, 1365, 2730, 4095)  # 12-bit P-values -> gray 0, 85, 170, 255


@pytest.fixture
def server(tmp_path: Path):
    with ServerProcess(tmp_path / "server") as srv:
        yield srv


def images(folder: Path, values: tuple[int, ...], bits: int = 12) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_test_image(folder / f"img{i}.dcm", 128, 128, v, bits=bits) for i, v in enumerate(values)]


def quadrants(pdf: Path) -> list[int]:
    img = pdfcheck.page_image(pdf)
    return [pdfcheck.sample(img, fx, fy) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]


def test_dcmtk_prints_a_12_bit_2x2_14x17_film(server: ServerProcess, tmp_path: Path) -> None:
    scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=PrintOptions(columns=2, rows=2))
    result = scu.print_film(images(tmp_path / "img", VALUES))
    assert result.ok, result.stdout + result.stderr
    (pdf,) = server.wait_drained(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (355.6, 431.8)
    assert quadrants(pdf) == [0, 85, 170, 255]
    assert pdfcheck.metadata(pdf)["DICOMCallingAE"] == "DCMTKSCU"


def test_dcmtk_session_print_8_bit_landscape_with_options(server: ServerProcess, tmp_path: Path) -> None:
    options = PrintOptions(columns=2, rows=2, supports_12bit=False, session_print=True, orientation="LANDSCAPE",
                           film_size="8INX10IN", magnification="REPLICATE", border_density="WHITE")
    scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=options)
    result = scu.print_film(images(tmp_path / "img", VALUES))
    assert result.ok, result.stdout + result.stderr
    (pdf,) = server.wait_drained(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (254.0, 203.2)
    # 8-bit transmission: dcmprscu sends v >> 4, so 1365 -> 85 -> gray 85
    assert quadrants(pdf) == [0, 85, 170, 255]
    img = pdfcheck.page_image(pdf)
    assert pdfcheck.sample(img, 0.002, 0.002) == 255  # WHITE border


def test_dcmtk_four_films_in_a_row(server: ServerProcess, tmp_path: Path) -> None:
    scu = DcmtkPrintScu(tmp_path / "dcmtk", server.port, options=PrintOptions(columns=1, rows=1))
    films = [scu.render(images(tmp_path / f"img{v}", (v,))) for v in VALUES]
    result = scu.send(films)
    assert result.ok, result.stdout + result.stderr
    pdfs = server.wait_drained(4)
    assert sorted(pdfcheck.sample(pdfcheck.page_image(p), 0.5, 0.5) for p in pdfs) == [0, 85, 170, 255]
