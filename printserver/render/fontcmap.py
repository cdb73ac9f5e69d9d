"""Which code points a TrueType/OpenType font has glyphs for, read from its `cmap` table as ranges.

The annotation renderer picks a font per character. Reading only the table directory and `cmap`
(formats 4 and 12, the ones fonts for Unicode text carry) costs a few hundred kB; parsing the whole
font into a dict of every mapped character, as reportlab's TTFontFile did, cost a render worker
~20 MB of peak memory for the 4 MB CJK fallback font.
"""

from __future__ import annotations

import bisect
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: cmap subtables for Unicode, best first: (platform, encoding) — full repertoire, then the BMP
_UNICODE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


class Coverage:
    """Sorted, disjoint [first, last] code point ranges; `cp in coverage` by bisection."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        self.firsts = [r[0] for r in merged]
        self.lasts = [r[1] for r in merged]

    def __contains__(self, cp: object) -> bool:
        if not isinstance(cp, int):
            return False
        i = bisect.bisect_right(self.firsts, cp) - 1
        return i >= 0 and cp <= self.lasts[i]

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in zip(self.firsts, self.lasts, strict=True))


def _read(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise ValueError("truncated font file")
    return data


def _format4(fh: BinaryIO, at: int) -> list[tuple[int, int]]:
    length = struct.unpack(">H", _read(fh, at + 2, 2))[0]
    table = _read(fh, at, length)
    segs = struct.unpack(">H", table[6:8])[0] // 2
    words = np.frombuffer(table, ">u2", count=(length - 14) // 2, offset=14).astype(np.int64)
    ends, starts = words[:segs], words[segs + 1:2 * segs + 1]
    deltas, range_offsets = words[2 * segs + 1:3 * segs + 1], words[3 * segs + 1:4 * segs + 1]
    ranges = []
    for i in range(segs):
        first, last = int(starts[i]), int(ends[i])
        if first > last or first == 0xFFFF:
            continue
        codes = np.arange(first, last + 1)
        if range_offsets[i] == 0:
            glyphs = (codes + deltas[i]) & 0xFFFF
        else:  # idRangeOffset counts bytes from its own slot into glyphIdArray
            index = 3 * segs + 1 + i + range_offsets[i] // 2 + (codes - first)
            inside = index < len(words)
            glyphs = np.zeros_like(codes)
            glyphs[inside] = words[index[inside]]
            glyphs = np.where(glyphs != 0, (glyphs + deltas[i]) & 0xFFFF, 0)
        ranges += _runs(codes[glyphs != 0])
    return ranges


def _format12(fh: BinaryIO, at: int) -> list[tuple[int, int]]:
    groups = struct.unpack(">I", _read(fh, at + 12, 4))[0]
    triples = np.frombuffer(_read(fh, at + 16, 12 * groups), ">u4").reshape(groups, 3).astype(np.int64)
    ranges = []
    for first, last, glyph in triples:
        if glyph == 0:  # the first code maps to .notdef
            first += 1
        if first <= last:
            ranges.append((int(first), int(last)))
    return ranges


def _runs(codes: np.ndarray) -> list[tuple[int, int]]:
    if len(codes) == 0:
        return []
    breaks = np.flatnonzero(np.diff(codes) != 1)
    firsts = np.concatenate(([codes[0]], codes[breaks + 1]))
    lasts = np.concatenate((codes[breaks], [codes[-1]]))
    return [(int(a), int(b)) for a, b in zip(firsts, lasts, strict=True)]


def coverage(path: str | Path) -> Coverage:
    """The code points `path`'s best Unicode cmap subtable maps to a glyph (the first font of a collection)."""
    with open(path, "rb") as fh:
        base = 0
        if _read(fh, 0, 4) == b"ttcf":
            base = struct.unpack(">I", _read(fh, 12, 4))[0]
        tables = struct.unpack(">H", _read(fh, base + 4, 2))[0]
        directory = _read(fh, base + 12, 16 * tables)
        cmap = next((struct.unpack(">I", directory[i + 8:i + 12])[0] for i in range(0, len(directory), 16)
                     if directory[i:i + 4] == b"cmap"), None)
        if cmap is None:
            raise ValueError("no cmap table")
        count = struct.unpack(">H", _read(fh, cmap + 2, 2))[0]
        records = {}
        for i in range(count):
            platform, encoding, offset = struct.unpack(">HHI", _read(fh, cmap + 4 + 8 * i, 8))
            records.setdefault((platform, encoding), cmap + offset)
        for key in _UNICODE:
            if key in records:
                at = records[key]
                fmt = struct.unpack(">H", _read(fh, at, 2))[0]
                if fmt == 4:
                    return Coverage(_format4(fh, at))
                if fmt == 12:
                    return Coverage(_format12(fh, at))
        raise ValueError("no Unicode cmap subtable of format 4 or 12")
