"""value_policy: a printer-defined value the printer does not know is replaced by its default with 0116 on a
lenient printer (the default) and recorded in the job; a strict printer refuses it with 0106; a wrong
standard enumerated value, or a malformed one, is refused by both."""

from __future__ import annotations

import pytest

from printserver import uids
from printserver.status import Status
from tests.model.modality import IMG, Modality, dataset, film_box_ds
from tests.printscu import image_box_dataset

SESSION_VALUES = [("MediumType", "PAPYRUS", "BLUE FILM", 0x20000030),
                  ("FilmDestination", "BIN_0", "MAGAZINE", 0x20000040),
                  ("FilmDestination", "SHELF", "MAGAZINE", 0x20000040)]


@pytest.mark.parametrize(("keyword", "sent", "used", "tag"), SESSION_VALUES)
def test_lenient_film_session_uses_the_default_warns_0116_and_records_it(keyword, sent, used, tag) -> None:
    m = Modality()
    rsp = m.n_create(dataset(**{keyword: sent}), uids.BASIC_FILM_SESSION, uids.new_uid())
    assert rsp.status is Status.ATTRIBUTE_VALUE_OUT_OF_RANGE and rsp.offending_elements == (tag,)
    assert rsp.error_comment == f"{keyword} '{sent}' is unknown to this printer: '{used}' used"
    assert rsp.dataset[keyword].value == used  # the echo says what is used
    m.session_uid = m.session.film_session.sop_instance_uid
    m.create_film_box()
    m.set_image(1)
    job = m.print_film_box().job
    assert job.session[keyword] == used
    assert job.findings == (f"Film Session N-CREATE: {rsp.error_comment}",)


@pytest.mark.parametrize(("keyword", "sent", "used", "tag"), SESSION_VALUES)
def test_strict_film_session_refuses_with_0106(keyword, sent, used, tag) -> None:
    m = Modality(value_policy="strict")
    rsp = m.n_create(dataset(**{keyword: sent}), uids.BASIC_FILM_SESSION, uids.new_uid())
    assert rsp.status is Status.INVALID_ATTRIBUTE_VALUE and rsp.offending_elements == (tag,)
    assert rsp.error_comment.startswith(f"{keyword} '{sent}' is not supported")
    m.still_prints()


def test_lenient_film_box_smoothing_none_prints_with_the_printer_default() -> None:
    m = Modality()
    m.create_session()
    rsp = m.create_film_box(SmoothingType="NONE", ConfigurationInformation="GAMMA 2.2")
    assert rsp.status is Status.ATTRIBUTE_VALUE_OUT_OF_RANGE and rsp.offending_elements == (0x20100080, 0x20100150)
    assert rsp.error_comment.startswith("SmoothingType 'NONE' is unknown to this printer: the printer's default used")
    assert "SmoothingType" not in rsp.dataset and "ConfigurationInformation" not in rsp.dataset  # defaults: empty
    assert m.set_image(1) == Status.SUCCESS
    job = m.print_film_box().job
    box = job.films[0].image_boxes[0]
    assert (box.smoothing_type, box.configuration_information, box.presentation_lut) == ("", "", None)
    assert len(job.findings) == 2 and job.findings[0].startswith("Film Box N-CREATE: SmoothingType 'NONE'")


def test_lenient_film_box_n_set_and_image_box_values_fall_back_and_are_recorded() -> None:
    m = Modality()
    m.create_session()
    m.create_film_box(SmoothingType="SHARP")
    rsp = m.n_set(dataset(SmoothingType="ULTRA"), uids.BASIC_FILM_BOX, m.film_box_uid)
    assert rsp.status is Status.ATTRIBUTE_VALUE_OUT_OF_RANGE
    image = image_box_dataset(1, IMG)
    image.SmoothingType = "NONE"
    rsp = m.n_set(image, uids.BASIC_GRAYSCALE_IMAGE_BOX, m.image_box_uids[0])
    assert rsp.status is Status.ATTRIBUTE_VALUE_OUT_OF_RANGE and rsp.offending_elements == (0x20100080,)
    assert "the film box's value used" in rsp.error_comment
    job = m.print_film_box().job
    assert job.films[0].image_boxes[0].smoothing_type == ""  # the film box's, itself the default after N-SET
    assert [f.split(":")[0] for f in job.findings] == ["Film Box N-SET", "Grayscale Image Box N-SET 1"]


@pytest.mark.parametrize("policy", ["lenient", "strict"])
@pytest.mark.parametrize(("cls", "attrs", "keyword"), [
    (uids.BASIC_FILM_SESSION, {"PrintPriority": "URGENT"}, "PrintPriority"),
    (uids.BASIC_FILM_SESSION, {"MediumType": ["PAPER", "BLUE FILM"]}, "MediumType"),
    (uids.BASIC_FILM_BOX, {"Trim": "MAYBE"}, "Trim"),
    (uids.BASIC_FILM_BOX, {"FilmOrientation": "SIDEWAYS"}, "FilmOrientation"),
    (uids.BASIC_FILM_BOX, {"MagnificationType": "SINC"}, "MagnificationType"),
])
def test_wrong_standard_values_stay_failures_in_both_policies(policy, cls, attrs, keyword) -> None:
    m = Modality(value_policy=policy)
    if cls == uids.BASIC_FILM_SESSION:
        rsp = m.n_create(dataset(**attrs), cls, uids.new_uid())
    else:
        m.create_session()
        rsp = m.n_create(film_box_ds(m.session_uid, ImageDisplayFormat="STANDARD\\1,1", **attrs), cls)
    assert rsp.status is Status.INVALID_ATTRIBUTE_VALUE and rsp.error_comment.startswith(keyword)


def test_the_findings_survive_the_spool_encoding_and_reach_the_job_record() -> None:
    from printserver.spool.records import JobRecord
    from printserver.spool.store import decode_job, encode_job

    m = Modality()
    m.create_session()
    m.create_film_box(SmoothingType="NONE")
    m.set_image(1)
    job = m.print_film_box().job
    back, _ = decode_job(b"".join(bytes(p) for p in encode_job(job, {})))
    assert back.findings == job.findings and len(job.findings) == 1
    assert JobRecord.for_job(job, "PRINTSCP").warnings == list(job.findings)  # `printserver jobs`, the console


def test_lenient_image_box_configuration_information_falls_back_to_the_film_box_curve() -> None:
    m = Modality()
    m.create_session()
    m.create_film_box("STANDARD\\2,1", ConfigurationInformation="CS004")
    assert m.set_image(1, IMG) == Status.SUCCESS
    image = image_box_dataset(2, IMG)
    image.ConfigurationInformation = "CONTRAST=HIGH"
    rsp = m.n_set(image, uids.BASIC_GRAYSCALE_IMAGE_BOX, m.image_box_uids[1])
    assert rsp.status is Status.ATTRIBUTE_VALUE_OUT_OF_RANGE and rsp.offending_elements == (0x20100150,)
    boxes = m.print_film_box().job.films[0].image_boxes
    assert [b.presentation_lut for b in boxes] == [{"gamma": 1.45}, {"gamma": 1.45}]  # CS004, the film box's
