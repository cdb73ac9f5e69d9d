"""The Print Job SOP instance (PS3.4 H.4.5): what N-GET and N-EVENT-REPORT say about a job.

Pure: the values come from the job's record (spool/records.py) as a plain mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

#: Print Job attributes this SCP reports (PS3.4 Table H.4-17).
PRINT_JOB_KEYWORDS = (
    "ExecutionStatus", "ExecutionStatusInfo", "PrintPriority", "CreationDate", "CreationTime", "PrinterName",
    "Originator",
)  # fmt: skip


def _values(record: Mapping[str, Any]) -> dict[str, str]:
    created = datetime.fromisoformat(str(record["created"]))
    return {
        "ExecutionStatus": str(record["execution_status"]),
        "ExecutionStatusInfo": str(record["execution_status_info"]),
        "PrintPriority": str(record["print_priority"]),
        "CreationDate": f"{created:%Y%m%d}",
        "CreationTime": f"{created:%H%M%S}",
        "PrinterName": str(record["printer_name"]),
        "Originator": str(record["originator"]),
    }


def print_job_attributes(record: Mapping[str, Any], identifiers: tuple[int, ...]) -> tuple[Dataset, list[int]]:
    """The requested attributes (all when the list is empty) and the tags this SCP does not know."""
    values = _values(record)
    wanted = [keyword_for_tag(t) for t in identifiers] if identifiers else list(PRINT_JOB_KEYWORDS)
    unknown = [t for t, kw in zip(identifiers, wanted, strict=False) if kw not in values]
    ds = Dataset()
    for kw in wanted:
        if kw in values:
            setattr(ds, kw, values[kw])
    return ds, unknown


def event_information(record: Mapping[str, Any]) -> Dataset:
    """Event Information of a Print Job N-EVENT-REPORT (PS3.4 Table H.4-18)."""
    ds = Dataset()
    ds.ExecutionStatusInfo = str(record["execution_status_info"])
    if record.get("film_session_label"):
        ds.FilmSessionLabel = str(record["film_session_label"])
    ds.PrinterName = str(record["printer_name"])
    return ds
