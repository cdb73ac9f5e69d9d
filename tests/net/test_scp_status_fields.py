"""The status fields on the wire: the offending attribute a modality is told (PS3.7 Annex C), and 0110 for
the unexpected, with its traceback in the log and the association still serving.

The command sets are read as they arrived (EVT_DIMSE_RECV on the SCU), not from pynetdicom's summary.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom import evt

from printserver import uids
from printserver.status import Status
from tests.printscu import PrintSCU

IMG = np.full((16, 16), 2000, np.uint16)


class WireSCU(PrintSCU):
    """PrintSCU that keeps the command set of every response as it came off the wire."""

    def __enter__(self) -> WireSCU:
        super().__enter__()
        self.commands: list[Dataset] = []
        self.assoc.bind(evt.EVT_DIMSE_RECV, lambda e: self.commands.append(e.message.command_set))
        return self


@pytest.fixture
def scu(scp):
    with WireSCU(scp.port) as s:
        yield s


def film_box(session_uid: str, **attrs: Any) -> Dataset:
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = session_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    return ds


def tags(value: Any) -> list[int]:
    return [int(t) for t in (value if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"
                             else [value])]


@pytest.mark.parametrize(("attrs", "status", "offending", "keyword"), [
    ({"ImageDisplayFormat": "STANDARD\\1,1", "FilmSizeID": "99INX99IN"}, Status.INVALID_ATTRIBUTE_VALUE,
     0x20100050, "FilmSizeID"),
    ({"ImageDisplayFormat": "STANDARD\\1,1", "PatientName": "X"}, Status.NO_SUCH_ATTRIBUTE, 0x00100010,
     "PatientName"),
    ({"FilmSizeID": "8INX10IN"}, Status.MISSING_ATTRIBUTE, 0x20100010, "ImageDisplayFormat"),
])
def test_a_refused_film_box_names_its_offending_element_on_the_wire(scu, attrs, status, offending, keyword) -> None:
    assert scu.create_session() == Status.SUCCESS
    status_ds = scu.n_create(film_box(scu.session_uid, **attrs), uids.BASIC_FILM_BOX)[0]
    command = scu.commands[-1]
    assert command.CommandField == 0x8140 and command.Status == status == int(status_ds.Status)
    assert tags(command.OffendingElement) == [offending]  # (0000,0901)
    assert str(command.ErrorComment).startswith(keyword)  # (0000,0902)
    assert scu.create_film_box()[0] == Status.SUCCESS  # the association goes on
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


def test_an_ignored_attribute_is_listed_in_the_0107_warning_of_an_n_create(scu) -> None:
    scu.create_session()
    status, _ = scu.create_film_box(AnnotationDisplayFormatID="LABEL")
    command = scu.commands[-1]
    assert status == Status.ATTRIBUTE_LIST_ERROR == command.Status
    assert tags(command.AttributeIdentifierList) == [0x20100030]  # (0000,1005)
    assert "OffendingElement" not in command


def test_success_carries_no_status_fields(scu) -> None:
    assert scu.create_session() == Status.SUCCESS
    command = scu.commands[-1]
    assert not any(k in command for k in ("ErrorComment", "OffendingElement", "AttributeIdentifierList"))


class BrokenHealth:
    """An outputs' health view that fails as a bug would: nothing a model refusal could produce."""

    def get(self, profile: Any) -> tuple[str, str, str]:
        raise RuntimeError("health view exploded (test)")


def test_an_unexpected_exception_is_0110_with_its_traceback_logged_and_the_association_goes_on(
        scp, scu, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="printserver.net.handlers")
    scp.server.handlers.health = BrokenHealth()
    scu.commands.clear()
    status, _ = scu.n_get(None)
    command = scu.commands[-1]
    assert int(status.Status) == Status.PROCESSING_FAILURE == command.Status
    assert "health view exploded" in str(command.ErrorComment)
    assert "OffendingElement" not in command
    failures = [r for r in caplog.records
                if r.name == "printserver.net.handlers" and r.exc_info and r.exc_info[0] is RuntimeError]
    assert len(failures) == 1 and "Traceback" in caplog.text and "health view exploded" in caplog.text
    assert scu.create_session() == Status.SUCCESS  # other requests are unaffected
    assert scu.create_film_box()[0] == Status.SUCCESS
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


def test_a_replaced_printer_defined_value_is_a_0116_naming_it_on_the_wire(scu) -> None:
    scu.create_session()
    status, rsp = scu.create_film_box(SmoothingType="NONE")
    command = scu.commands[-1]
    assert status == Status.ATTRIBUTE_VALUE_OUT_OF_RANGE == command.Status
    assert tags(command.OffendingElement) == [0x20100080]
    assert str(command.ErrorComment).startswith("SmoothingType 'NONE'")
    assert len(rsp.ReferencedImageBoxSequence) == 1  # the film box exists and prints
    assert scu.set_image(1, IMG) == Status.SUCCESS
    assert scu.print_film_box() == Status.SUCCESS


def test_an_image_over_the_associations_memory_bound_is_c605_naming_the_image_sequence(scp_factory) -> None:
    """model/memory.py: the bound is in memory tests (tests/model/test_memory.py); here what the modality
    reads off the wire, and that it then prints what the printer holds."""
    server = scp_factory(max_held_image_mb=1)
    half_mb = np.full((512, 512), 1000, np.uint16)
    with WireSCU(server.port) as scu:
        assert scu.create_session() == Status.SUCCESS
        assert scu.create_film_box("STANDARD\\2,2")[0] == Status.SUCCESS
        assert scu.set_image(1, half_mb) == scu.set_image(2, half_mb) == Status.SUCCESS
        assert scu.set_image(3, half_mb) == Status.INSUFFICIENT_MEMORY
        command = scu.commands[-1]
        assert command.CommandField == 0x8120 and command.Status == 0xC605
        assert tags(command.OffendingElement) == [0x20200110]  # Basic Grayscale Image Sequence
        assert str(command.ErrorComment) == "association would hold 1.5 MB of images, limit 1 MB"
        assert scu.print_film_box() == Status.SUCCESS
    server.wait_pdfs(1)
