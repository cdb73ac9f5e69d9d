"""The Printer SOP instance (PS3.4 H.4.6): what N-GET reports, from the printer profile."""

from __future__ import annotations

from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from printserver.config import PrinterProfile

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
