"""Every bad request gets its standard status on the wire, a log line naming the attribute, and
the association (and every other one) keeps working."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.status import Status
from tests.printscu import PrintSCU, image_box_dataset, image_item

IMG = np.full((16, 16), 2000, np.uint16)


def film_box_ds(session_uid: str | None, **attrs: object) -> Dataset:
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    if session_uid is not None:
        ref = Dataset()
        ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
        ref.ReferencedSOPInstanceUID = session_uid
        ds.ReferencedFilmSessionSequence = Sequence([ref])
    return ds


def code(result: tuple) -> int:
    return int(result[0].Status)


def comment(result: tuple) -> str:
    return str(result[0].get("ErrorComment", ""))


def still_prints(scu: PrintSCU) -> None:
    """The association that saw the errors still prints a film."""
    if scu.session_uid is None or code(scu.n_create(None, uids.BASIC_FILM_SESSION, scu.session_uid)) not in (
            Status.SUCCESS, Status.DUPLICATE_SOP_INSTANCE):
        assert scu.create_session() == Status.SUCCESS
    assert scu.create_film_box()[0] == Status.SUCCESS
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


@pytest.fixture
def scu(scp):
    with PrintSCU(scp.port) as s:
        yield s


def test_film_box_missing_image_display_format_is_0120(scp, scu, caplog) -> None:
    caplog.set_level(logging.INFO)
    scu.create_session()
    result = scu.n_create(film_box_ds(scu.session_uid), uids.BASIC_FILM_BOX, uids.new_uid())
    assert code(result) == Status.MISSING_ATTRIBUTE
    assert "ImageDisplayFormat" in comment(result)
    assert "ImageDisplayFormat" in caplog.text and "0x0120" in caplog.text
    still_prints(scu)
    scp.wait_pdfs(1)


def test_film_box_missing_referenced_film_session_is_0120(scu) -> None:
    scu.create_session()
    result = scu.n_create(film_box_ds(None, ImageDisplayFormat="STANDARD\\1,1"), uids.BASIC_FILM_BOX)
    assert code(result) == Status.MISSING_ATTRIBUTE
    assert "ReferencedFilmSessionSequence" in comment(result)


@pytest.mark.parametrize(("attrs", "keyword"), [
    ({"ImageDisplayFormat": "GRID\\2,2"}, "ImageDisplayFormat"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "FilmSizeID": "99INX99IN"}, "FilmSizeID"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "FilmOrientation": "SIDEWAYS"}, "FilmOrientation"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "MagnificationType": "SINC"}, "MagnificationType"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "BorderDensity": "GREY"}, "BorderDensity"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "Trim": "MAYBE"}, "Trim"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "RequestedResolutionID": "ULTRA"}, "RequestedResolutionID"),
])
def test_film_box_invalid_values_are_0106_naming_the_attribute(scu, attrs, keyword) -> None:
    scu.create_session()
    result = scu.n_create(film_box_ds(scu.session_uid, **attrs), uids.BASIC_FILM_BOX)
    assert code(result) == Status.INVALID_ATTRIBUTE_VALUE
    assert keyword in comment(result)
    still_prints(scu)


@pytest.mark.parametrize(("attrs", "keyword"), [
    ({"NumberOfCopies": 0}, "NumberOfCopies"),
    ({"PrintPriority": "URGENT"}, "PrintPriority"),
    ({"MediumType": "PAPYRUS"}, "MediumType"),
    ({"FilmDestination": "BIN_0"}, "FilmDestination"),
])
def test_film_session_invalid_values_are_0106(scu, attrs, keyword) -> None:
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    result = scu.n_create(ds, uids.BASIC_FILM_SESSION, uids.new_uid())
    assert code(result) == Status.INVALID_ATTRIBUTE_VALUE
    assert keyword in comment(result)
    still_prints(scu)


def test_attribute_not_of_the_sop_class_is_0105(scu) -> None:
    scu.create_session()
    result = scu.n_create(film_box_ds(scu.session_uid, ImageDisplayFormat="STANDARD\\1,1", PatientName="X"),
                          uids.BASIC_FILM_BOX)
    assert code(result) == Status.NO_SUCH_ATTRIBUTE
    assert "PatientName" in comment(result)
    assert scu.create_film_box()[0] == Status.SUCCESS
    ds = Dataset()
    ds.ImageDisplayFormat = "STANDARD\\2,2"  # fixed at creation
    result = scu.n_set(ds, uids.BASIC_FILM_BOX, scu.film_box_uid)
    assert code(result) == Status.NO_SUCH_ATTRIBUTE and "ImageDisplayFormat" in comment(result)


def test_unimplemented_optional_attribute_is_a_0107_warning_and_the_box_works(scu) -> None:
    scu.create_session()
    status, rsp = scu.create_film_box(AnnotationDisplayFormatID="LABEL")
    assert status == Status.ATTRIBUTE_LIST_ERROR
    assert len(rsp.ReferencedImageBoxSequence) == 1
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


def test_film_box_n_create_echoes_the_values_used_with_image_boxes_in_position_order(scu) -> None:
    scu.create_session()
    status, rsp = scu.create_film_box("STANDARD\\3,2", MaxDensity=500)
    assert status == Status.DENSITY_OUT_OF_PRINTER_RANGE  # clipped to the printer's 4.00 OD
    assert rsp.MaxDensity == 400
    assert (rsp.FilmSizeID, rsp.FilmOrientation, rsp.MagnificationType) == ("14INX17IN", "PORTRAIT", "CUBIC")
    assert (rsp.BorderDensity, rsp.EmptyImageDensity, rsp.MinDensity, rsp.Trim) == ("BLACK", "BLACK", 20, "NO")
    assert rsp.ReferencedFilmSessionSequence[0].ReferencedSOPInstanceUID == scu.session_uid
    items = rsp.ReferencedImageBoxSequence
    assert [i.ReferencedSOPClassUID for i in items] == [uids.BASIC_GRAYSCALE_IMAGE_BOX] * 6
    assert len({i.ReferencedSOPInstanceUID for i in items}) == 6
    # each UID answers only to its own position
    assert scu.set_image(6, IMG) == Status.SUCCESS
    wrong = image_box_dataset(1, IMG)
    result = scu.n_set(wrong, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[1])
    assert code(result) == Status.INVALID_ATTRIBUTE_VALUE and "ImageBoxPosition" in comment(result)


def test_memory_allocation_is_b600(scu) -> None:
    ds = Dataset()
    ds.MemoryAllocation = 4096
    assert code(scu.n_create(ds, uids.BASIC_FILM_SESSION, uids.new_uid())) == Status.MEMORY_ALLOCATION_NOT_SUPPORTED


def test_second_film_session_is_0111_and_duplicate_uid_is_0111(scu) -> None:
    assert scu.create_session() == Status.SUCCESS
    assert code(scu.n_create(None, uids.BASIC_FILM_SESSION, uids.new_uid())) == Status.DUPLICATE_SOP_INSTANCE
    result = scu.n_create(film_box_ds(scu.session_uid, ImageDisplayFormat="STANDARD\\1,1"), uids.BASIC_FILM_BOX,
                          scu.session_uid)
    assert code(result) == Status.DUPLICATE_SOP_INSTANCE


def test_unknown_instances_are_0112(scu) -> None:
    scu.create_session()
    scu.create_film_box()
    assert code(scu.n_set(image_box_dataset(1, IMG), uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.new_uid())) == \
        Status.NO_SUCH_OBJECT_INSTANCE
    assert code(scu.n_get(None, uids.PRINTER, uids.new_uid())) == Status.NO_SUCH_OBJECT_INSTANCE
    assert code((scu.n_delete(uids.BASIC_FILM_BOX, uids.new_uid()), None)) == Status.NO_SUCH_OBJECT_INSTANCE
    still_prints(scu)


def test_invalid_and_overlong_instance_uids_are_0117_and_the_association_survives(scu) -> None:
    assert code(scu.n_create(None, uids.BASIC_FILM_SESSION, "1.2.abc")) == Status.INVALID_OBJECT_INSTANCE
    long_uid = "1." + "2" * 70  # pynetdicom alone would abort the association here
    assert code(scu.n_create(None, uids.BASIC_FILM_SESSION, long_uid)) == Status.INVALID_OBJECT_INSTANCE
    assert scu.assoc.is_established
    still_prints(scu)


def test_class_instance_conflict_is_0119(scu) -> None:
    scu.create_session()
    scu.create_film_box()
    ds = Dataset()
    ds.Trim = "YES"
    result = scu.n_set(ds, uids.BASIC_FILM_BOX, scu.image_box_uids[0])
    assert code(result) == Status.CLASS_INSTANCE_CONFLICT


def test_operation_a_class_does_not_have_is_0211(scu) -> None:
    scu.create_session()
    assert code(scu.n_get(None, uids.BASIC_FILM_SESSION, scu.session_uid)) == Status.UNRECOGNIZED_OPERATION


def test_unknown_sop_class_is_0118_not_an_abort(scu) -> None:
    ds = Dataset()
    ds.Trim = "YES"
    result = scu.n_set(ds, "1.2.3.4.5.6.7", uids.new_uid())
    assert code(result) == Status.NO_SUCH_SOP_CLASS
    result = scu.n_set(ds, uids.BASIC_COLOR_IMAGE_BOX, uids.new_uid())  # not a member of the grayscale meta
    assert code(result) == Status.NO_SUCH_SOP_CLASS
    assert scu.assoc.is_established
    still_prints(scu)


def test_no_such_action_type_is_0123(scu) -> None:
    scu.create_session()
    scu.create_film_box()
    assert code(scu.n_action(2, uids.BASIC_FILM_BOX, scu.film_box_uid)) == Status.NO_SUCH_ACTION_TYPE


def test_session_print_without_film_box_is_c600_and_empty_prints_warn(scp, scu) -> None:
    scu.create_session()
    assert scu.print_session() == Status.NO_FILM_BOX
    scu.create_film_box("STANDARD\\2,1")
    assert scu.print_film_box() == Status.EMPTY_PAGE_FILM_BOX
    assert scu.print_session() == Status.EMPTY_PAGE_FILM_SESSION
    assert scp.pdfs() == [] and scp.server.spool.pending() == []


def test_only_the_last_film_box_can_be_printed_or_set(scu) -> None:
    scu.create_session()
    scu.create_film_box()
    first = scu.film_box_uid
    scu.create_film_box()
    assert code(scu.n_action(1, uids.BASIC_FILM_BOX, first)) == Status.PROCESSING_FAILURE


def test_unprinted_film_box_without_collation_is_c616_and_session_print_b601(scp_factory) -> None:
    server = scp_factory(session_print=False)
    with PrintSCU(server.port) as scu:
        scu.create_session()
        scu.create_film_box()
        scu.set_image(1, IMG)
        assert scu.create_film_box()[0] == Status.UNPRINTED_FILM_BOX_EXISTS
        assert scu.print_session() == Status.COLLATION_NOT_SUPPORTED  # prints the one unprinted box
        assert scu.create_film_box()[0] == Status.SUCCESS
    server.wait_pdfs(1)


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
def test_bad_image_pixel_modules(scu, change, keyword, status) -> None:
    scu.create_session()
    scu.create_film_box()
    ds = Dataset()
    ds.ImageBoxPosition = 1
    item = image_item(IMG)
    for k, v in change.items():
        if v is None:
            delattr(item, k)
        else:
            setattr(item, k, v)
    ds.BasicGrayscaleImageSequence = Sequence([item])
    result = scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[0])
    assert code(result) == status
    assert keyword in comment(result)
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


def test_two_items_in_the_image_sequence_is_0106(scu) -> None:
    scu.create_session()
    scu.create_film_box()
    ds = Dataset()
    ds.ImageBoxPosition = 1
    ds.BasicGrayscaleImageSequence = Sequence([image_item(IMG), image_item(IMG)])
    assert code(scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[0])) == \
        Status.INVALID_ATTRIBUTE_VALUE


def test_image_over_the_configured_maximum_is_c605_before_allocation(scp_factory) -> None:
    server = scp_factory(max_image_pixels=100)
    with PrintSCU(server.port) as scu:
        scu.create_session()
        scu.create_film_box()
        assert scu.set_image(1, np.zeros((16, 16), np.uint16)) == Status.INSUFFICIENT_MEMORY
        assert scu.set_image(1, np.zeros((10, 10), np.uint16)) == Status.SUCCESS


def test_12_bit_on_an_8_bit_printer_is_0106(scp_factory) -> None:
    server = scp_factory(supports_12_bit=False)
    with PrintSCU(server.port) as scu:
        scu.create_session()
        scu.create_film_box()
        assert scu.set_image(1, IMG) == Status.INVALID_ATTRIBUTE_VALUE
        assert scu.set_image(1, np.zeros((4, 4), np.uint8), bits=8) == Status.SUCCESS


def test_printer_n_get_of_an_unknown_attribute_warns_0107(scu) -> None:
    status, ds = scu.n_get([0x21100010, 0x00100010])
    assert int(status.Status) == Status.ATTRIBUTE_LIST_ERROR
    assert ds.PrinterStatus == "NORMAL"


def test_release_deletes_the_association_hierarchy(scp) -> None:
    session_uid = uids.new_uid()
    with PrintSCU(scp.port) as scu:
        assert scu.create_session(uid=session_uid) == Status.SUCCESS
    with PrintSCU(scp.port) as scu:  # the same UID is free again: the old session is gone
        assert scu.create_session(uid=session_uid) == Status.SUCCESS
        film_box = scu.n_create(film_box_ds(session_uid, ImageDisplayFormat="STANDARD\\1,1"), uids.BASIC_FILM_BOX)
        assert code(film_box) == Status.SUCCESS


def test_wrong_called_ae_is_rejected(scp) -> None:
    with pytest.raises(ConnectionError):
        PrintSCU(scp.port, called_ae="NOSUCHPRINTER").__enter__()


def test_oversized_message_aborts_only_its_association(scp_factory) -> None:
    server = scp_factory(max_image_pixels=1000)  # messages above 2*1000 + 1 MiB are refused
    with PrintSCU(server.port) as other:
        other.create_session()
        other.create_film_box()
        with PrintSCU(server.port) as scu:
            scu.create_session()
            scu.create_film_box()
            with pytest.raises(ConnectionError):
                scu.set_image(1, np.zeros((1024, 1024), np.uint16))  # 2 MiB
            for _ in range(100):  # the A-ABORT reaches the requestor's state machine shortly after
                if not scu.assoc.is_established:
                    break
                time.sleep(0.05)
            assert scu.assoc.is_aborted
        assert other.set_image(1, np.zeros((10, 10), np.uint16)) == Status.SUCCESS
        assert other.print_film_box() == Status.SUCCESS
    server.wait_pdfs(1)


@pytest.mark.parametrize("junk", [b"\x08\x00\x05\x00CS\xff\xffgarbage", b"\x00" * 7, bytes(range(256))])
def test_malformed_data_sets_get_a_failure_status_and_the_association_goes_on(scu, junk: bytes) -> None:
    scu.create_session()
    scu.create_film_box()
    rsp = scu.raw_n_set(uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[0], junk)
    assert rsp is not None and 0x0100 <= rsp.Status <= 0x01FF  # a failure status, not an abort
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS
