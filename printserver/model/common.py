"""What the object modules share: one status per response, echoed data sets, the N-ACTION/N-DELETE preludes."""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import uids
from printserver.errors import PrintError
from printserver.model import attributes as A
from printserver.model.messages import Request, Response
from printserver.status import Status

PRINT_ACTION = 1  # Action Type ID of Print (PS3.4 H.4.1.2.4, H.4.2.2.4)

#: Film box attributes echoed in N-CREATE / N-SET responses (the values actually used).
FILM_BOX_ECHO = (
    "ImageDisplayFormat", "FilmOrientation", "FilmSizeID", "MagnificationType", "SmoothingType",
    "BorderDensity", "EmptyImageDensity", "MinDensity", "MaxDensity", "Trim", "ConfigurationInformation",
    "RequestedResolutionID", "Illumination", "ReflectedAmbientLight", "AnnotationDisplayFormatID",
)  # fmt: skip
FILM_SESSION_ECHO = (
    "NumberOfCopies", "PrintPriority", "MediumType", "FilmDestination", "FilmSessionLabel", "OwnerID",
)  # fmt: skip


def pick_warning(warnings: list[Status]) -> Status:
    """One status per response: a print-specific warning outranks the generic attribute-list one."""
    specific = [w for w in warnings if w >= 0xB000]
    if specific:
        return specific[0]
    return warnings[0] if warnings else Status.SUCCESS


def answer(v: A.Validated, ds: Dataset | None = None, *, warnings: list[Status] | None = None,
           created_instance_uid: str | None = None) -> Response:
    """The response to a validated request: one status, the attributes ignored (0107), and the values replaced
    (0116) or adjusted (B605 clipped, B600) named in the comment and as Offending Element, the ones the
    status is about first."""
    status = pick_warning(v.warnings if warnings is None else warnings)
    named = [(s.tag, s.describe()) for s in v.substitutions]
    named = named + v.adjusted if status is Status.ATTRIBUTE_VALUE_OUT_OF_RANGE else v.adjusted + named
    return Response(status, ds, created_instance_uid=created_instance_uid,
                    error_comment="; ".join(text for _, text in named) or None,
                    offending_elements=tuple(tag for tag, _ in named), attribute_identifiers=tuple(v.ignored))


def findings(v: A.Validated, where: str) -> list[str]:
    """What the QA console is told of a request that printed anyway: the values replaced."""
    return [f"{where}: {s.describe()}" for s in v.substitutions]


def dataset(values: dict[str, Any], keywords: tuple[str, ...]) -> Dataset:
    """The values in use for `keywords`, as an echo data set (empty values left out)."""
    ds = Dataset()
    for kw in keywords:
        value = values.get(kw)
        if value is not None and value != "":
            setattr(ds, kw, value)
    return ds


def references(sop_class: str, instance_uids: list[str]) -> Sequence:
    items = []
    for uid in instance_uids:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = uid
        items.append(item)
    return Sequence(items)


def echo_plut_reference(ds: Dataset, values: dict[str, Any]) -> None:
    """The Referenced Presentation LUT Sequence in use, as the SCU sent it (values hold the UID)."""
    uid = values.get("ReferencedPresentationLUTSequence")
    if uid:
        ds.ReferencedPresentationLUTSequence = references(uids.PRESENTATION_LUT, [uid])


def require_no_data(req: Request, what: str) -> None:
    if req.dataset is not None and len(req.dataset):
        first = next(iter(req.dataset)).tag
        raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"{what} takes no attributes, got {A.tag_name(first)}", first)


def require_print_action(req: Request) -> None:
    if req.action_type_id != PRINT_ACTION:
        raise PrintError(Status.NO_SUCH_ACTION_TYPE,
                         f"Action Type ID {req.action_type_id} is not defined; only 1 (Print) is")
    require_no_data(req, "N-ACTION Print")
