"""Presentation LUT SOP instances (PS3.4 H.4.9, digest §4.5): N-CREATE parsing and checks.

A Presentation LUT is either a shape (IDENTITY: inputs are P-values; LIN OD: inputs linear in
optical density) or a table (LUT Descriptor + LUT Data) mapping stored values to P-values. It lives
until N-DELETE or the end of the association, and is used by the film boxes, image boxes and (before
CP-173) film sessions that reference it; the renderer gets it as a plain dict (`as_job`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from printserver.config import PrinterProfile
from printserver.errors import PrintError
from printserver.model.attributes import Attr, Usage, one_of, validate
from printserver.status import Status

SHAPES = ("IDENTITY", "LIN OD")
#: LUT Descriptor number of entries the SCP accepts: one per value of an 8-bit or a 12-bit image.
TABLE_ENTRIES = (256, 4096)

PRESENTATION_LUT = {
    "PresentationLUTSequence": Attr("PresentationLUTSequence", Usage.SUPPORTED, None),
    "PresentationLUTShape": Attr("PresentationLUTShape", Usage.SUPPORTED, one_of(SHAPES)),
}

_SEQ_TAG, _SHAPE_TAG, _DESC_TAG, _DATA_TAG = 0x20500010, 0x20500020, 0x00283002, 0x00283006


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


def _words(value: Any, little_endian: bool) -> list[int]:
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
            raise PrintError(Status.MISSING_ATTRIBUTE, f"required attribute {keyword} is missing", tag,
                             context=f"{where} PresentationLUTSequence item")
    desc = _words(item["LUTDescriptor"].value, little_endian)
    if len(desc) != 3:
        raise _invalid("LUTDescriptor", f"has {len(desc)} values, must be 3", _DESC_TAG, where)
    entries, first, bits = desc[0] or 65536, desc[1], desc[2]
    if entries not in TABLE_ENTRIES:
        raise _invalid("LUTDescriptor", f"{entries} entries: must be 256 (8-bit) or 4096 (12-bit)", _DESC_TAG, where)
    if first != 0:
        raise _invalid("LUTDescriptor", f"first value mapped {first}: must be 0", _DESC_TAG, where)
    if not 10 <= bits <= 16:
        raise _invalid("LUTDescriptor", f"{bits} bits per entry: must be 10..16", _DESC_TAG, where)
    data = _words(item["LUTData"].value, little_endian)
    if len(data) < entries or len(data) > entries + 1:  # one pad word keeps an odd count even
        raise _invalid("LUTData", f"has {len(data)} entries, LUTDescriptor says {entries}", _DATA_TAG, where)
    data = data[:entries]
    if max(data) >= 1 << bits:
        raise _invalid("LUTData", f"value {max(data)} exceeds {bits} bits", _DATA_TAG, where)
    return PresentationLut(uid, bits=bits, data=tuple(data))
