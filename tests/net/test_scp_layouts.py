"""SLIDE, SUPERSLIDE and CUSTOM\\i over real associations; an admin's own layout printed without code."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from printserver import config, uids
from printserver.net.scp import PrintServer
from printserver.status import Status
from tests import pdfcheck
from tests.conftest import RunningServer
from tests.printscu import PrintSCU


def flat(value: int) -> np.ndarray:
    return np.full((24, 36), value, np.uint16)


def at_mm(img: np.ndarray, x_mm: float, y_mm: float, dpi: int = 300) -> int:
    return int(img[round(y_mm * dpi / 25.4), round(x_mm * dpi / 25.4)])


def test_slide_film_has_24_boxes_and_each_image_lands_in_its_frame(scp) -> None:
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        status, rsp = scu.create_film_box("SLIDE", FilmSizeID="8INX10IN", BorderDensity="WHITE",
                                          EmptyImageDensity="WHITE")
        assert status == Status.SUCCESS and rsp.ImageDisplayFormat == "SLIDE"
        assert len(rsp.ReferencedImageBoxSequence) == 24
        assert scu.set_image(1, flat(0)) == Status.SUCCESS
        assert scu.set_image(24, flat(0)) == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.lightness(scp.wait_pdfs(1)[0])
    # 4 x 6 frames of 36 x 24 mm, 2 mm apart, centred on the 203.2 x 254 mm film
    x0, y0 = (203.2 - 150) / 2, (254.0 - 154) / 2
    assert at_mm(img, x0 + 18, y0 + 12) == 0  # position 1: top left
    assert at_mm(img, x0 + 3 * 38 + 18, y0 + 5 * 26 + 12) == 0  # position 24: bottom right
    assert at_mm(img, x0 + 38 + 18, y0 + 12) == 255  # position 2: empty
    assert at_mm(img, x0 - 2, y0 + 12) == 255  # outside the grid: border


def test_custom_1_places_its_three_boxes(scp) -> None:
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        status, rsp = scu.create_film_box("CUSTOM\\1", FilmSizeID="A4", EmptyImageDensity="WHITE")
        assert status == Status.SUCCESS and len(rsp.ReferencedImageBoxSequence) == 3
        for pos, value in ((1, 1365), (2, 2730), (3, 4095)):
            assert scu.set_image(pos, np.full((40, 40), value, np.uint16)) == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.lightness(scp.wait_pdfs(1)[0])
    # image area 202 x 289 mm from (4, 4): box 1 spans the top 66 %, boxes 2 and 3 share the rest
    box1 = at_mm(img, 105, 4 + 0.33 * 289)
    box2 = at_mm(img, 4 + 0.25 * 202, 4 + 0.835 * 289)
    box3 = at_mm(img, 4 + 0.75 * 202, 4 + 0.835 * 289)
    assert 0 < box1 < box2 < box3 == 255  # each box shows its own image (P-values 1365 < 2730 < 4095)


@pytest.mark.parametrize(("fmt", "film_box", "why"), [
    ("CUSTOM\\9", {}, "not defined"),
    ("SUPERSLIDE", {"FilmSizeID": "8INX10IN", "FilmOrientation": "LANDSCAPE"}, "needs"),
    ("SLIDE\\2", {}, "no parameters"),
])
def test_data_formats_that_cannot_be_printed_are_0106(scp, fmt: str, film_box: dict, why: str) -> None:
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        result = scu.n_create(_film_box(scu, fmt, **film_box), uids.BASIC_FILM_BOX)
        assert result[0].Status == Status.INVALID_ATTRIBUTE_VALUE
        assert str(result[0].ErrorComment).startswith("ImageDisplayFormat")
        assert scu.create_film_box("STANDARD\\1,1")[0] == Status.SUCCESS  # the association goes on


def test_a_printer_that_does_not_offer_slides_refuses_them(scp_factory) -> None:
    server = scp_factory(display_format_kinds=("STANDARD", "ROW", "COL"))
    with PrintSCU(server.port) as scu:
        scu.create_session()
        result = scu.n_create(_film_box(scu, "SLIDE"), uids.BASIC_FILM_BOX)
        assert result[0].Status == Status.INVALID_ATTRIBUTE_VALUE
        assert "not supported" in str(result[0].ErrorComment)


def test_an_admin_layout_folder_prints_its_own_custom_format(tmp_path: Path) -> None:
    layouts = tmp_path / "layouts"
    layouts.mkdir()
    (layouts / "display_formats.toml").write_text(
        '[CUSTOM.5]\nunits = "mm"\nboxes = [[100, 20, 50, 50], [20, 150, 80, 40]]\n')
    base = config.load(None)
    profile = replace(base.printers[0], pdf_dir=str(tmp_path / "films"))
    cfg = config.validated(replace(base, host="127.0.0.1", spool_dir=str(tmp_path / "spool"), printers=(profile,),
                                   layouts_dir=str(layouts)))
    server = PrintServer(replace(cfg, port=0))
    server.start()
    try:
        running = RunningServer(server, tmp_path / "films")
        with PrintSCU(running.port) as scu:
            scu.create_session()
            status, rsp = scu.create_film_box("CUSTOM\\5", FilmSizeID="A4", BorderDensity="WHITE")
            assert status == Status.SUCCESS and len(rsp.ReferencedImageBoxSequence) == 2
            assert scu.set_image(1, np.zeros((50, 50), np.uint16)) == Status.SUCCESS
            assert scu.set_image(2, np.zeros((40, 80), np.uint16)) == Status.SUCCESS
            assert scu.print_film_box() == Status.SUCCESS
        img = pdfcheck.lightness(running.wait_pdfs(1)[0])
        assert at_mm(img, 125, 45) == 0 and at_mm(img, 60, 170) == 0
        assert at_mm(img, 60, 45) == 255 and at_mm(img, 125, 170) == 255
        assert at_mm(img, 98, 45) == 255 and at_mm(img, 102, 45) == 0  # box 1's left edge at 100 mm
    finally:
        server.stop()


def _film_box(scu: PrintSCU, fmt: str, **attrs: object):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = Dataset()
    ds.ImageDisplayFormat = fmt
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = scu.session_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds
