"""The Print Job SOP instance (PS3.4 H.4.5): what N-GET and N-EVENT-REPORT say about a job.

Pure: the values come from the job's record through the read-only PrintJobRecords view.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from printserver.errors import PrintError
from printserver.model.messages import PrintJobRecord, Request, Response
from printserver.model.printer import attribute_list_response
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.session import PrintSession

#: Print Job attributes this SCP reports (PS3.4 Table H.4-17).
PRINT_JOB_KEYWORDS = (
    "ExecutionStatus", "ExecutionStatusInfo", "PrintPriority", "CreationDate", "CreationTime", "PrinterName",
    "Originator",
)  # fmt: skip


def _values(record: PrintJobRecord) -> dict[str, str]:
    created = datetime.fromisoformat(str(record.created))
    return {
        "ExecutionStatus": str(record.execution_status),
        "ExecutionStatusInfo": str(record.execution_status_info),
        "PrintPriority": str(record.print_priority),
        "CreationDate": f"{created:%Y%m%d}",
        "CreationTime": f"{created:%H%M%S}",
        "PrinterName": str(record.printer_name),
        "Originator": str(record.originator),
    }


def print_job_attributes(record: PrintJobRecord, identifiers: tuple[int, ...]) -> tuple[Dataset, list[int]]:
    """The requested attributes (all when the list is empty) and the tags this SCP does not know."""
    values = _values(record)
    wanted = [keyword_for_tag(t) for t in identifiers] if identifiers else list(PRINT_JOB_KEYWORDS)
    unknown = [t for t, kw in zip(identifiers, wanted, strict=False) if kw not in values]
    ds = Dataset()
    for kw in wanted:
        if kw in values:
            setattr(ds, kw, values[kw])
    return ds, unknown


def event_information(record: PrintJobRecord) -> Dataset:
    """Event Information of a Print Job N-EVENT-REPORT (PS3.4 Table H.4-18)."""
    ds = Dataset()
    ds.ExecutionStatusInfo = str(record.execution_status_info)
    if record.film_session_label:
        ds.FilmSessionLabel = str(record.film_session_label)
    ds.PrinterName = str(record.printer_name)
    return ds


def get(s: PrintSession, req: Request) -> Response:
    """N-GET Print Job: the job's state, from its record (PS3.4 H.4.5.1.3)."""
    record = s.jobs.get(req.sop_instance_uid or "") if s.jobs is not None else None
    if record is None:
        raise PrintError(Status.NO_SUCH_OBJECT_INSTANCE, f"Print Job {req.sop_instance_uid} is not known here")
    ds, unknown = print_job_attributes(record, req.attribute_identifiers)
    return attribute_list_response(ds, unknown)
