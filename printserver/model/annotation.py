"""Basic Annotation Box (PS3.4 H.4.5): text boxes a film box gets from its Annotation Display Format ID.

Annotation boxes exist only when the SCU negotiated the Basic Annotation Box SOP Class (H.4.2.2.1);
without it Annotation Display Format ID stays an ignored attribute (0107), as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from printserver.model.attributes import FILM_BOX, Attr, U, _table, one_of, positive_int, text
from printserver.model.attributes import M as REQUIRED

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
