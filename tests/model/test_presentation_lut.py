"""parse_presentation_lut: a shape or a table of 256/4096 entries, and every way an N-CREATE can be wrong."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.model.presentation_lut import parse_presentation_lut
from printserver.status import Status


def table(entries: int = 256, first: int = 0, bits: int = 12, data: list[int] | bytes | None = None) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = [entries, first, bits]
    item.LUTData = list(range(entries)) if data is None else data
    ds = Dataset()
    ds.PresentationLUTSequence = Sequence([item])
    return ds


def parse(ds: Dataset | None, *, little_endian: bool = True):
    return parse_presentation_lut("1.2.3", ds, PrinterProfile(), little_endian=little_endian, where="Test")


def refused(ds: Dataset | None) -> PrintError:
    with pytest.raises(PrintError) as exc:
        parse(ds)
    return exc.value


def test_shapes() -> None:
    ds = Dataset()
    ds.PresentationLUTShape = "LIN OD"
    plut = parse(ds)
    assert (plut.shape, plut.entries, plut.as_job()) == ("LIN OD", None, {"shape": "LIN OD"})
    ds.PresentationLUTShape = "INVERSE"
    assert refused(ds).status is Status.INVALID_ATTRIBUTE_VALUE


def test_a_table_maps_each_stored_value() -> None:
    plut = parse(table(256, data=[v * 16 for v in range(256)]))
    assert (plut.entries, plut.bits, plut.data[255]) == (256, 12, 4080)
    assert plut.as_job() == {"bits": 12, "data": [v * 16 for v in range(256)]}


def test_raw_words_are_read_in_the_transfer_syntax_byte_order() -> None:
    words = np.arange(256, dtype=">u2").tobytes()
    assert parse(table(256, data=words), little_endian=False).data[:3] == (0, 1, 2)
    assert parse(table(256, data=np.arange(256, dtype="<u2").tobytes())).data[255] == 255


@pytest.mark.parametrize(("ds", "status", "offending", "words"), [
    (None, Status.MISSING_ATTRIBUTE, 0x20500020, "PresentationLUTShape or PresentationLUTSequence"),
    (table(100), Status.INVALID_ATTRIBUTE_VALUE, 0x00283002, "must be 256"),
    (table(256, first=1), Status.INVALID_ATTRIBUTE_VALUE, 0x00283002, "first value mapped 1"),
    (table(256, bits=8), Status.INVALID_ATTRIBUTE_VALUE, 0x00283002, "8 bits per entry"),
    (table(256, data=list(range(200))), Status.INVALID_ATTRIBUTE_VALUE, 0x00283006, "has 200 entries"),
    (table(256, bits=10, data=[2000] * 256), Status.INVALID_ATTRIBUTE_VALUE, 0x00283006, "exceeds 10 bits"),
])
def test_what_is_refused_names_the_attribute(ds, status, offending, words) -> None:
    exc = refused(ds)
    assert (exc.status, exc.offending) == (status, offending) and words in exc.comment


def test_shape_and_table_together_or_two_items_are_refused() -> None:
    ds = table()
    ds.PresentationLUTShape = "IDENTITY"
    assert refused(ds).status is Status.INVALID_ATTRIBUTE_VALUE
    ds = table()
    ds.PresentationLUTSequence.append(ds.PresentationLUTSequence[0])
    exc = refused(ds)
    assert exc.offending == 0x20500010 and "2 items" in exc.comment


def test_a_table_item_without_lut_data_is_0120() -> None:
    ds = table()
    del ds.PresentationLUTSequence[0].LUTData
    assert refused(ds).status is Status.MISSING_ATTRIBUTE
