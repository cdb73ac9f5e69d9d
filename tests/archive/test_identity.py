"""Identity of a printed film, in memory: the documented order, the rules, the placeholder, the sources."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from printserver import uids
from printserver.archive.identity import (
    PLACEHOLDER_NAME,
    IdentityRule,
    job_identity,
    placeholder_patient_id,
    resolve_identity,
)
from printserver.status import Status
from tests.model.modality import Modality
from tests.printscu import image_box_dataset

CREATED = "2026-11-24T10:00:00.000000+00:00"


def resolve(items: list[tuple[str, dict[str, Any]]] | None = None, session: dict[str, Any] | None = None,
            annotations: list[tuple[int, str]] | None = None, rules: list[IdentityRule] | None = None,
            session_uid: str = "1.2.3"):  # type: ignore[no-untyped-def]
    return resolve_identity(item_attributes=items or [], session=session or {}, annotations=annotations or [],
                            rules=rules or [], called_ae="PRINTSCP", calling_ae="CT_1", created=CREATED,
                            film_session_uid=session_uid)


def test_nothing_carried_gives_an_obvious_placeholder_never_an_empty_patient_id() -> None:
    ident = resolve()
    assert ident.get("PatientID").startswith("NOPID-PRINTSCP-CT_1-20261124-")
    assert len(ident.get("PatientID")) <= 64
    assert ident.get("PatientName") == PLACEHOLDER_NAME
    assert ident.placeholder and ident.sources["PatientID"] == "placeholder"


def test_placeholder_is_stable_for_a_session_and_differs_between_sessions() -> None:
    assert resolve(session_uid="1.2.3").get("PatientID") == resolve(session_uid="1.2.3").get("PatientID")
    assert resolve(session_uid="1.2.3").get("PatientID") != resolve(session_uid="1.2.4").get("PatientID")
    odd = placeholder_patient_id("A B", "", CREATED, "9")
    assert odd.startswith("NOPID-A_B-NOAE-20261124-")


def test_image_box_items_come_first_and_say_which_box() -> None:
    items = [("film 1 image box 2", {"PatientID": "12345", "PatientName": "DOE^JANE", "AccessionNumber": "A77",
                                     "StudyInstanceUID": "1.2.840.99.1"})]
    rules = [IdentityRule("PatientID", "label", r"ID=(\d+)")]
    ident = resolve(items, {"FilmSessionLabel": "ID=999"}, rules=rules)
    assert ident.get("PatientID") == "12345" and ident.sources["PatientID"] == "film 1 image box 2"
    assert ident.get("StudyInstanceUID") == "1.2.840.99.1" and ident.get("AccessionNumber") == "A77"
    assert not ident.placeholder


def test_disagreeing_boxes_take_the_first_and_say_so() -> None:
    items = [("box 1", {"PatientID": "1"}), ("box 2", {"PatientID": "2"})]
    ident = resolve(items)
    assert ident.get("PatientID") == "1"
    assert any("disagree" in n and "PatientID" in n for n in ident.notes)


def test_rules_over_label_owner_and_annotation_positions_in_config_order() -> None:
    rules = [IdentityRule("PatientID", "annotation:2", r"MRN (?P<value>\w+)"),
             IdentityRule("PatientID", "label", r"(\d{6})"),
             IdentityRule("AccessionNumber", "owner", r"ACC-(\w+)"),
             IdentityRule("PatientName", "annotation", r"Name: (.+)$")]
    ident = resolve(session={"FilmSessionLabel": "CT 123456", "OwnerID": "ACC-X9"},
                    annotations=[(1, "MRN 777 on box 1"), (2, "MRN 888"), (3, "Name: DOE^JOHN")], rules=rules)
    assert ident.get("PatientID") == "888"
    assert ident.sources["PatientID"] == "rule 1 ('MRN (?P<value>\\\\w+)' on annotation position 2)"
    assert ident.get("AccessionNumber") == "X9" and "OwnerID" in ident.sources["AccessionNumber"]
    assert ident.get("PatientName") == "DOE^JOHN" and "annotation position 3" in ident.sources["PatientName"]
    # a later rule fills what an earlier one did not find
    ident = resolve(session={"FilmSessionLabel": "CT 123456"}, rules=rules)
    assert ident.get("PatientID") == "123456" and ident.sources["PatientID"].startswith("rule 2")


def test_invalid_values_are_ignored_with_a_note_not_sent() -> None:
    items = [("box 1", {"StudyInstanceUID": "1.02.x", "PatientSex": "male", "PatientBirthDate": "1.1.1970",
                        "AccessionNumber": "X" * 17, "PatientID": "A\\B"})]
    ident = resolve(items)
    for keyword in ("StudyInstanceUID", "PatientSex", "PatientBirthDate", "AccessionNumber"):
        assert keyword not in ident.values
        assert any(n.startswith(keyword) for n in ident.notes), keyword
    assert ident.placeholder  # the bad Patient ID did not count


def test_label_and_owner_are_the_plain_defaults() -> None:
    ident = resolve(session={"FilmSessionLabel": "Thorax PA", "OwnerID": "tech7"})
    assert ident.get("StudyDescription") == "Thorax PA" and ident.sources["StudyDescription"] == "FilmSessionLabel"
    assert ident.get("OperatorsName") == "tech7"


def test_a_real_id_without_a_name_keeps_the_name_empty() -> None:
    ident = resolve([("box 1", {"PatientID": "55"})])
    assert "PatientName" not in ident.values


@pytest.mark.parametrize(("rule", "key"), [
    (IdentityRule("PatientAge", "label", "x"), "r.attribute"),
    (IdentityRule("PatientID", "title", "x"), "r.source"),
    (IdentityRule("PatientID", "label:2", "x"), "r.source"),
    (IdentityRule("PatientID", "label", "("), "r.pattern"),
])
def test_rule_check_names_the_key(rule: IdentityRule, key: str) -> None:
    why = rule.check("r")
    assert why is not None and why.startswith(key)
    assert IdentityRule("PatientID", "annotation:3", r"(\d+)").check("r") is None


def test_the_model_keeps_what_the_modality_put_into_the_image_item_and_the_job_is_filed_under_it() -> None:
    modality = Modality()
    assert modality.create_session() == Status.SUCCESS
    assert modality.create_film_box("STANDARD\\2,1").status == Status.SUCCESS
    ds = image_box_dataset(2, np.full((8, 8), 7, np.uint16))
    item = ds.BasicGrayscaleImageSequence[0]
    item.PatientName, item.PatientID, item.AccessionNumber = "DOE^JANE", "12345", "A77"
    item.StudyInstanceUID = "1.2.840.99.1"
    item.OtherPatientIDs = "not kept"
    assert modality.n_set(ds, uids.BASIC_GRAYSCALE_IMAGE_BOX, modality.image_box_uids[1]).status is Status.SUCCESS
    job = modality.print_film_box().job
    assert job is not None
    assert job.films[0].image_boxes[1].source_attributes == {
        "PatientName": "DOE^JANE", "PatientID": "12345", "AccessionNumber": "A77", "StudyInstanceUID": "1.2.840.99.1"}
    assert job.films[0].image_boxes[0].source_attributes == {}
    ident = job_identity(job)
    assert ident.get("PatientID") == "12345" and ident.sources["PatientID"] == "film 1 image box 2"
