"""The Printer SOP instance (PS3.4 H.4.6): what N-GET reports, from the profile and the outputs' health.

Also the Printer Configuration Retrieval N-GET (its data lives in printer_configuration.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from printserver import uids
from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.model.messages import Request, Response
from printserver.model.printer_configuration import printer_configuration
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.session import PrintSession

log = logging.getLogger(__name__)

#: Printer attributes this SCP reports, in the order of PS3.4 Table H.4-19.
PRINTER_KEYWORDS = (
    "PrinterStatus", "PrinterStatusInfo", "PrinterName", "Manufacturer", "ManufacturerModelName",
    "DeviceSerialNumber", "SoftwareVersions", "DateOfLastCalibration", "TimeOfLastCalibration",
)  # fmt: skip


def _values(profile: PrinterProfile) -> dict[str, str]:
    from printserver import __version__

    return {
        "PrinterStatus": profile.printer_status,
        "PrinterStatusInfo": profile.printer_status_info,
        "PrinterName": profile.printer_name,
        "Manufacturer": profile.manufacturer,
        "ManufacturerModelName": profile.model_name,
        "DeviceSerialNumber": profile.serial_number,
        "SoftwareVersions": profile.software_versions or f"printserver {__version__}",
        "DateOfLastCalibration": profile.calibration_date,
        "TimeOfLastCalibration": profile.calibration_time,
    }


def printer_attributes(profile: PrinterProfile, identifiers: tuple[int, ...]) -> tuple[Dataset, list[int]]:
    """The requested attributes (all when the list is empty) and the tags this SCP does not know."""
    values = _values(profile)
    wanted = [keyword_for_tag(t) for t in identifiers] if identifiers else list(PRINTER_KEYWORDS)
    unknown = [t for t, kw in zip(identifiers, wanted, strict=False) if kw not in values]
    ds = Dataset()
    for kw in wanted:
        if kw in values:
            setattr(ds, kw, values[kw])  # empty values are sent zero-length (Type 2 style)
    return ds, unknown


#: Printer N-EVENT-REPORT Event Type IDs by Printer Status (PS3.4 H.4.6.1.1).
PRINTER_EVENT_TYPE_ID = {"NORMAL": 1, "WARNING": 2, "FAILURE": 3}


def printer_event_information(status: str, status_info: str, printer_name: str) -> Dataset | None:
    """Event Information of a Printer event: none for Normal; Printer Status Info and Name otherwise."""
    if status == "NORMAL":
        return None
    ds = Dataset()
    ds.PrinterStatusInfo = status_info
    ds.PrinterName = printer_name
    return ds


def attribute_list_response(ds: Dataset, unknown: list[int] | tuple[int, ...]) -> Response:
    """An N-GET answer: the attributes known; 0107 naming those that are not (PS3.7 C.4.2)."""
    return Response(Status.ATTRIBUTE_LIST_ERROR if unknown else Status.SUCCESS, ds,
                    attribute_identifiers=tuple(unknown),
                    error_comment="unsupported attributes ignored" if unknown else None)


def _well_known(req: Request, instance: str) -> None:
    if req.sop_instance_uid != instance:
        raise PrintError(Status.NO_SUCH_OBJECT_INSTANCE,
                         f"{uids.name(req.sop_class_uid)} instance must be the well-known {instance}, "
                         f"got {req.sop_instance_uid}")


def get(s: PrintSession, req: Request) -> Response:
    """Printer N-GET: the configured identity, with the status the outputs report (when a view is given)."""
    _well_known(req, uids.PRINTER_INSTANCE)
    profile = s.profile
    if s.health is not None:
        status, info, why = s.health.get(profile)
        if why and status != "NORMAL":
            log.info("printer %s reports %s/%s: %s", profile.ae_title, status, info, why)
        profile = replace(profile, printer_status=status, printer_status_info=info)
    ds, unknown = printer_attributes(profile, req.attribute_identifiers)
    return attribute_list_response(ds, unknown)


def get_configuration(s: PrintSession, req: Request) -> Response:
    _well_known(req, uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE)
    ds = printer_configuration(s.profile, s.layouts)
    return attribute_list_response(ds, [t for t in req.attribute_identifiers if t not in ds])
