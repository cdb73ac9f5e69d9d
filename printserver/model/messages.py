"""What the network layer hands the model, and what it gets back: frozen values, no pynetdicom.

A Response says what to answer *and* what has to happen for that answer to be true (its effects):
the model decides, `net/` executes. The read-only views are how the outside world's state (the
outputs' health, the records of spooled jobs) reaches a decision without the model doing I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from pydicom.dataset import Dataset

from printserver.status import Status

if TYPE_CHECKING:
    from printserver.config import PrinterProfile
    from printserver.model.job import PrintJob


class Op(Enum):
    N_CREATE = "N-CREATE"
    N_SET = "N-SET"
    N_GET = "N-GET"
    N_ACTION = "N-ACTION"
    N_DELETE = "N-DELETE"


@dataclass(frozen=True)
class Request:
    """One DIMSE-N request as the model sees it."""

    op: Op
    sop_class_uid: str
    #: Affected (N-CREATE, may be None) or Requested SOP Instance UID.
    sop_instance_uid: str | None
    #: Abstract syntax of the presentation context the request came on (a meta or a component class).
    context_sop_class_uid: str
    dataset: Dataset | None = None
    action_type_id: int | None = None
    attribute_identifiers: tuple[int, ...] = ()
    #: Transfer syntax byte order: 8-bit pixels in OW are byte-swapped words on a big endian wire.
    little_endian: bool = True


# --- effects: what must happen for the response to be true -----------------------------------------


@dataclass(frozen=True)
class SpoolJob:
    """Store this job durably before answering; if the spool refuses, answer `queue_full` (C601/C602)
    when it is full, else 0110, and nothing else of the response happens."""

    job: PrintJob
    queue_full: Status
    #: Said in the log line of the accepted job (e.g. film boxes without images not printed).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchPrintJob:
    """Send this Print Job's N-EVENT-REPORTs over the requesting association (after the response)."""

    job_uid: str


Effect = SpoolJob | WatchPrintJob


@dataclass(frozen=True)
class Response:
    status: Status
    dataset: Dataset | None = None
    #: Instance UID the SCP minted for an N-CREATE that carried none.
    created_instance_uid: str | None = None
    error_comment: str | None = None
    #: Which request or item the comment is about, for the log line.
    error_context: str = ""
    #: The attribute(s) a warning or failure is about: Offending Element (0000,0901) on the wire.
    offending_elements: tuple[int, ...] = ()
    #: For 0107 warnings: the attributes ignored or unknown (Attribute Identifier List (0000,1005)).
    attribute_identifiers: tuple[int, ...] = ()
    effects: tuple[Effect, ...] = ()

    @property
    def job(self) -> PrintJob | None:
        """The print job a Print N-ACTION hands over (the SpoolJob effect's), if any."""
        return next((e.job for e in self.effects if isinstance(e, SpoolJob)), None)


# --- read-only views of the world the model may consult ---------------------------------------------


class PrinterHealth(Protocol):
    """The outputs' truth behind Printer Status (outputs.health.HealthCache is one)."""

    def get(self, profile: PrinterProfile) -> tuple[str, str, str]:
        """(Printer Status, Printer Status Info, why) of the printer `profile` describes."""
        ...


class PrintJobRecord(Protocol):
    """What Print Job N-GET reports of a spooled job (spool.records.JobRecord is one)."""

    @property
    def job_uid(self) -> str: ...

    @property
    def execution_status(self) -> str: ...

    @property
    def execution_status_info(self) -> str: ...

    @property
    def print_priority(self) -> str: ...

    @property
    def created(self) -> str: ...

    @property
    def printer_name(self) -> str: ...

    @property
    def originator(self) -> str: ...

    @property
    def film_session_label(self) -> str: ...


class PrintJobRecords(Protocol):
    """The records of the jobs this server has taken (spool.records.JobBook is one)."""

    def get(self, job_uid: str) -> PrintJobRecord | None: ...
