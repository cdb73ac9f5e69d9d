"""Data set rows straight from the encoded bytes: what a transcript shows of each DIMSE data set.

pydicom's `read_dataset` reads sequence items whole (its `defer_size` does not reach into sequences), so an
image box's pixel data would be copied just to be thrown away. This walker reads element headers, skips
long values (pixel data, LUT data, long text: summarised by their length, never dumped), and never raises:
a malformed rest is one row saying so.
"""

from __future__ import annotations

import struct
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag

#: Values longer than this are summarised by their length (pixel data, LUT data, long text).
MAX_VALUE_BYTES = 256
PIXEL_DATA = 0x7FE00010
ITEM, ITEM_DELIMITER, SEQUENCE_DELIMITER = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED_LENGTH = 0xFFFFFFFF
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"})
_NUMBERS = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "FL": "f", "FD": "d", "AT": "HH", "UV": "Q", "SV": "q"}
_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI",
                       "UR", "UT"})
Row = list[Any]  # [depth, tag or None, keyword, VR, value as text]


def dataset_rows(data: bytes, implicit_vr: bool, little_endian: bool) -> list[Row]:
    """The data set's elements as rows; never raises (a malformed rest is one row saying so)."""
    rows: list[Row] = []
    try:
        _walk(memoryview(data), 0, len(data), implicit_vr, "<" if little_endian else ">", 0, rows)
    except (struct.error, ValueError, IndexError) as exc:
        rows.append([0, None, "(not decodable)", "", f"{len(data)} bytes: {exc}"])
    return rows


def _walk(buf: memoryview, pos: int, end: int, implicit: bool, e: str, depth: int, rows: list[Row]) -> int:
    while pos + 8 <= end:
        group, element = struct.unpack_from(e + "HH", buf, pos)
        tag = (group << 16) | element
        if tag in (ITEM_DELIMITER, SEQUENCE_DELIMITER):
            return pos + 8
        if implicit:
            vr = _implicit_vr(tag)
            (length,) = struct.unpack_from(e + "L", buf, pos + 4)
            pos += 8
        else:
            vr = bytes(buf[pos + 4:pos + 6]).decode("ascii", "replace")
            if vr in _LONG_VRS:
                (length,) = struct.unpack_from(e + "L", buf, pos + 8)
                pos += 12
            else:
                (length,) = struct.unpack_from(e + "H", buf, pos + 6)
                pos += 8
        keyword = keyword_for_tag(tag) or f"({group:04X},{element:04X})"
        if vr == "SQ":
            row: Row = [depth, tag, keyword, "SQ", ""]
            rows.append(row)
            pos, items = _sequence(buf, pos, length, implicit, e, depth, rows)
            row[4] = f"{items} item{'s' if items != 1 else ''}"
            continue
        if length == UNDEFINED_LENGTH:  # encapsulated pixel data: its fragments, skipped
            start = pos
            pos, _ = _sequence(buf, pos, length, implicit, e, depth, [])
            rows.append([depth, tag, keyword, vr, f"encapsulated, {pos - start} bytes (not shown)"])
            continue
        rows.append([depth, tag, keyword, vr, _display(tag, vr, buf[pos:pos + length], e)])
        pos += length
    return pos


def _sequence(buf: memoryview, pos: int, length: int, implicit: bool, e: str, depth: int,
              rows: list[Row]) -> tuple[int, int]:
    end = len(buf) if length == UNDEFINED_LENGTH else min(len(buf), pos + length)
    items = 0
    while pos + 8 <= end:
        tag = (lambda g, el: (g << 16) | el)(*struct.unpack_from(e + "HH", buf, pos))
        (item_length,) = struct.unpack_from(e + "L", buf, pos + 4)
        pos += 8
        if tag == SEQUENCE_DELIMITER:
            return pos, items
        if tag != ITEM:
            raise ValueError(f"item tag expected at byte {pos - 8}")
        items += 1
        rows.append([depth + 1, None, f"item {items}", "", ""])
        if item_length == UNDEFINED_LENGTH:
            pos = _walk(buf, pos, end, implicit, e, depth + 1, rows)
        else:
            _walk(buf, pos, pos + item_length, implicit, e, depth + 1, rows)
            pos += item_length
    return pos, items


def _implicit_vr(tag: int) -> str:
    if tag & 0xFFFF == 0:
        return "UL"  # group length
    try:
        vrs = dictionary_VR(tag).split(" or ")
    except KeyError:
        return "UN"
    return "OW" if "OW" in vrs else vrs[0]  # implicit VR little endian: Pixel Data, LUT Data are OW


def _display(tag: int, vr: str, value: memoryview, e: str) -> str:
    n = len(value)
    if tag == PIXEL_DATA:
        return f"pixel data, {n} bytes (not shown)"
    if vr in _NUMBERS and n <= MAX_VALUE_BYTES:
        fmt = _NUMBERS[vr]
        size = struct.calcsize(e + fmt)
        values = [struct.unpack_from(e + fmt, value, i) for i in range(0, n - n % size, size)]
        if vr == "AT":
            return "\\".join(f"({g:04X},{el:04X})" for g, el in values)
        return "\\".join(f"{v[0]:g}" if isinstance(v[0], float) else str(v[0]) for v in values)
    if vr in _TEXT_VRS and n <= MAX_VALUE_BYTES:
        return bytes(value).decode("utf-8", "replace").rstrip("\x00 ")
    return f"{n} bytes (not shown)"
