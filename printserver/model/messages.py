"""What the network layer hands the model, and what it gets back (plain values, no pynetdicom)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset

from printserver.status import Status

if TYPE_CHECKING:
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


@dataclass
class Response:
    status: Status
    dataset: Dataset | None = None
    #: Instance UID the SCP minted for an N-CREATE that carried none.
    created_instance_uid: str | None = None
    error_comment: str | None = None
    #: Which request or item the comment is about, for the log line.
    error_context: str = ""
    offending_elements: tuple[int, ...] = ()
    #: For 0107 warnings: the attributes ignored or unknown.
    attribute_identifiers: tuple[int, ...] = ()
    #: A film-box/film-session N-ACTION that prints hands back the snapshot to spool before answering.
    job: PrintJob | None = None
    notes: list[str] = field(default_factory=list)
