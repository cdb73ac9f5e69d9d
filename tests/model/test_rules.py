"""Every protocol rule, against the model in memory: the status, the offending attribute and the comment a
modality gets, and that the association still prints afterwards. (The wire keeps its own tests in
tests/net/: malformed data sets, pynetdicom's abort paths, the status fields as sent.)"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pydicom.sequence import Sequence

from printserver import uids
from printserver.model.messages import Op
from printserver.model.session import TRANSITIONS, State
from printserver.status import Status
from tests.model.modality import IMG, Modality, dataset, film_box_ds
from tests.printscu import image_box_dataset, image_item


@pytest.fixture
def m() -> Modality:
    return Modality()


def test_film_box_missing_image_display_format_is_0120_logged_with_the_attribute(m, caplog) -> None:
    caplog.set_level(logging.INFO)
    m.create_session()
    rsp = m.n_create(film_box_ds(m.session_uid), uids.BASIC_FILM_BOX, uids.new_uid())
    assert rsp.status == Status.MISSING_ATTRIBUTE and rsp.offending_elements == (0x20100010,)
    assert rsp.error_comment.startswith("ImageDisplayFormat")
    assert "ImageDisplayFormat" in caplog.text and "0x0120" in caplog.text
    m.still_prints()


def test_film_box_missing_referenced_film_session_is_0120(m) -> None:
    m.create_session()
    rsp = m.n_create(film_box_ds(None, ImageDisplayFormat="STANDARD\\1,1"), uids.BASIC_FILM_BOX)
    assert rsp.status == Status.MISSING_ATTRIBUTE and rsp.offending_elements == (0x20100500,)
    assert "ReferencedFilmSessionSequence" in rsp.error_comment


FILM_BOX_INVALID = [
    ({"ImageDisplayFormat": "GRID\\2,2"}, "ImageDisplayFormat"),
    ({"FilmSizeID": "99INX99IN"}, "FilmSizeID"),
    ({"FilmOrientation": "SIDEWAYS"}, "FilmOrientation"),
    ({"MagnificationType": "SINC"}, "MagnificationType"),
    ({"BorderDensity": "GREY"}, "BorderDensity"),
    ({"Trim": "MAYBE"}, "Trim"),
    ({"RequestedResolutionID": "ULTRA"}, "RequestedResolutionID"),
]


@pytest.mark.parametrize(("attrs", "keyword"), FILM_BOX_INVALID)
def test_film_box_invalid_values_are_0106_naming_the_attribute(m, attrs, keyword) -> None:
    m.create_session()
    values = {"ImageDisplayFormat": "STANDARD\\1,1", **attrs}
    rsp = m.n_create(film_box_ds(m.session_uid, **values), uids.BASIC_FILM_BOX)
    assert rsp.status == Status.INVALID_ATTRIBUTE_VALUE
    assert rsp.error_comment.startswith(keyword)
    assert rsp.offending_elements == (int(dataset(**{keyword: values[keyword]})[keyword].tag),)
    m.still_prints()


@pytest.mark.parametrize(("attrs", "keyword"), [
    ({"NumberOfCopies": 0}, "NumberOfCopies"),
    ({"PrintPriority": "URGENT"}, "PrintPriority"),
    # printer-defined values: 0106 on a strict printer (lenient ones print with the default: test_value_policy.py)
    ({"MediumType": "PAPYRUS"}, "MediumType"),
    ({"FilmDestination": "BIN_0"}, "FilmDestination"),
])
def test_film_session_invalid_values_are_0106(attrs, keyword) -> None:
    m = Modality(value_policy="strict")
    rsp = m.n_create(dataset(**attrs), uids.BASIC_FILM_SESSION, uids.new_uid())
    assert rsp.status == Status.INVALID_ATTRIBUTE_VALUE and rsp.error_comment.startswith(keyword)
    m.still_prints()


def test_attribute_not_of_the_sop_class_is_0105_and_creation_only_attributes_cannot_be_set(m) -> None:
    m.create_session()
    rsp = m.n_create(film_box_ds(m.session_uid, ImageDisplayFormat="STANDARD\\1,1", PatientName="X"),
                     uids.BASIC_FILM_BOX)
    assert rsp.status == Status.NO_SUCH_ATTRIBUTE and rsp.offending_elements == (0x00100010,)
    assert "PatientName" in rsp.error_comment
    assert m.create_film_box().status == Status.SUCCESS
    rsp = m.n_set(dataset(ImageDisplayFormat="STANDARD\\2,2"), uids.BASIC_FILM_BOX, m.film_box_uid)
    assert rsp.status == Status.NO_SUCH_ATTRIBUTE and "ImageDisplayFormat" in rsp.error_comment


def test_unimplemented_optional_attribute_is_a_0107_warning_listing_it_and_the_box_works(m) -> None:
    m.create_session()
    rsp = m.create_film_box(AnnotationDisplayFormatID="LABEL")
    assert rsp.status == Status.ATTRIBUTE_LIST_ERROR and rsp.attribute_identifiers == (0x20100030,)
    assert len(rsp.dataset.ReferencedImageBoxSequence) == 1
    assert m.set_image(1) == Status.SUCCESS
    assert m.print_film_box().status == Status.SUCCESS


def test_film_box_n_create_echoes_the_values_used_with_image_boxes_in_position_order(m) -> None:
    m.create_session()
    rsp = m.create_film_box("STANDARD\\3,2", MaxDensity=500)
    assert rsp.status == Status.DENSITY_OUT_OF_PRINTER_RANGE  # clipped to the printer's 4.00 OD
    ds = rsp.dataset
    assert ds.MaxDensity == 400
    assert rsp.offending_elements == (0x20100130,) and rsp.error_comment == "MaxDensity 500: 400 used"
    assert (ds.FilmSizeID, ds.FilmOrientation, ds.MagnificationType) == ("14INX17IN", "PORTRAIT", "CUBIC")
    assert (ds.BorderDensity, ds.EmptyImageDensity, ds.MinDensity, ds.Trim) == ("BLACK", "BLACK", 20, "NO")
    assert ds.ReferencedFilmSessionSequence[0].ReferencedSOPInstanceUID == m.session_uid
    items = ds.ReferencedImageBoxSequence
    assert [i.ReferencedSOPClassUID for i in items] == [uids.BASIC_GRAYSCALE_IMAGE_BOX] * 6
    assert len({i.ReferencedSOPInstanceUID for i in items}) == 6
    assert m.set_image(6) == Status.SUCCESS  # each UID answers only to its own position
    rsp = m.n_set(image_box_dataset(1, IMG), uids.BASIC_GRAYSCALE_IMAGE_BOX, m.image_box_uids[1])
    assert rsp.status == Status.INVALID_ATTRIBUTE_VALUE and "ImageBoxPosition" in rsp.error_comment


def test_memory_allocation_is_b600(m) -> None:
    rsp = m.n_create(dataset(MemoryAllocation=4096), uids.BASIC_FILM_SESSION, uids.new_uid())
    assert rsp.status == Status.MEMORY_ALLOCATION_NOT_SUPPORTED and rsp.offending_elements == (0x20000060,)
    assert rsp.error_comment == "MemoryAllocation 4096: Memory allocation not supported"


def test_second_film_session_is_0111_and_duplicate_uid_is_0111(m) -> None:
    assert m.create_session() == Status.SUCCESS
    assert m.n_create(None, uids.BASIC_FILM_SESSION, uids.new_uid()).status == Status.DUPLICATE_SOP_INSTANCE
    rsp = m.n_create(film_box_ds(m.session_uid, ImageDisplayFormat="STANDARD\\1,1"), uids.BASIC_FILM_BOX,
                     m.session_uid)
    assert rsp.status == Status.DUPLICATE_SOP_INSTANCE


def test_unknown_instances_are_0112(m) -> None:
    m.create_session()
    m.create_film_box()
    assert m.n_set(image_box_dataset(1, IMG), uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.new_uid()).status == \
        Status.NO_SUCH_OBJECT_INSTANCE
    assert m.n_get([], uids.PRINTER, uids.new_uid()).status == Status.NO_SUCH_OBJECT_INSTANCE
    assert m.n_delete(uids.BASIC_FILM_BOX, uids.new_uid()).status == Status.NO_SUCH_OBJECT_INSTANCE
    m.still_prints()


@pytest.mark.parametrize("uid", ["1.2.abc", "1." + "2" * 70, "1.02.3", "1..2"])
def test_invalid_instance_uids_are_0117(m, uid) -> None:
    assert m.n_create(None, uids.BASIC_FILM_SESSION, uid).status == Status.INVALID_OBJECT_INSTANCE
    m.still_prints()


def test_class_instance_conflict_is_0119(m) -> None:
    m.create_session()
    m.create_film_box()
    assert m.n_set(dataset(Trim="YES"), uids.BASIC_FILM_BOX, m.image_box_uids[0]).status == \
        Status.CLASS_INSTANCE_CONFLICT


def test_operation_a_class_does_not_have_is_0211(m) -> None:
    m.create_session()
    assert m.n_get([], uids.BASIC_FILM_SESSION, m.session_uid).status == Status.UNRECOGNIZED_OPERATION
    assert m.n_delete(uids.PRINTER, uids.PRINTER_INSTANCE).status == Status.UNRECOGNIZED_OPERATION


def test_sop_class_not_on_the_context_is_0118(m) -> None:
    assert m.n_set(dataset(Trim="YES"), "1.2.3.4.5.6.7", uids.new_uid()).status == Status.NO_SUCH_SOP_CLASS
    # not a member of the grayscale meta
    assert m.n_set(dataset(Trim="YES"), uids.BASIC_COLOR_IMAGE_BOX, uids.new_uid()).status == \
        Status.NO_SUCH_SOP_CLASS
    m.still_prints()


def test_no_such_action_type_is_0123(m) -> None:
    m.create_session()
    m.create_film_box()
    assert m.n_action(2, uids.BASIC_FILM_BOX, m.film_box_uid).status == Status.NO_SUCH_ACTION_TYPE


def test_session_print_without_film_box_is_c600_and_empty_prints_warn_and_spool_nothing(m) -> None:
    m.create_session()
    assert m.print_session().status == Status.NO_FILM_BOX
    m.create_film_box("STANDARD\\2,1")
    for rsp, status in ((m.print_film_box(), Status.EMPTY_PAGE_FILM_BOX),
                        (m.print_session(), Status.EMPTY_PAGE_FILM_SESSION)):
        assert rsp.status == status and rsp.effects == () and rsp.job is None


def test_only_the_last_film_box_can_be_printed_or_set(m) -> None:
    m.create_session()
    m.create_film_box()
    first = m.film_box_uid
    m.create_film_box()
    assert m.n_action(1, uids.BASIC_FILM_BOX, first).status == Status.PROCESSING_FAILURE
    rsp = m.n_set(dataset(Trim="YES"), uids.BASIC_FILM_BOX, first)
    assert rsp.status == Status.PROCESSING_FAILURE and "last created film box" in rsp.error_comment
    assert m.n_delete(uids.BASIC_FILM_BOX, first).status == Status.SUCCESS  # deleting it is allowed


def test_unprinted_film_box_without_collation_is_c616_and_session_print_b601() -> None:
    m = Modality(session_print=False)
    m.create_session()
    m.create_film_box()
    m.set_image(1)
    assert m.create_film_box().status == Status.UNPRINTED_FILM_BOX_EXISTS
    rsp = m.print_session()
    assert rsp.status == Status.COLLATION_NOT_SUPPORTED  # prints the one unprinted box
    assert rsp.job is not None and len(rsp.job.films) == 1
    assert m.create_film_box().status == Status.SUCCESS


@pytest.mark.parametrize(("change", "keyword", "status"), [
    ({"Rows": None}, "Rows", Status.MISSING_ATTRIBUTE),
    ({"BitsStored": 10, "HighBit": 9}, "BitsStored", Status.INVALID_ATTRIBUTE_VALUE),
    ({"PhotometricInterpretation": "RGB"}, "PhotometricInterpretation", Status.INVALID_ATTRIBUTE_VALUE),
    ({"PixelRepresentation": 1}, "PixelRepresentation", Status.INVALID_ATTRIBUTE_VALUE),
    ({"SamplesPerPixel": 3}, "SamplesPerPixel", Status.INVALID_ATTRIBUTE_VALUE),
    ({"Rows": 17}, "PixelData", Status.INVALID_ATTRIBUTE_VALUE),  # 17x16 declared, 16x16 sent
    ({"Rows": 0}, "Rows", Status.INVALID_ATTRIBUTE_VALUE),
    ({"PixelAspectRatio": [1, 0]}, "PixelAspectRatio", Status.INVALID_ATTRIBUTE_VALUE),
])
def test_bad_image_pixel_modules(m, change, keyword, status) -> None:
    m.create_session()
    m.create_film_box()
    item = image_item(IMG)
    for k, v in change.items():
        if v is None:
            delattr(item, k)
        else:
            setattr(item, k, v)
    ds = dataset(ImageBoxPosition=1)
    ds.BasicGrayscaleImageSequence = Sequence([item])
    rsp = m.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, m.image_box_uids[0])
    assert rsp.status == status and keyword in rsp.error_comment
    assert rsp.offending_elements == (int(item[keyword].tag) if keyword in item else 0x00280010,)
    assert m.set_image(1) == Status.SUCCESS
    assert m.print_film_box().status == Status.SUCCESS


def test_two_items_in_the_image_sequence_is_0106(m) -> None:
    m.create_session()
    m.create_film_box()
    ds = dataset(ImageBoxPosition=1)
    ds.BasicGrayscaleImageSequence = Sequence([image_item(IMG), image_item(IMG)])
    rsp = m.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, m.image_box_uids[0])
    assert rsp.status == Status.INVALID_ATTRIBUTE_VALUE and rsp.offending_elements == (0x20200110,)


def test_image_over_the_configured_maximum_is_c605_before_allocation() -> None:
    m = Modality(max_image_pixels=100)
    m.create_session()
    m.create_film_box()
    assert m.set_image(1, np.zeros((16, 16), np.uint16)) == Status.INSUFFICIENT_MEMORY
    assert m.set_image(1, np.zeros((10, 10), np.uint16)) == Status.SUCCESS


def test_12_bit_on_an_8_bit_printer_is_0106() -> None:
    m = Modality(supports_12_bit=False)
    m.create_session()
    m.create_film_box()
    assert m.set_image(1, IMG) == Status.INVALID_ATTRIBUTE_VALUE
    assert m.set_image(1, np.zeros((4, 4), np.uint8), bits=8) == Status.SUCCESS


def test_printer_n_get_of_an_unknown_attribute_warns_0107_listing_it(m) -> None:
    rsp = m.n_get([0x21100010, 0x00100010])
    assert rsp.status == Status.ATTRIBUTE_LIST_ERROR and rsp.attribute_identifiers == (0x00100010,)
    assert rsp.dataset.PrinterStatus == "NORMAL"


def test_every_state_and_class_operation_has_a_rule_or_is_no_operation_of_the_class() -> None:
    """The table is complete for what the SOP classes define (PS3.4 H.4): no (state, class, op) falls
    through to 0211 that the class has, and no class gets an operation it does not have."""
    defined = {
        uids.BASIC_FILM_SESSION: {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"},
        uids.BASIC_FILM_BOX: {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"},
        uids.BASIC_GRAYSCALE_IMAGE_BOX: {"N-SET"},
        uids.BASIC_COLOR_IMAGE_BOX: {"N-SET"},
        uids.BASIC_ANNOTATION_BOX: {"N-SET"},
        uids.PRESENTATION_LUT: {"N-CREATE", "N-DELETE"},
        uids.PRINTER: {"N-GET"},
        uids.PRINTER_CONFIGURATION_RETRIEVAL: {"N-GET"},
        uids.PRINT_JOB: {"N-GET"},
    }
    for state in State:
        for cls, ops in defined.items():
            got = {op.value for (s, c, op) in TRANSITIONS if s is state and c == cls}
            assert got == ops, (state, uids.name(cls))


def test_n_delete_and_print_take_no_attributes_0105(m) -> None:
    m.create_session()
    m.create_film_box()
    rsp = m.send(Op.N_DELETE, uids.BASIC_FILM_BOX, m.film_box_uid, dataset(Trim="YES"))
    assert rsp.status == Status.NO_SUCH_ATTRIBUTE and rsp.offending_elements == (0x20100140,)
    rsp = m.send(Op.N_ACTION, uids.BASIC_FILM_SESSION, m.session_uid, dataset(Trim="YES"), action_type_id=1)
    assert rsp.status == Status.NO_SUCH_ATTRIBUTE and "N-ACTION Print takes no attributes" in rsp.error_comment
    m.still_prints()
