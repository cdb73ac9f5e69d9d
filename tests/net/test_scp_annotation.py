"""Basic Annotation Box over real associations: the text lands in its strip of the film, in any script."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pydicom.dataset import Dataset

from printserver import uids
from printserver.layout import load_layouts
from printserver.model.spooled_job import AnnotationBoxJob
from printserver.render.annotate import draw_annotations, text_mask
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import META, PrintSCU

DPI = 300
PX = DPI / 25.4


def annotation(position: int | None, text: str | None, charset: str | list[str] | None = None) -> Dataset:
    ds = Dataset()
    if charset is not None:
        ds.SpecificCharacterSet = charset
    if position is not None:
        ds.AnnotationPosition = position
    if text is not None:
        ds.TextString = text
    return ds


def set_text(scu: PrintSCU, uid: str, ds: Dataset) -> Dataset:
    status, _ = scu.assoc.send_n_set(ds, uids.BASIC_ANNOTATION_BOX, uid, msg_id=next(scu._ids))
    return status


@pytest.fixture
def scu(scp):
    with PrintSCU(scp.port, contexts=[META, uids.BASIC_ANNOTATION_BOX]) as scu:
        assert scu.create_session() == Status.SUCCESS
        yield scu


def strip(img: np.ndarray, top_mm: float, height_mm: float) -> np.ndarray:
    return img[round(top_mm * PX):round((top_mm + height_mm) * PX)]


def test_film_box_returns_its_annotation_boxes_only_when_the_class_was_negotiated(scp, scu) -> None:
    status, rsp = scu.create_film_box(AnnotationDisplayFormatID="ANNOTATION")
    assert status == Status.SUCCESS and rsp.AnnotationDisplayFormatID == "ANNOTATION"
    items = rsp.ReferencedBasicAnnotationBoxSequence
    assert [i.ReferencedSOPClassUID for i in items] == [uids.BASIC_ANNOTATION_BOX] * 4
    assert len({i.ReferencedSOPInstanceUID for i in items}) == 4
    with PrintSCU(scp.port) as plain:  # grayscale meta only: the ID is ignored with 0107, as before
        plain.create_session()
        status, rsp = plain.create_film_box(AnnotationDisplayFormatID="ANNOTATION")
        assert status == Status.ATTRIBUTE_LIST_ERROR and "ReferencedBasicAnnotationBoxSequence" not in rsp


def test_unknown_annotation_format_is_0106(scu) -> None:
    status, _ = scu.create_film_box(AnnotationDisplayFormatID="NOPE")
    assert status == Status.INVALID_ATTRIBUTE_VALUE


def test_label_text_is_drawn_centred_in_the_bottom_strip(scp, scu) -> None:
    _, rsp = scu.create_film_box("STANDARD\\1,1", AnnotationDisplayFormatID="LABEL", FilmSizeID="8INX10IN")
    (item,) = rsp.ReferencedBasicAnnotationBoxSequence
    assert set_text(scu, item.ReferencedSOPInstanceUID, annotation(1, "CT HEAD 2026-01-01")).Status == 0
    assert scu.set_image(1, np.full((64, 64), 4095, np.uint16)) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.lightness(scp.wait_pdfs(1)[0])
    band = strip(img, 254.0 - 4 - 10, 10)
    _, xs = np.nonzero(band > 128)  # white text on the BLACK border
    assert len(xs) > 500
    centre_mm = (xs.min() + xs.max()) / 2 / PX
    assert abs(centre_mm - 203.2 / 2) < 2
    assert np.all(strip(img, 0, 4) == 0) and np.all(img[-round(4 * PX):] == 0)  # margins stay border
    # the image box shrank to make room: its bottom edge is above the strip
    column = img[:, round(10 * PX)]  # left of the centred text
    assert np.nonzero(column == 255)[0].max() < (254.0 - 4 - 10 - 2) * PX


def test_corner_positions_and_alignment(scp, scu) -> None:
    _, rsp = scu.create_film_box("STANDARD\\1,1", AnnotationDisplayFormatID="ANNOTATION", FilmSizeID="8INX10IN",
                                 BorderDensity="WHITE")
    uids_ = [i.ReferencedSOPInstanceUID for i in rsp.ReferencedBasicAnnotationBoxSequence]
    assert set_text(scu, uids_[1], annotation(2, "RIGHT")).Status == 0
    assert set_text(scu, uids_[2], annotation(3, "LEFT")).Status == 0
    assert scu.set_image(1, np.zeros((64, 64), np.uint16)) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.lightness(scp.wait_pdfs(1)[0])
    top, bottom = strip(img, 4, 8), strip(img, 254.0 - 12, 8)
    _, xs = np.nonzero(top < 128)  # black text on a WHITE border
    assert xs.min() / PX > 203.2 / 2 and abs(xs.max() / PX - (203.2 - 4)) < 1.5  # position 2: right aligned
    _, xs = np.nonzero(bottom < 128)
    assert abs(xs.min() / PX - 4) < 1.5 and xs.max() / PX < 203.2 / 2  # position 3: left aligned


@pytest.mark.parametrize(("charset", "text"), [
    ("ISO_IR 192", "Ünïcødé 山田太郎"),  # UTF-8 with Latin and CJK
    ("ISO_IR 144", "Иванов Пётр"),  # Cyrillic, 8-bit
    (["ISO 2022 IR 13", "ISO 2022 IR 87"], "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎"),  # Japanese, ISO 2022 escapes
])
def test_specific_character_set_is_honoured(scp, scu, charset, text: str) -> None:
    _, rsp = scu.create_film_box("STANDARD\\1,1", AnnotationDisplayFormatID="LABEL", FilmSizeID="8INX10IN")
    uid = rsp.ReferencedBasicAnnotationBoxSequence[0].ReferencedSOPInstanceUID
    assert set_text(scu, uid, annotation(1, text, charset)).Status == 0
    assert scu.set_image(1, np.zeros((64, 64), np.uint16)) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS
    pdf = scp.wait_pdfs(1)[0]
    raw = pdfcheck.page_image(pdf)
    band = (slice(round((254 - 14) * PX), round((254 - 4) * PX)), slice(None))
    # What the renderer draws for the decoded text, alone on the black film: the PDF must show exactly that
    expected = np.full_like(raw, raw[band][0, 0])
    draw_annotations(expected, [AnnotationBoxJob(1, text, 4.0, 254.0 - 14, 203.2 - 8, 10.0, 16, "CENTER")], DPI)
    assert np.array_equal(raw[band], expected[band])
    assert (pdfcheck.lightness(pdf)[band] > 128).sum() > 500


def test_non_latin_glyphs_come_from_a_covering_font(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="printserver.render.annotate"):
        cjk_a, cjk_b = text_mask("山田", 400, 80, 60, "LEFT"), text_mask("中文", 400, 80, 60, "LEFT")
        cyr_a, cyr_b = text_mask("Жук", 400, 80, 60, "LEFT"), text_mask("Щит", 400, 80, 60, "LEFT")
    assert not caplog.records  # every glyph found
    # missing glyphs would all be the same box: different characters must draw differently
    assert cjk_a.any() and not np.array_equal(cjk_a, cjk_b)
    assert cyr_a.any() and not np.array_equal(cyr_a, cyr_b)


def test_a_glyph_no_font_has_is_logged_and_the_rest_still_drawn(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="printserver.render.annotate"):
        mask = text_mask("AB \U0001F9EC", 400, 80, 60, "LEFT", position=3)
    assert "U+1F9EC" in caplog.text and "position 3" in caplog.text
    assert mask.any()


@pytest.mark.parametrize(("ds", "status", "keyword"), [
    (annotation(2, "X"), Status.INVALID_ATTRIBUTE_VALUE, "AnnotationPosition"),  # LABEL has 1 position
    (annotation(1, "X" * 65), Status.INVALID_ATTRIBUTE_VALUE, "TextString"),
    (annotation(None, "no position"), Status.MISSING_ATTRIBUTE, "AnnotationPosition"),
])
def test_bad_annotation_n_set_is_refused_and_the_film_still_prints(scu, ds: Dataset, status: int,
                                                                   keyword: str) -> None:
    _, rsp = scu.create_film_box(AnnotationDisplayFormatID="LABEL")
    uid = rsp.ReferencedBasicAnnotationBoxSequence[0].ReferencedSOPInstanceUID
    result = set_text(scu, uid, ds)
    assert result.Status == status and keyword in str(result.ErrorComment)
    assert set_text(scu, uid, annotation(1, "fine")).Status == 0
    assert scu.set_image(1, np.zeros((8, 8), np.uint16)) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


def test_annotation_position_in_the_data_set_decides_where_the_text_goes(scp, scu) -> None:
    """As DCMTK does: position 4's text sent to the first annotation box's instance."""
    _, rsp = scu.create_film_box("STANDARD\\1,1", AnnotationDisplayFormatID="ANNOTATION", FilmSizeID="8INX10IN")
    first = rsp.ReferencedBasicAnnotationBoxSequence[0].ReferencedSOPInstanceUID
    assert set_text(scu, first, annotation(4, "BOTTOM RIGHT")).Status == 0
    assert scu.set_image(1, np.zeros((8, 8), np.uint16)) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS
    img = pdfcheck.lightness(scp.wait_pdfs(1)[0])
    assert not (strip(img, 4, 8) > 128).any()  # nothing at the top
    _, xs = np.nonzero(strip(img, 254.0 - 12, 8) > 128)
    assert xs.min() / PX > 203.2 / 2  # bottom right


def test_deleting_the_film_box_deletes_its_annotation_boxes(scu) -> None:
    _, rsp = scu.create_film_box(AnnotationDisplayFormatID="LABEL")
    uid = rsp.ReferencedBasicAnnotationBoxSequence[0].ReferencedSOPInstanceUID
    assert scu.delete_film_box() == Status.SUCCESS
    assert set_text(scu, uid, annotation(1, "late")).Status == Status.NO_SUCH_OBJECT_INSTANCE


def test_label_and_annotation_ship_in_the_layouts() -> None:
    formats = load_layouts().annotation_formats
    assert len(formats["LABEL"].boxes) == 1 and len(formats["ANNOTATION"].boxes) == 4
