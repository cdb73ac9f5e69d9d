"""Basic Annotation Box (PS3.4 H.4.5): text boxes a film box gets from its Annotation Display Format ID.

Annotation boxes exist only when the SCU negotiated the Basic Annotation Box SOP Class (H.4.2.2.1);
without it Annotation Display Format ID stays an ignored attribute (0107), as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from printserver.errors import PrintError
from printserver.model.attributes import FILM_BOX, Attr, U, _table, one_of, positive_int, text, validate
from printserver.model.attributes import M as REQUIRED
from printserver.model.common import pick_warning
from printserver.model.messages import Request, Response
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.session import PrintSession

log = logging.getLogger(__name__)

ANNOTATION_BOX = _table(
    Attr("AnnotationPosition", REQUIRED, positive_int),
    Attr("TextString", U, text(64)),  # LO: 64 characters, decoded with the Specific Character Set
)

#: Film Box N-CREATE on an association that negotiated Basic Annotation Box: the ID is honoured.
FILM_BOX_WITH_ANNOTATION = FILM_BOX | _table(
    Attr("AnnotationDisplayFormatID", U, one_of(lambda p: p.annotation_display_format_ids)),
)


@dataclass
class AnnotationBox:
    sop_instance_uid: str
    position: int
    text: str = ""


def set_(s: PrintSession, req: Request) -> Response:
    """Annotation Position in the data set decides where the text goes, among the film box's positions.

    DCMTK's print SCU sends its one annotation to the first annotation box of the Referenced Basic
    Annotation Box Sequence whatever its position (e.g. "Annotation = 2\\ANNOTATION"), so the
    position is honoured, not checked against the instance (logged when they differ).
    """
    where = "Annotation Box N-SET"
    box: AnnotationBox = s.lookup(req)
    v = validate(req.dataset, ANNOTATION_BOX, s.profile, where=where, creating=True)
    film_box = s.film_box_of(box)
    position = v.values["AnnotationPosition"]
    if not 1 <= position <= len(film_box.annotation_boxes):
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"AnnotationPosition {position} is not a position of Annotation Display Format "
                         f"{film_box.attributes.get('AnnotationDisplayFormatID')} "
                         f"(1..{len(film_box.annotation_boxes)})", 0x20300010, context=where)
    if position != box.position:
        log.info("%s: AnnotationPosition %d sent to the annotation box of position %d; text goes to %d",
                 where, position, box.position, position)
    film_box.annotation_boxes[position - 1].text = v.values.get("TextString", "")
    return Response(pick_warning(v.warnings), attribute_identifiers=tuple(v.ignored))
