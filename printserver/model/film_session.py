"""Basic Film Session (PS3.4 H.4.1): N-CREATE, N-SET, N-ACTION Print (collation), N-DELETE."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from printserver import uids
from printserver.model import attributes as A
from printserver.model import presentation_lut
from printserver.model.common import (
    FILM_SESSION_ECHO,
    answer,
    dataset,
    findings,
    require_no_data,
    require_print_action,
)
from printserver.model.messages import Request, Response
from printserver.model.snapshot import print_response
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.film_box import FilmBox
    from printserver.model.session import PrintSession


@dataclass
class FilmSession:
    sop_instance_uid: str
    attributes: dict[str, Any]
    #: The presentation context it was created on: a meta class decides grayscale or color image boxes.
    context_sop_class_uid: str = ""
    film_boxes: list[FilmBox] = field(default_factory=list)
    #: Printer-defined values replaced on this session (lenient printers): carried into its print jobs.
    findings: list[str] = field(default_factory=list)


def create(s: PrintSession, req: Request) -> Response:
    uid = s.new_instance_uid(req)
    v = A.validate(req.dataset, A.FILM_SESSION, s.profile, where="Film Session N-CREATE", creating=True)
    presentation_lut.resolve_reference(s, v.values, "Film Session N-CREATE")
    s.film_session = FilmSession(uid, v.values, req.context_sop_class_uid,
                                 findings=findings(v, "Film Session N-CREATE"))
    s.instances[uid] = (uids.BASIC_FILM_SESSION, s.film_session)
    return answer(v, dataset(v.values, FILM_SESSION_ECHO), created_instance_uid=None if req.sop_instance_uid else uid)


def set_(s: PrintSession, req: Request) -> Response:
    session: FilmSession = s.lookup(req)
    v = A.validate(req.dataset, A.FILM_SESSION, s.profile, where="Film Session N-SET", creating=False,
                   settable=A.FILM_SESSION_SETTABLE)
    presentation_lut.resolve_reference(s, v.values, "Film Session N-SET")
    session.attributes.update(v.values)
    session.findings += findings(v, "Film Session N-SET")
    return answer(v, dataset(v.values, FILM_SESSION_ECHO))


def delete(s: PrintSession, req: Request) -> Response:
    s.lookup(req)
    require_no_data(req, "N-DELETE")
    # the session hierarchy goes; Presentation LUTs live on until the association ends (PS3.4 H.4.9)
    s.film_session = None
    s.instances = {uid: e for uid, e in s.instances.items() if e[0] == uids.PRESENTATION_LUT}
    return Response(Status.SUCCESS)


def print_(s: PrintSession, req: Request) -> Response:
    """Print every film box holding an image (collation); without film session printing only the one
    unprinted film box, answered B601."""
    session: FilmSession = s.lookup(req)
    require_print_action(req)
    if not s.profile.session_print:
        boxes = [b for b in session.film_boxes if not b.printed and b.has_image]
        status = Status.COLLATION_NOT_SUPPORTED
    else:
        boxes = [b for b in session.film_boxes if b.has_image]
        status = Status.SUCCESS
    if not boxes:
        return Response(Status.EMPTY_PAGE_FILM_SESSION,
                        error_comment="no film box of the session holds an image: nothing printed")
    released = sum(b.released for b in session.film_boxes)
    skipped = len(session.film_boxes) - len(boxes) - released
    notes = tuple(note for count, note in (
        (skipped, f"{skipped} film box(es) without images not printed"),
        (released, f"{released} film box(es) printed earlier and released (Maximum Collated Films "
                   f"{s.profile.max_collated_films}) not printed again"),
    ) if count)
    return print_response(s, session, boxes, [status], Status.PRINT_QUEUE_FULL_SESSION, notes)

