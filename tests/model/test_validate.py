"""The one validator (model/attributes.py `validate`): each usage and check gives its status, naming the
attribute and its tag; defaults only on create."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.model import attributes as A
from printserver.status import Status

P = PrinterProfile()
STRICT = PrinterProfile(value_policy="strict")


def ref() -> Sequence:
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3"
    return Sequence([item])


def ds(**attrs: object) -> Dataset:
    d = Dataset()
    for k, v in attrs.items():
        setattr(d, k, v)
    return d


def refused(data: Dataset, table=A.FILM_BOX, **kw: object) -> PrintError:
    with pytest.raises(PrintError) as exc:
        A.validate(data, table, P, where="Test", creating=kw.pop("creating", False), **kw)  # type: ignore[arg-type]
    return exc.value


def test_create_applies_the_printer_defaults_for_what_is_absent() -> None:
    v = A.validate(ds(ImageDisplayFormat="STANDARD\\1,1", ReferencedFilmSessionSequence=ref()), A.FILM_BOX, P,
                   where="Test", creating=True)
    assert v.values["FilmSizeID"] == P.default_film_size and v.values["MaxDensity"] == P.default_max_density
    assert v.warnings == [] and v.ignored == []


def test_set_applies_no_defaults() -> None:
    v = A.validate(ds(Trim="YES"), A.FILM_BOX, P, where="Test", creating=False, settable=A.FILM_BOX_SETTABLE)
    assert v.values == {"Trim": "YES"}


def test_an_attribute_outside_the_table_is_0105_with_its_tag() -> None:
    exc = refused(ds(PatientName="X"))
    assert (exc.status, exc.offending, exc.context) == (Status.NO_SUCH_ATTRIBUTE, 0x00100010, "Test")
    assert exc.comment.startswith("PatientName (0010,0010)")


def test_an_attribute_not_settable_is_0105_saying_so() -> None:
    exc = refused(ds(FilmSizeID="A4"), settable=A.FILM_BOX_SETTABLE)
    assert exc.status is Status.NO_SUCH_ATTRIBUTE and "cannot be changed by N-SET" in exc.comment


def test_a_missing_required_attribute_is_0120_and_an_empty_one_0121() -> None:
    exc = refused(ds(ReferencedFilmSessionSequence=ref()), creating=True)
    assert (exc.status, exc.offending) == (Status.MISSING_ATTRIBUTE, 0x20100010)
    assert exc.comment == "ImageDisplayFormat is required and missing"
    exc = refused(ds(ImageDisplayFormat=""), creating=True)
    assert (exc.status, exc.offending) == (Status.MISSING_ATTRIBUTE_VALUE, 0x20100010)


def test_an_empty_optional_value_takes_the_default_and_an_empty_image_sequence_is_kept() -> None:
    v = A.validate(ds(ImageDisplayFormat="STANDARD\\1,1", ReferencedFilmSessionSequence=ref(), FilmSizeID=""),
                   A.FILM_BOX, P, where="Test", creating=True)
    assert v.values["FilmSizeID"] == P.default_film_size
    v = A.validate(ds(ImageBoxPosition=1, BasicGrayscaleImageSequence=[]), A.GRAYSCALE_IMAGE_BOX, P,
                   where="Test", creating=True)
    assert len(v.values["BasicGrayscaleImageSequence"]) == 0


def test_a_bad_value_is_0106_quoting_it() -> None:
    exc = refused(ds(Trim="MAYBE"))
    assert (exc.status, exc.offending) == (Status.INVALID_ATTRIBUTE_VALUE, 0x20100140)
    assert exc.comment == "Trim 'MAYBE' is not supported (supported: YES, NO)"


def test_several_values_for_a_single_valued_attribute_is_0106() -> None:
    exc = refused(ds(MagnificationType=["CUBIC", "NONE"]))
    assert exc.status is Status.INVALID_ATTRIBUTE_VALUE and "more than one value" in exc.comment


def test_an_ignored_attribute_is_listed_and_warns_0107() -> None:
    v = A.validate(ds(AnnotationDisplayFormatID="LABEL"), A.FILM_BOX, P, where="Test", creating=False)
    assert v.ignored == [0x20100030] and v.warnings == [Status.ATTRIBUTE_LIST_ERROR]
    assert "AnnotationDisplayFormatID" not in v.values


def test_density_outside_the_printer_range_is_clipped_with_b605() -> None:
    v = A.validate(ds(MinDensity=1, MaxDensity=999), A.FILM_BOX, P, where="Test", creating=False)
    assert (v.values["MinDensity"], v.values["MaxDensity"]) == (P.min_density_range[0], P.max_density_range[1])
    assert v.warnings == [Status.DENSITY_OUT_OF_PRINTER_RANGE] * 2
    assert v.adjusted == [(0x20100120, "MinDensity 1: 10 used"), (0x20100130, "MaxDensity 999: 400 used")]


def test_group_length_is_skipped_and_specific_character_set_always_allowed() -> None:
    d = ds(Trim="NO", SpecificCharacterSet="ISO_IR 100")
    d.add_new(0x20100000, "UL", 10)
    v = A.validate(d, A.FILM_BOX, P, where="Test", creating=False)
    assert v.values == {"Trim": "NO", "SpecificCharacterSet": "ISO_IR 100"}


@pytest.mark.parametrize(("value", "ok"), [("BIN_1", True), ("BIN_4", True), ("BIN_5", False), ("BIN_0", False),
                                           ("BIN_01", False), ("MAGAZINE", True), ("SHELF", False)])
def test_film_destination_bins(value: str, ok: bool) -> None:
    if ok:
        assert A.validate(ds(FilmDestination=value), A.FILM_SESSION, P, where="T", creating=False).values == \
            {"FilmDestination": value}
    else:
        with pytest.raises(PrintError) as exc:
            A.validate(ds(FilmDestination=value), A.FILM_SESSION, STRICT, where="T", creating=False)
        assert exc.value.status is Status.INVALID_ATTRIBUTE_VALUE
