"""Printing over real loopback associations; the PDFs are checked as a user would check them."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydicom.dataset import Dataset

from printserver import uids
from printserver.render.gsdf import p_to_density
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import TS_ALL, PrintSCU, print_film

FLAT_12 = (0, 1365, 2730, 4095)
#: PS3.14 densities of FLAT_12 with the defaults (Dmin 0.20, Dmax 3.00, L0 2000, La 10)
OD_12 = [float(d) for d in p_to_density(FLAT_12, 12, min_density=0.2, max_density=3.0, illumination=2000,
                                         ambient=10)]
QUADRANTS = [(fx, fy) for fy in (0.25, 0.75) for fx in (0.25, 0.75)]


def ods(pdf, points, page: int = 0) -> list[float]:
    return [round(pdfcheck.od_at(pdf, fx, fy, page), 2) for fx, fy in points]


def flat(value: int, shape: tuple[int, int] = (64, 64), dtype: type = np.uint16) -> np.ndarray:
    return np.full(shape, value, dtype)


def test_2x2_film_has_true_size_and_grays_in_their_quadrants(scp) -> None:
    statuses = print_film(scp.port, [flat(v) for v in FLAT_12], "STANDARD\\2,2",
                          film_box={"FilmSizeID": "14INX17IN"})
    assert statuses == [Status.SUCCESS] * len(statuses)
    (pdf,) = scp.wait_pdfs(1)
    w, h = pdfcheck.page_sizes_mm(pdf)[0]
    assert (round(w, 1), round(h, 1)) == (355.6, 431.8)
    assert pdfcheck.pdfinfo_page_size(pdf).startswith("1008 x 1224 pts")
    img = pdfcheck.page_image(pdf)
    assert img.shape == (5100, 4200) and img.dtype == np.uint16  # 14 x 17 in at 300 dpi, 16-bit gray
    assert ods(pdf, QUADRANTS) == pytest.approx(OD_12, abs=0.02)
    # A viewer's rendering agrees: poppler shows the 16-bit gray as 8-bit
    shown = pdfcheck.rasterize(pdf)
    seen = [pdfcheck.sample(shown, fx, fy) for fx, fy in QUADRANTS]
    expected = [pdfcheck.sample(img, fx, fy) / 257 for fx, fy in QUADRANTS]
    assert all(abs(a - b) <= 2 for a, b in zip(seen, expected, strict=True)), (seen, expected)


def test_pdf_metadata_names_the_print(scp) -> None:
    session = Dataset()
    session.FilmSessionLabel = "CT HEAD ../../etc"
    session.NumberOfCopies = 2
    print_film(scp.port, [flat(2000)], session=session, calling_ae="CT_SCANNER/1")
    (pdf,) = scp.wait_pdfs(1)
    meta = pdfcheck.metadata(pdf)
    assert meta["DICOMCallingAE"] == "CT_SCANNER/1"
    assert meta["DICOMFilmSessionLabel"] == "CT HEAD ../../etc"
    assert '"NumberOfCopies": 2' in meta["DICOMFilmSession"]
    assert '"ImageDisplayFormat": "STANDARD\\\\1,1"' in meta["DICOMFilmBoxes"]
    assert meta["DICOMPrinterName"] == "printserver"
    # the file name is built from time, sanitised AE and film number, inside a dated folder
    assert pdf.parent.parent == scp.pdf_dir
    assert "_CT_SCANNER_1_film001_" in pdf.name and ".." not in pdf.name


@pytest.mark.parametrize(("fmt", "points"), [
    # ROW\\1,2: one wide box on top, two below
    ("ROW\\1,2", [(0.5, 0.25), (0.25, 0.75), (0.75, 0.75)]),
    # COL\\2,1: two boxes in the left column (top to bottom), one tall on the right
    ("COL\\2,1", [(0.25, 0.25), (0.25, 0.75), (0.75, 0.5)]),
])
def test_row_and_col_layouts_number_positions_as_the_standard(scp, fmt: str, points) -> None:
    statuses = print_film(scp.port, [flat(v, (40, 40)) for v in FLAT_12[:3]], fmt)
    assert set(statuses) == {Status.SUCCESS}
    assert ods(scp.wait_pdfs(1)[0], points) == pytest.approx(OD_12[:3], abs=0.02)


def test_8_bit_images_as_ob_and_ow(scp) -> None:
    imgs = [flat(v, (32, 32), np.uint8) for v in (0, 64, 128, 255)]
    with PrintSCU(scp.port) as scu:
        assert scu.create_session() == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\2,2")[0] == Status.SUCCESS
        for pos, img in enumerate(imgs, start=1):
            assert scu.set_image(pos, img, bits=8, vr="OW" if pos % 2 else "OB") == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    expected = p_to_density([0, 64, 128, 255], 8, min_density=0.2, max_density=3.0, illumination=2000, ambient=10)
    assert ods(scp.wait_pdfs(1)[0], QUADRANTS) == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize("syntax", TS_ALL)
def test_every_transfer_syntax_prints_the_same_pixels(scp, syntax: str) -> None:
    gradient = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096)
    with PrintSCU(scp.port, transfer_syntaxes=[syntax]) as scu:
        assert scu.create_session() == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\1,1", MagnificationType="NONE")[0] == Status.SUCCESS
        assert scu.set_image(1, gradient) == Status.SUCCESS
        assert scu.set_image(1, gradient) == Status.SUCCESS  # re-set replaces
        assert scu.print_film_box() == Status.SUCCESS
    pdf = scp.wait_pdfs(1)[0]
    img = pdfcheck.page_image(pdf)
    h, w = img.shape
    top, left = (h - 64) // 2, (w - 64) // 2
    expected = p_to_density(gradient, 12, min_density=0.2, max_density=3.0, illumination=2000, ambient=10)
    printed = pdfcheck.grayscale_model(pdf).decode(img[top:top + 64, left:left + 64])
    assert np.abs(printed - expected).max() < 0.01  # every pixel in its place, density-true


def test_monochrome1_and_reverse_polarity_invert(scp) -> None:
    imgs = [flat(0), flat(0), flat(0), flat(0)]
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\2,2")
        assert scu.set_image(1, imgs[0]) == Status.SUCCESS  # MONOCHROME2 0 = black
        assert scu.set_image(2, imgs[1], photometric="MONOCHROME1") == Status.SUCCESS  # white
        assert scu.set_image(3, imgs[2], polarity="REVERSE") == Status.SUCCESS  # white
        assert scu.set_image(4, imgs[3], photometric="MONOCHROME1", polarity="REVERSE") == Status.SUCCESS  # black
        assert scu.print_film_box() == Status.SUCCESS
    assert ods(scp.wait_pdfs(1)[0], QUADRANTS) == pytest.approx([3.0, 0.2, 0.2, 3.0], abs=0.02)


def test_session_print_collates_all_film_boxes_into_one_pdf(scp) -> None:
    with PrintSCU(scp.port) as scu:
        assert scu.create_session() == Status.SUCCESS
        for value in (0, 4095):
            assert scu.create_film_box("STANDARD\\1,1", FilmOrientation="LANDSCAPE", FilmSizeID="A4")[0] == 0
            assert scu.set_image(1, flat(value)) == Status.SUCCESS
        assert scu.print_session() == Status.SUCCESS
    (pdf,) = scp.wait_pdfs(1)
    sizes = pdfcheck.page_sizes_mm(pdf)
    assert [(round(w), round(h)) for w, h in sizes] == [(297, 210), (297, 210)]
    assert [ods(pdf, [(0.5, 0.5)], i)[0] for i in (0, 1)] == pytest.approx([3.0, 0.2], abs=0.02)
    assert "film001-002" in pdf.name


def test_print_is_a_snapshot_later_changes_do_not_alter_it(scp) -> None:
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\1,1")
        scu.set_image(1, flat(4095))
        assert scu.print_film_box() == Status.SUCCESS
        scu.set_image(1, flat(0))  # after the print: must not change the printed film
        assert scu.print_film_box() == Status.SUCCESS
    first, second = sorted(scp.wait_pdfs(2), key=lambda p: p.name)
    values = sorted(ods(p, [(0.5, 0.5)])[0] for p in (first, second))
    assert values == pytest.approx([0.2, 3.0], abs=0.02)


def test_border_and_empty_density_pixel_aspect_ratio_and_magnification(scp) -> None:
    film_box = {"BorderDensity": "WHITE", "EmptyImageDensity": "150", "MagnificationType": "REPLICATE"}
    tall = np.zeros((10, 20), np.uint16)  # 10 rows x 20 columns, but pixels twice as tall as wide
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\2,1", FilmSizeID="24CMX24CM", **film_box)
        assert scu.set_image(1, tall, aspect=(2, 1)) == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    pdf = scp.wait_pdfs(1)[0]
    img = pdfcheck.page_image(pdf)
    # border WHITE = Min Density; empty box 2 at 1.50 OD: density-true
    assert ods(pdf, [(0.005, 0.005), (0.75, 0.5)]) == pytest.approx([0.20, 1.50], abs=0.01)
    # the image is square on film (20 wide x 10*2 tall), centred in its box
    black = np.argwhere(pdfcheck.page_od(pdf)[:, : img.shape[1] // 2] > 2.9)
    (y0, x0), (y1, x1) = black.min(axis=0), black.max(axis=0)
    assert abs((y1 - y0) - (x1 - x0)) <= 2


def test_two_associations_printing_at_once_get_their_own_films(scp) -> None:
    results: dict[str, list[int]] = {}

    def run(ae: str, value: int) -> None:
        results[ae] = print_film(scp.port, [flat(value)] * 4, "STANDARD\\2,2", calling_ae=ae)

    threads = [threading.Thread(target=run, args=(ae, v)) for ae, v in (("MODALITY_A", 0), ("MODALITY_B", 4095))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == {"MODALITY_A": [0] * 8, "MODALITY_B": [0] * 8}
    pdfs = scp.wait_pdfs(2)
    by_ae = {pdfcheck.metadata(p)["DICOMCallingAE"]: ods(p, [(0.25, 0.25)])[0] for p in pdfs}
    assert by_ae == {"MODALITY_A": 3.0, "MODALITY_B": 0.2}


def test_printer_n_get_and_verification(scp) -> None:
    with PrintSCU(scp.port, contexts=[uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META, uids.VERIFICATION]) as scu:
        assert scu.assoc.send_c_echo().Status == 0
        status, ds = scu.n_get(None)
        assert int(status.Status) == Status.SUCCESS
        assert (ds.PrinterStatus, ds.PrinterStatusInfo, ds.PrinterName) == ("NORMAL", "NORMAL", "printserver")
        assert ds.Manufacturer == "printserver" and "printserver" in str(ds.SoftwareVersions)
        status, ds = scu.n_get([0x21100010])
        assert int(status.Status) == Status.SUCCESS and list(ds.keys()) == [0x21100010]


def test_component_classes_proposed_on_their_own(scp) -> None:
    contexts = [uids.BASIC_FILM_SESSION, uids.BASIC_FILM_BOX, uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.PRINTER]
    with PrintSCU(scp.port, contexts=contexts) as scu:
        assert len(scu.assoc.accepted_contexts) == 4
        scu.meta = None  # each message on its own class's context
        assert scu.create_session() == Status.SUCCESS
        assert scu.create_film_box()[0] == Status.SUCCESS
        assert scu.set_image(1, flat(100)) == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    scp.wait_pdfs(1)


def test_film_session_n_create_without_data_set_and_minted_uids(scp) -> None:
    captured = []
    with PrintSCU(scp.port) as scu:
        from pynetdicom import evt

        scu.assoc.bind(evt.EVT_DIMSE_RECV, lambda e: captured.append(e.message.command_set))
        status, _ = scu.n_create(None, uids.BASIC_FILM_SESSION, None)
        assert int(status.Status) == Status.SUCCESS
        minted = str(captured[-1].AffectedSOPInstanceUID)
        assert minted.startswith("2.25.")
        scu.session_uid = minted
        assert scu.create_film_box()[0] == Status.SUCCESS


def test_debug_dumps_every_dimse_message_with_its_data_set(tmp_path, caplog) -> None:
    import logging

    from tests.conftest import make_server

    caplog.set_level(logging.DEBUG, logger="printserver.dump")
    server = make_server(tmp_path)
    server.debug = True
    server.start()
    try:
        print_film(server.port, [flat(5)], "STANDARD\\1,1")
    finally:
        server.stop()
    assert "received N_CREATE_RQ" in caplog.text and "sent N_CREATE_RSP" in caplog.text
    assert "Image Display Format                ST: 'STANDARD" in caplog.text
    assert "Basic Grayscale Image Sequence" in caplog.text
