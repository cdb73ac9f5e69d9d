"""Presentation LUT SOP instances (PS3.4 H.4.9, digest §4.5): N-CREATE parsing and checks.

A Presentation LUT is either a shape (IDENTITY: inputs are P-values; LIN OD: inputs linear in
optical density) or a table (LUT Descriptor + LUT Data) mapping stored values to P-values. It lives
until N-DELETE or the end of the association, and is used by the film boxes, image boxes and (before
CP-173) film sessions that reference it; the renderer gets it as a plain dict (`as_job`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataset import Dataset

from printserver import uids
from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.model.attributes import Attr, Usage, one_of, validate
from printserver.model.common import require_no_data
from printserver.model.messages import Request, Response
from printserver.status import Status

if TYPE_CHECKING:
    from printserver.model.session import PrintSession

log = logging.getLogger(__name__)

SHAPES = ("IDENTITY", "LIN OD")
#: LUT Descriptor number of entries the SCP accepts: one per value of an 8-bit or a 12-bit image.
TABLE_ENTRIES = (256, 4096)

PRESENTATION_LUT = {
    "PresentationLUTSequence": Attr("PresentationLUTSequence", Usage.SUPPORTED, None),
    "PresentationLUTShape": Attr("PresentationLUTShape", Usage.SUPPORTED, one_of(SHAPES)),
}

_SEQ_TAG, _SHAPE_TAG, _DESC_TAG, _DATA_TAG = 0x20500010, 0x20500020, 0x00283002, 0x00283006
_REFERENCE = 0x20500500  # Referenced Presentation LUT Sequence
REFERENCE = "ReferencedPresentationLUTSequence"


@dataclass(frozen=True)
class PresentationLut:
    sop_instance_uid: str
    shape: str | None = None
    #: Table: output bits (LUT Descriptor value 3) and the P-value for each input value.
    bits: int = 0
    data: tuple[int, ...] = ()

    @property
    def entries(self) -> int | None:
        """Input values the table covers (None for a shape: it fits any bit depth)."""
        return len(self.data) if self.shape is None else None

    def as_job(self) -> dict[str, Any]:
        """What the renderer needs (render.tone.stored_to_density), JSON-able for the spool."""
        if self.shape is not None:
            return {"shape": self.shape}
        return {"bits": self.bits, "data": list(self.data)}

    def describe(self) -> str:
        return self.shape or f"table of {len(self.data)} entries, {self.bits}-bit"


def us_words(value: Any, little_endian: bool = True) -> list[int]:
    """US values as pydicom gives them: an int, a list, or raw bytes (OW, or an ambiguous VR left undecoded)."""
    if isinstance(value, bytes | bytearray):
        return np.frombuffer(value[: len(value) // 2 * 2], "<u2" if little_endian else ">u2").tolist()
    if isinstance(value, int):
        return [value]
    return [int(v) for v in value]


def _invalid(keyword: str, why: str, tag: int, where: str) -> PrintError:
    return PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{keyword} {why}", tag, context=where)


def parse_presentation_lut(uid: str, ds: Dataset | None, profile: PrinterProfile, *, little_endian: bool,
                           where: str) -> PresentationLut:
    """Check an N-CREATE data set: exactly one of Shape and Sequence; a table of 256 or 4096 entries."""
    v = validate(ds, PRESENTATION_LUT, profile, where=where, creating=False)
    shape, seq = v.values.get("PresentationLUTShape"), v.values.get("PresentationLUTSequence")
    if shape is not None and seq is not None:
        raise _invalid("PresentationLUTShape", "and PresentationLUTSequence must not both be sent", _SHAPE_TAG, where)
    if shape is not None:
        return PresentationLut(uid, shape=shape)
    if seq is None:
        raise PrintError(Status.MISSING_ATTRIBUTE, "PresentationLUTShape or PresentationLUTSequence is required",
                         _SHAPE_TAG, context=where)
    if len(seq) != 1:
        raise _invalid("PresentationLUTSequence", f"has {len(seq)} items, exactly 1 allowed", _SEQ_TAG, where)
    item = seq[0]
    for keyword, tag in (("LUTDescriptor", _DESC_TAG), ("LUTData", _DATA_TAG)):
        if keyword not in item or item[keyword].is_empty:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{keyword} is required and missing", tag,
                             context=f"{where} PresentationLUTSequence item")
    desc = us_words(item["LUTDescriptor"].value, little_endian)
    if len(desc) != 3:
        raise _invalid("LUTDescriptor", f"has {len(desc)} values, must be 3", _DESC_TAG, where)
    entries, first, bits = desc[0] or 65536, desc[1], desc[2]
    if entries not in TABLE_ENTRIES:
        raise _invalid("LUTDescriptor", f"{entries} entries: must be 256 (8-bit) or 4096 (12-bit)", _DESC_TAG, where)
    if first != 0:
        raise _invalid("LUTDescriptor", f"first value mapped {first}: must be 0", _DESC_TAG, where)
    if not 10 <= bits <= 16:
        raise _invalid("LUTDescriptor", f"{bits} bits per entry: must be 10..16", _DESC_TAG, where)
    data = us_words(item["LUTData"].value, little_endian)
    if len(data) < entries or len(data) > entries + 1:  # one pad word keeps an odd count even
        raise _invalid("LUTData", f"has {len(data)} entries, LUTDescriptor says {entries}", _DATA_TAG, where)
    data = data[:entries]
    if max(data) >= 1 << bits:
        raise _invalid("LUTData", f"value {max(data)} exceeds {bits} bits", _DATA_TAG, where)
    return PresentationLut(uid, bits=bits, data=tuple(data))


# --- the SOP instance on an association -------------------------------------------------------------


def create(s: PrintSession, req: Request) -> Response:
    uid = s.new_instance_uid(req)
    plut = parse_presentation_lut(uid, req.dataset, s.profile, little_endian=req.little_endian,
                                  where="Presentation LUT N-CREATE")
    s.instances[uid] = (uids.PRESENTATION_LUT, plut)
    log.info("Presentation LUT %s created by %s: %s", uid, s.calling_ae, plut.describe())
    return Response(Status.SUCCESS, created_instance_uid=None if req.sop_instance_uid else uid)


def delete(s: PrintSession, req: Request) -> Response:
    plut: PresentationLut = s.lookup(req)
    require_no_data(req, "N-DELETE")
    users = _users(s, plut.sop_instance_uid)
    if users:
        raise PrintError(Status.PROCESSING_FAILURE,
                         f"still referenced by {users[0]}: Presentation LUT {plut.sop_instance_uid} not deleted")
    del s.instances[plut.sop_instance_uid]
    return Response(Status.SUCCESS)


def _users(s: PrintSession, uid: str) -> list[str]:
    session = s.film_session
    if session is None:
        return []
    users = ["the film session"] if session.attributes.get(REFERENCE) == uid else []
    for fb in session.film_boxes:
        if fb.attributes.get(REFERENCE) == uid:
            users.append(f"film box {fb.sop_instance_uid}")
        users += [f"image box {ib.position}" for ib in fb.image_boxes if ib.attributes.get(REFERENCE) == uid]
    return users


def resolve_reference(s: PrintSession, values: dict[str, Any], where: str) -> None:
    """Replace a Referenced Presentation LUT Sequence in `values` by the referenced instance's UID (checked)."""
    seq = values.get(REFERENCE)
    if seq is None:
        return
    item = seq[0] if len(seq) == 1 else None
    uid = str(item.get("ReferencedSOPInstanceUID", "")) if item is not None else ""
    cls = str(item.get("ReferencedSOPClassUID", "")) if item is not None else ""
    entry = s.instances.get(uid)
    if item is None or cls not in ("", uids.PRESENTATION_LUT) or entry is None or entry[0] != uids.PRESENTATION_LUT:
        why = (f"must hold 1 item, has {len(seq)}" if item is None
               else f"names {uid or '(no UID)'}, not a Presentation LUT of this association")
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{REFERENCE} {why}", _REFERENCE, context=where)
    values[REFERENCE] = uid


def in_force(s: PrintSession, image_box: dict[str, Any], film_box: dict[str, Any]) -> PresentationLut | None:
    """The Presentation LUT an image prints with: the image box's reference, else the film box's, else
    (pre-CP-173) the film session's; None: no Presentation LUT (Configuration Information decides)."""
    session = s.film_session.attributes if s.film_session is not None else {}
    uid = image_box.get(REFERENCE) or film_box.get(REFERENCE) or session.get(REFERENCE)
    entry = s.instances.get(uid) if uid else None
    return entry[1] if entry is not None and entry[0] == uids.PRESENTATION_LUT else None


def check_match(s: PrintSession, plut: PresentationLut | None, bits_stored: int, where: str) -> None:
    """With presentation_lut_match_required, a table must have one entry per stored value (DCMTK's rule)."""
    if plut is None or not s.profile.presentation_lut_match_required:
        return
    if plut.entries is not None and plut.entries != 1 << bits_stored:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"{REFERENCE}: LUT of {plut.entries} entries for a {bits_stored}-bit image",
                         _REFERENCE, context=where)
