"""Grayscale fidelity over real associations, measured as a QA physicist would: optical densities read
back from the PDF through the documented inverse, printed sizes in mm; Presentation LUT SOP Class."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.render.gsdf import p_to_density
from printserver.status import Status
from tests import pdfcheck
from tests.printscu import META, PrintSCU, image_box_dataset

STEPS = 16


def wedge(bits: int, steps: int = STEPS) -> tuple[np.ndarray, list[int]]:
    """A step wedge: one column per step (printed with REPLICATE), values spread over the full range."""
    top = (1 << bits) - 1
    values = [round(i * top / (steps - 1)) for i in range(steps)]
    return np.array([values] * 4, np.uint8 if bits == 8 else np.uint16), values


def step_centres(row: np.ndarray, steps: int = STEPS) -> list[int]:
    """Centres of the wedge's steps along a row, found as a QA reader would: from the step edges.

    The border differs from the first step, so the first edge is border -> step 1; the others are between steps.
    """
    edges = np.flatnonzero(np.abs(np.diff(row)) > 0.005)
    x0, width = edges[0] + 1, float(np.median(np.diff(edges)))
    return [int(x0 + (i + 0.5) * width) for i in range(steps)]


def step_ods(pdf, steps: int = STEPS) -> list[float]:
    """OD at the centre of each step of a 1x1 film's wedge (a 5x5 pixel spot each)."""
    od = pdfcheck.page_od(pdf)
    y = od.shape[0] // 2
    return [float(od[y - 2:y + 3, x - 2:x + 3].mean()) for x in step_centres(od[y], steps)]


def plut_scu(port: int) -> PrintSCU:
    return PrintSCU(port, contexts=[META, uids.PRESENTATION_LUT])


def create_plut(scu: PrintSCU, *, shape: str | None = None, table: list[int] | None = None, bits: int = 12,
                uid: str | None = None, comments: list[str] | None = None) -> tuple[int, str]:
    ds = Dataset()
    if shape is not None:
        ds.PresentationLUTShape = shape
    if table is not None:
        item = Dataset()
        item.add_new(0x00283002, "US", [len(table) % 65536, 0, bits])  # LUTDescriptor
        item.add_new(0x00283006, "US", table)  # LUTData
        ds.PresentationLUTSequence = Sequence([item])
    uid = uid or uids.new_uid()
    status, _ = scu.n_create(ds if len(ds) else None, uids.PRESENTATION_LUT, uid, meta=None)
    if comments is not None:
        comments.append(str(status.get("ErrorComment", "")))
    return int(status.Status), uid


def plut_ref(uid: str) -> Sequence:
    item = Dataset()
    item.ReferencedSOPClassUID = uids.PRESENTATION_LUT
    item.ReferencedSOPInstanceUID = uid
    return Sequence([item])


def set_box(scu: PrintSCU, position: int, pixels: np.ndarray, bits: int = 12, **attrs: Any) -> tuple[int, str]:
    ds = image_box_dataset(position, pixels, bits=bits)
    for k, v in attrs.items():
        setattr(ds, k, v)
    status, _ = scu.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, scu.image_box_uids[position - 1])
    return int(status.Status), str(status.get("ErrorComment", ""))


def ps314(values: list[int], bits: int, dmin: float = 0.20, dmax: float = 3.00, l0: float = 2000,
          la: float = 10) -> list[float]:
    return [float(d) for d in p_to_density(values, bits, min_density=dmin, max_density=dmax, illumination=l0,
                                           ambient=la)]


@pytest.mark.parametrize(("bits", "film_box"), [
    (8, {}),  # printer defaults: Dmin 0.20, Dmax 3.00, L0 2000, La 10
    (12, {"MinDensity": 15, "MaxDensity": 360, "Illumination": 3000, "ReflectedAmbientLight": 40}),
    (12, {"MinDensity": 25, "MaxDensity": 210, "Illumination": 150, "ReflectedAmbientLight": 0}),
])
def test_every_wedge_step_is_within_002_od_of_ps314(scp, bits: int, film_box: dict[str, int]) -> None:
    pixels, values = wedge(bits)
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        assert scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN", MagnificationType="REPLICATE",
                                   BorderDensity="WHITE", **film_box)[0] == Status.SUCCESS
        assert set_box(scu, 1, pixels, bits)[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    pdf = scp.wait_pdfs(1)[0]
    expected = ps314(values, bits, film_box.get("MinDensity", 20) / 100, film_box.get("MaxDensity", 300) / 100,
                     film_box.get("Illumination", 2000), film_box.get("ReflectedAmbientLight", 10))
    measured = step_ods(pdf)
    assert np.abs(np.array(measured) - expected).max() <= 0.02, list(zip(measured, expected, strict=True))


def test_image_box_min_max_density_override_the_film_box(scp) -> None:
    pixels, values = wedge(12)
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN", MagnificationType="REPLICATE",
                            BorderDensity="WHITE", MinDensity=30, MaxDensity=250)
        assert set_box(scu, 1, pixels, MinDensity=10, MaxDensity=320)[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    measured = step_ods(scp.wait_pdfs(1)[0])
    assert np.abs(np.array(measured) - ps314(values, 12, 0.10, 3.20)).max() <= 0.02


def test_requested_image_size_100_mm_measures_100_mm_on_the_page(scp) -> None:
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN", BorderDensity="WHITE")
        assert set_box(scu, 1, np.zeros((50, 64), np.uint16), RequestedImageSize="100")[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    pdf = scp.wait_pdfs(1)[0]
    od = pdfcheck.page_od(pdf)
    dark = np.argwhere(od > 2.9)
    width_px = dark[:, 1].max() - dark[:, 1].min() + 1
    height_px = dark[:, 0].max() - dark[:, 0].min() + 1
    page_w_mm = pdfcheck.page_sizes_mm(pdf)[0][0]
    mm_per_px = page_w_mm / od.shape[1]
    assert width_px * mm_per_px == pytest.approx(100, abs=0.5)
    assert height_px * mm_per_px == pytest.approx(100 * 50 / 64, abs=0.5)  # aspect kept


@pytest.mark.parametrize(("behavior", "status"), [
    (None, Status.IMAGE_DEMAGNIFIED), ("DECIMATE", Status.IMAGE_DECIMATED), ("CROP", Status.IMAGE_CROPPED),
])
def test_image_larger_than_its_box_is_decimated_or_cropped_with_a_warning(scp, behavior, status) -> None:
    attrs = {"RequestedImageSize": "300"} | ({"RequestedDecimateCropBehavior": behavior} if behavior else {})
    pixels = np.tile(np.array([0, 4095], np.uint16), (64, 32))  # fine stripes: cropping keeps their pitch
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\2,1", FilmSizeID="8INX10IN", BorderDensity="WHITE",
                            MagnificationType="REPLICATE")
        assert set_box(scu, 1, pixels, **attrs)[0] == status
        assert scu.print_film_box() == status  # and the Print says so too
    od = pdfcheck.page_od(scp.wait_pdfs(1)[0])
    left = od[:, : od.shape[1] // 2]
    dark = np.argwhere(left > 2.9)
    width_mm = (dark[:, 1].max() - dark[:, 1].min() + 1) * 25.4 / 300
    assert width_mm < 100  # never wider than its box (8 in wide film, two boxes)
    stripe_px = np.diff(np.flatnonzero(np.diff((left[left.shape[0] // 2] > 1.5).astype(int)))).mean()
    if behavior == "CROP":  # printed at the requested 300 mm / 64 columns scale: a stripe is ~4.7 mm wide
        assert stripe_px * 25.4 / 300 == pytest.approx(300 / 64, abs=0.2)
    else:  # shrunk to fit the box width
        assert stripe_px * 25.4 / 300 < 2


def test_fail_behavior_refuses_an_image_that_does_not_fit_with_c603(scp) -> None:
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\2,2", FilmSizeID="8INX10IN")
        status, comment = set_box(scu, 1, np.zeros((64, 64), np.uint16), RequestedImageSize="150",
                                  RequestedDecimateCropBehavior="FAIL")
        assert status == Status.IMAGE_LARGER_THAN_BOX and comment.startswith("RequestedDecimateCropBehavior")
        assert set_box(scu, 1, np.zeros((64, 64), np.uint16), RequestedImageSize="50",
                       RequestedDecimateCropBehavior="FAIL")[0] == Status.SUCCESS  # fits: printed as asked
        status, comment = set_box(scu, 2, np.zeros((8, 8), np.uint16), RequestedDecimateCropBehavior="SHRINK")
        assert status == Status.INVALID_ATTRIBUTE_VALUE and comment.startswith("RequestedDecimateCropBehavior")
        assert scu.print_film_box() == Status.SUCCESS


def test_presentation_lut_context_is_accepted_and_lin_od_is_linear_in_od(scp) -> None:
    pixels, values = wedge(12)
    with plut_scu(scp.port) as scu:
        assert {c.abstract_syntax for c in scu.assoc.accepted_contexts} == {META, uids.PRESENTATION_LUT}
        status, plut = create_plut(scu, shape="LIN OD")
        assert status == Status.SUCCESS
        scu.create_session()
        # BLACK border (= Max Density 2.80): the step edges show from the lightest step, 0.20 OD
        status, rsp = scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN", MagnificationType="REPLICATE",
                                          BorderDensity="BLACK", ReferencedPresentationLUTSequence=plut_ref(plut),
                                          MaxDensity=280)
        assert status == Status.SUCCESS
        assert rsp.ReferencedPresentationLUTSequence[0].ReferencedSOPInstanceUID == plut  # echoed as used
        assert set_box(scu, 1, pixels)[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    measured = np.array(step_ods(scp.wait_pdfs(1)[0]))
    expected = 0.20 + (2.80 - 0.20) * np.array(values) / 4095
    assert np.abs(measured - expected).max() <= 0.02


def test_image_box_presentation_lut_wins_over_the_film_box(scp) -> None:
    pixels, values = wedge(8)
    inverting = [255 - v for v in range(256)]
    with plut_scu(scp.port) as scu:
        _, lin_od = create_plut(scu, shape="LIN OD")
        status, table = create_plut(scu, table=[v * 4 for v in inverting], bits=10)
        assert status == Status.SUCCESS
        scu.create_session()
        scu.create_film_box("STANDARD\\2,1", FilmSizeID="8INX10IN", MagnificationType="REPLICATE",
                            BorderDensity="WHITE", ReferencedPresentationLUTSequence=plut_ref(lin_od))
        assert set_box(scu, 1, pixels, 8, ReferencedPresentationLUTSequence=plut_ref(table))[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
    od = pdfcheck.page_od(scp.wait_pdfs(1)[0])
    row = od[od.shape[0] // 2, : od.shape[1] // 2]
    centres = step_centres(row)
    expected = ps314([(255 - v) * 4 for v in values], 10)  # the table, 10-bit P-values, not LIN OD
    assert np.abs(row[centres] - expected).max() <= 0.02


def test_pre_cp173_film_session_reference_and_delete_rules(scp) -> None:
    with plut_scu(scp.port) as scu:
        _, plut = create_plut(scu, shape="LIN OD")
        session = Dataset()
        session.ReferencedPresentationLUTSequence = plut_ref(plut)
        session.Illumination, session.ReflectedAmbientLight = 150, 0  # pre-CP-173: on the session
        assert scu.create_session(session) == Status.SUCCESS
        scu.create_film_box("STANDARD\\1,1", FilmSizeID="8INX10IN")
        assert set_box(scu, 1, np.full((8, 8), 4095, np.uint16))[0] == Status.SUCCESS
        status = scu.assoc.send_n_delete(uids.PRESENTATION_LUT, plut, msg_id=90)
        assert int(status.Status) == Status.PROCESSING_FAILURE  # referenced by the film session
        assert "still referenced" in str(status.ErrorComment)
        assert scu.print_film_box() == Status.SUCCESS
        assert int(scu.assoc.send_n_delete(uids.BASIC_FILM_SESSION, scu.session_uid, meta_uid=META,
                                           msg_id=91).Status) == Status.SUCCESS
        assert int(scu.assoc.send_n_delete(uids.PRESENTATION_LUT, plut, msg_id=92).Status) == Status.SUCCESS
        assert int(scu.assoc.send_n_delete(uids.PRESENTATION_LUT, plut, msg_id=93).Status) == \
            Status.NO_SUCH_OBJECT_INSTANCE
    # LIN OD with 4095 = Max Density, on a 150 cd/m² reflective-like viewing (L0/La from the session)
    pdf = scp.wait_pdfs(1)[0]
    assert pdfcheck.od_at(pdf, 0.5, 0.5) == pytest.approx(3.00, abs=0.02)
    model = pdfcheck.grayscale_model(pdf)
    assert (model.illumination, model.reflected_ambient_light) == (150, 0)


@pytest.mark.parametrize(("kwargs", "status", "keyword"), [
    ({}, Status.MISSING_ATTRIBUTE, "PresentationLUTShape"),
    ({"shape": "GAMMA"}, Status.INVALID_ATTRIBUTE_VALUE, "PresentationLUTShape"),
    ({"shape": "IDENTITY", "table": list(range(256))}, Status.INVALID_ATTRIBUTE_VALUE, "PresentationLUTShape"),
    ({"table": list(range(300))}, Status.INVALID_ATTRIBUTE_VALUE, "LUTDescriptor"),
    ({"table": list(range(256)), "bits": 8}, Status.INVALID_ATTRIBUTE_VALUE, "LUTDescriptor"),
    ({"table": [2000] * 256, "bits": 10}, Status.INVALID_ATTRIBUTE_VALUE, "LUTData"),
])
def test_bad_presentation_luts_are_refused_naming_the_attribute(scp, kwargs, status, keyword) -> None:
    with plut_scu(scp.port) as scu:
        comments: list[str] = []
        assert create_plut(scu, **kwargs, comments=comments)[0] == status
        assert comments[0].startswith(keyword), comments
        # the association goes on: a good one is created after
        assert create_plut(scu, shape="IDENTITY")[0] == Status.SUCCESS


def test_unknown_presentation_lut_reference_is_0106_and_table_size_mismatch_when_required(scp_factory) -> None:
    server = scp_factory(presentation_lut_match_required=True)
    with plut_scu(server.port) as scu:
        scu.create_session()
        status, _ = scu.create_film_box("STANDARD\\1,1", ReferencedPresentationLUTSequence=plut_ref("1.2.3.4"))
        assert status == Status.INVALID_ATTRIBUTE_VALUE
        _, table = create_plut(scu, table=list(range(4096)), bits=12)
        assert scu.create_film_box("STANDARD\\1,2", ReferencedPresentationLUTSequence=plut_ref(table))[0] == 0
        status, comment = set_box(scu, 1, np.zeros((8, 8), np.uint8), 8)
        assert status == Status.INVALID_ATTRIBUTE_VALUE and comment.startswith("ReferencedPresentationLUTSequence")
        assert set_box(scu, 2, np.zeros((8, 8), np.uint16), 12)[0] == Status.SUCCESS


def test_configuration_information_selects_a_configured_curve(scp_factory) -> None:
    """On a strict printer an unknown curve is refused and the box keeps its image (a lenient one prints it
    with the film box's curve and 0116: tests/model/test_value_policy.py)."""
    scp = scp_factory(value_policy="strict")
    pixels = np.full((8, 8), 2048, np.uint16)
    with PrintSCU(scp.port) as scu:
        scu.create_session()
        scu.create_film_box("STANDARD\\3,1", FilmSizeID="8INX10IN")
        assert set_box(scu, 1, pixels)[0] == Status.SUCCESS
        assert set_box(scu, 2, pixels, ConfigurationInformation="CS000")[0] == Status.SUCCESS
        assert set_box(scu, 3, pixels, ConfigurationInformation="CS004")[0] == Status.SUCCESS
        status, comment = set_box(scu, 3, pixels, ConfigurationInformation="CONTRAST=HIGH")
        assert status == Status.INVALID_ATTRIBUTE_VALUE and comment.startswith("ConfigurationInformation")
        assert scu.print_film_box() == Status.SUCCESS
    pdf = scp.wait_pdfs(1)[0]
    plain, low, high = (pdfcheck.od_at(pdf, fx, 0.5) for fx in (1 / 6, 0.5, 5 / 6))
    assert plain == pytest.approx(ps314([2048], 12)[0], abs=0.02)
    top = 4095
    assert low == pytest.approx(ps314([round(top * (2048 / top) ** 0.7)], 12)[0], abs=0.02)
    assert high == pytest.approx(ps314([round(top * (2048 / top) ** 1.45)], 12)[0], abs=0.02)


def test_paper_prints_for_reflective_viewing_unless_the_scu_says_otherwise(scp) -> None:
    session = Dataset()
    session.MediumType = "PAPER"
    pixels, values = wedge(12)
    with PrintSCU(scp.port) as scu:
        assert scu.create_session(session) == Status.SUCCESS
        status, rsp = scu.create_film_box("STANDARD\\1,1", FilmSizeID="A4", MagnificationType="REPLICATE",
                                          BorderDensity="WHITE")
        assert status == Status.SUCCESS and (rsp.Illumination, rsp.ReflectedAmbientLight) == (150, 0)
        assert set_box(scu, 1, pixels)[0] == Status.SUCCESS
        assert scu.print_film_box() == Status.SUCCESS
        status, rsp = scu.create_film_box("STANDARD\\1,1", FilmSizeID="A4", Illumination=500)
        assert (rsp.Illumination, rsp.ReflectedAmbientLight) == (500, 0)  # the SCU's value wins
    measured = step_ods(scp.wait_pdfs(1)[0])
    assert np.abs(np.array(measured) - ps314(values, 12, l0=150, la=0)).max() <= 0.02
