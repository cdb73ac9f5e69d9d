"""`printserver testfilm`: the QC film measured on the PDF as a physicist would measure the printed film."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread

from printserver import cli
from printserver.config import PrinterProfile
from printserver.layout import load_layouts
from printserver.render.gsdf import p_to_density
from printserver.testfilm import WEDGE_STEPS, build_test_film
from tests import pdfcheck
from tests.dcmtk import DcmprscpServer, dcmtk_available

ARGS = ["--film-size", "8INX10IN", "--max-density", "250", "--illumination", "3000", "--ambient", "20"]


@pytest.fixture(scope="module", params=["ROW", "single image"])
def qc(request, tmp_path_factory) -> Path:
    """The film as ROW\\1,2 boxes, and as the one STANDARD\\1,1 image sent to printers without ROW formats."""
    out = tmp_path_factory.mktemp("qc") / "qc.pdf"
    single = ["--single-image"] if request.param == "single image" else []
    assert cli.main(["testfilm", "-o", str(out), *ARGS, *single]) == 0
    return out


def film():
    return build_test_film(PrinterProfile(), load_layouts(), film_size="8INX10IN", max_density=250,
                           illumination=3000, ambient=20)


def test_page_is_the_film_and_records_its_grayscale_model(qc: Path) -> None:
    assert [(round(w, 1), round(h, 1)) for w, h in pdfcheck.page_sizes_mm(qc)] == [(203.2, 254.0)]
    model = pdfcheck.grayscale_model(qc)
    assert (model.illumination, model.reflected_ambient_light, model.reference_density) == (3000, 20, 0.20)


def test_wedge_steps_read_back_their_printed_target_od_within_002(qc: Path) -> None:
    od = pdfcheck.page_od(qc)
    top_half = od[: od.shape[0] // 2]
    rows = np.flatnonzero((top_half > 2.4).sum(axis=1) > 50)  # the darkest step's rows
    y = int(rows.mean())
    row = od[y]
    edges = np.flatnonzero(np.abs(np.diff(row)) > 0.005)
    x0, width = edges[0] + 1, float(np.median(np.diff(edges)))
    measured = [float(od[y - 2:y + 3, int(x0 + (i + 0.5) * width) - 2:int(x0 + (i + 0.5) * width) + 3].mean())
                for i in range(WEDGE_STEPS)]
    targets = [od_ for _, od_ in film().wedge]
    ps314 = p_to_density([p for p, _ in film().wedge], 12, min_density=0.2, max_density=2.5, illumination=3000,
                         ambient=20)
    assert targets[0] == 2.50 and targets[-1] == 0.20
    assert np.abs(np.array(measured) - targets).max() <= 0.02
    assert np.abs(np.array(measured) - ps314).max() <= 0.02


def test_grid_lines_are_10_mm_apart(qc: Path) -> None:
    od = pdfcheck.page_od(qc)
    h, w = od.shape
    grid_mm = film().grid_mm
    mm_per_px = 203.2 / w
    y = int(h * 0.8)
    row = od[y, : w // 2] > 1.5  # the left half holds the grid
    starts = np.flatnonzero(np.diff(row.astype(int)) == 1)
    ends = np.flatnonzero(np.diff(row.astype(int)) == -1)
    centres = (starts[: len(ends)] + ends[: len(starts)]) / 2
    assert len(centres) == grid_mm[0] // 10 + 1
    assert np.diff(centres) * mm_per_px == pytest.approx(np.full(len(centres) - 1, 10.0), abs=0.1)
    assert (centres[-1] - centres[0]) * mm_per_px == pytest.approx(grid_mm[0], abs=0.3)


def test_finest_resolution_bars_are_resolved_one_printer_pixel_each(qc: Path, request) -> None:
    if "single" in request.node.callspec.id:
        pytest.skip("the single image's bars are image pixels (0.1 mm), not printer pixels")
    od = pdfcheck.page_od(qc)
    h, w = od.shape
    right = od[h // 2:, w // 2:] > 1.5
    # some row crosses the finest group: 5 dark lines of 1 pixel with 1 pixel gaps
    runs = [np.diff(np.flatnonzero(np.diff(r.astype(int)))) for r in right[:: 5]]
    assert any(len(r) >= 9 and np.all(r[:9] == 1) for r in runs)
    assert film().bars_lp_per_mm[0] == pytest.approx(300 / 25.4 / 2, abs=0.01)


def test_test_film_printed_on_a_printer_is_the_same_film(scp, qc: Path, request) -> None:
    """`testfilm --host …` sends the same conversation to a print SCP; printserver composes the same film."""
    if "single" in request.node.callspec.id:
        pytest.skip("printserver offers ROW\\1,2: the ROW film is the one sent")
    assert cli.main(["testfilm", "--host", "127.0.0.1", "--port", str(scp.port), "--called-ae", "PRINTSCP",
                     *ARGS]) == 0
    (printed,) = scp.wait_pdfs(1)
    assert pdfcheck.page_sizes_mm(printed) == pdfcheck.page_sizes_mm(qc)
    assert np.array_equal(pdfcheck.page_image(printed), pdfcheck.page_image(qc))


@pytest.mark.skipif(not dcmtk_available(), reason="DCMTK not installed")
def test_printer_refusing_row_formats_gets_the_film_as_one_image_with_its_wedge_and_grid(tmp_path: Path,
                                                                                         caplog) -> None:
    """DCMTK's dcmprscp offers STANDARD formats only and refuses ROW\\1,2 with 0106: the film goes as one
    STANDARD\\1,1 image in the same session, every wedge step's P-value and the 10 mm grid in it."""
    with DcmprscpServer(tmp_path / "dcmprscp") as peer:
        assert cli.main(["testfilm", "--host", "127.0.0.1", "--port", str(peer.port), "--called-ae",
                         peer.aetitle, *ARGS]) == 0
        (stored,) = peer.films()
    assert "refused ROW\\1,2" in caplog.text and "STANDARD\\1,1" in caplog.text
    assert stored.image_display_format == "STANDARD\\1,1" and stored.film_size == "8INX10IN"
    box = dcmread(stored.stored_print).FilmBoxContentSequence[0]  # Presentation LUT negotiated: L0 and La kept
    assert (box.Illumination, box.ReflectedAmbientLight) == (3000, 20)
    (hg,) = stored.images
    image = dcmread(hg).pixel_array
    single = build_test_film(PrinterProfile(), load_layouts(), film_size="8INX10IN", max_density=250,
                             illumination=3000, ambient=20, single_image=True)
    item = single.image_boxes[0].BasicGrayscaleImageSequence[0]
    assert np.array_equal(image, np.frombuffer(item.PixelData, "<u2").reshape(item.Rows, item.Columns))
    # the wedge: a row through it holds the 21 step P-values, darkest first, left to right
    top = image[: image.shape[0] // 3]
    y = int(np.flatnonzero((top == 0).sum(axis=1) > 50).mean())
    values = [int(v) for i, v in enumerate(top[y]) if i == 0 or v != top[y][i - 1]]
    assert [v for v in values if v != 4095][:20] == [p for p, _ in single.wedge][:20]
    # the grid: dark lines every 100 image pixels = 10 mm at the image's Requested Image Size
    width_mm = float(single.image_boxes[0].RequestedImageSize)
    assert image.shape[1] / width_mm == pytest.approx(10, abs=0.01)
    row = image[int(image.shape[0] * 0.8), : image.shape[1] // 2] == 0
    starts = np.flatnonzero(np.diff(row.astype(int)) == 1)
    assert len(starts) == single.grid_mm[0] // 10 + 1 and set(np.diff(starts)) == {100}
