"""Bad requests on the wire: what only a real association shows (pynetdicom's abort paths, malformed
data sets, release, acceptance, oversized messages) and one refusal followed through to the PDF.

The protocol rules themselves (which status for which request) are tested in memory against the
model in tests/model/test_rules.py; the status fields as sent in tests/net/test_scp_status_fields.py."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.status import Status
from tests.printscu import PrintSCU

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


def test_invalid_and_overlong_instance_uids_are_0117_and_the_association_survives(scu) -> None:
    assert code(scu.n_create(None, uids.BASIC_FILM_SESSION, "1.2.abc")) == Status.INVALID_OBJECT_INSTANCE
    long_uid = "1." + "2" * 70  # pynetdicom alone would abort the association here
    assert code(scu.n_create(None, uids.BASIC_FILM_SESSION, long_uid)) == Status.INVALID_OBJECT_INSTANCE
    assert scu.assoc.is_established
    still_prints(scu)


def test_unknown_sop_class_is_0118_not_an_abort(scu) -> None:
    ds = Dataset()
    ds.Trim = "YES"
    result = scu.n_set(ds, "1.2.3.4.5.6.7", uids.new_uid())
    assert code(result) == Status.NO_SUCH_SOP_CLASS
    result = scu.n_set(ds, uids.BASIC_COLOR_IMAGE_BOX, uids.new_uid())  # not a member of the grayscale meta
    assert code(result) == Status.NO_SUCH_SOP_CLASS
    assert scu.assoc.is_established
    still_prints(scu)


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
