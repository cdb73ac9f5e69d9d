"""What a response asks net/ to do (effects) and what the read-only views bring in: the Print hand-off,
the Referenced Print Job Sequence, Printer N-GET from the outputs' health, Print Job N-GET from records."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from printserver import uids
from printserver.model.messages import SpoolJob, WatchPrintJob
from printserver.model.snapshot import REFERENCED_PRINT_JOB_SEQUENCE
from printserver.status import Status
from tests.model.modality import META, Modality


def printed(m: Modality, *, session: bool = False):
    m.create_session()
    m.create_film_box()
    m.set_image(1)
    return m.print_session() if session else m.print_film_box()


def test_print_hands_over_one_job_to_spool_with_the_film_box_queue_full_status() -> None:
    rsp = printed(Modality())
    assert rsp.status is Status.SUCCESS and rsp.dataset is None
    (effect,) = rsp.effects
    assert isinstance(effect, SpoolJob) and effect.queue_full is Status.PRINT_QUEUE_FULL_FILM_BOX
    assert effect.job is rsp.job and len(effect.job.films) == 1


def test_session_print_says_c601_if_the_queue_is_full_and_notes_boxes_left_out() -> None:
    m = Modality()
    m.create_session()
    m.create_film_box()
    m.set_image(1)
    m.create_film_box()  # a second, empty film box
    rsp = m.print_session()
    (effect,) = rsp.effects
    assert effect.queue_full is Status.PRINT_QUEUE_FULL_SESSION
    assert effect.notes == ("1 film box(es) without images not printed",) and len(effect.job.films) == 1


def test_with_print_job_negotiated_the_response_references_the_job_and_watches_it() -> None:
    rsp = printed(Modality(negotiated=frozenset({META, uids.PRINT_JOB})))
    watch, spool = rsp.effects
    assert watch == WatchPrintJob(spool.job.job_uid)
    (item,) = rsp.dataset[REFERENCED_PRINT_JOB_SEQUENCE].value
    assert (item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID) == (uids.PRINT_JOB, spool.job.job_uid)


def test_responses_are_frozen_values() -> None:
    rsp = printed(Modality())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rsp.status = Status.PROCESSING_FAILURE  # type: ignore[misc]


class Health:
    def __init__(self, result: tuple[str, str, str]) -> None:
        self.result = result
        self.asked: list[str] = []

    def get(self, profile):
        self.asked.append(profile.ae_title)
        return self.result


def test_printer_n_get_reports_the_outputs_health_not_just_the_configuration() -> None:
    health = Health(("FAILURE", "PRINTER DOWN", "output folder /x is not writable"))
    rsp = Modality(health=health).n_get([])
    assert (rsp.dataset.PrinterStatus, rsp.dataset.PrinterStatusInfo) == ("FAILURE", "PRINTER DOWN")
    assert health.asked == ["PRINTSCP"]
    assert Modality().n_get([]).dataset.PrinterStatus == "NORMAL"  # no view: the configured status


@dataclass
class Record:
    job_uid: str
    execution_status: str = "PRINTING"
    execution_status_info: str = "NORMAL"
    print_priority: str = "HIGH"
    created: str = "2026-12-01T01:02:03.000000+00:00"
    printer_name: str = "printserver"
    originator: str = "MODALITY"
    film_session_label: str = ""


class Records:
    def __init__(self, *records: Record) -> None:
        self.by_uid = {r.job_uid: r for r in records}

    def get(self, job_uid: str):
        return self.by_uid.get(job_uid)


def print_job_modality(*records: Record) -> Modality:
    return Modality(context=uids.PRINT_JOB, jobs=Records(*records))


def test_print_job_n_get_answers_from_the_job_record() -> None:
    m = print_job_modality(Record("1.2.3"))
    rsp = m.n_get([], uids.PRINT_JOB, "1.2.3")
    assert rsp.status is Status.SUCCESS
    ds = rsp.dataset
    assert (ds.ExecutionStatus, ds.ExecutionStatusInfo, ds.PrintPriority) == ("PRINTING", "NORMAL", "HIGH")
    assert (ds.CreationDate, ds.CreationTime, ds.Originator) == ("20261201", "010203", "MODALITY")


def test_print_job_n_get_of_an_unknown_job_is_0112_and_unknown_attributes_0107() -> None:
    m = print_job_modality(Record("1.2.3"))
    assert m.n_get([], uids.PRINT_JOB, "1.2.4").status is Status.NO_SUCH_OBJECT_INSTANCE
    rsp = m.n_get([0x21000020, 0x00100010], uids.PRINT_JOB, "1.2.3")
    assert rsp.status is Status.ATTRIBUTE_LIST_ERROR and rsp.attribute_identifiers == (0x00100010,)
    assert rsp.dataset.ExecutionStatus == "PRINTING"
    assert Modality(context=uids.PRINT_JOB).n_get([], uids.PRINT_JOB, "1.2.3").status is \
        Status.NO_SUCH_OBJECT_INSTANCE  # no records view: no job is known


def test_print_job_has_only_n_get() -> None:
    m = print_job_modality(Record("1.2.3"))
    assert m.n_delete(uids.PRINT_JOB, "1.2.3").status is Status.UNRECOGNIZED_OPERATION
