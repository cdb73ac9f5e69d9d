"""A small ICC v2 RGB display profile (matrix/TRC), built here so no test depends on a system profile: with
Adobe RGB (1998)'s D50-adapted primaries and gamma 563/256 it converts exactly as ghostscript's a98.icc
does through littleCMS (checked: (0,200,0) -> sRGB (0,201,0), (180,120,60) -> (199,121,53))."""

from __future__ import annotations

import struct

#: D50-adapted colorants of Adobe RGB (1998)
ADOBE_RGB = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))
D50 = (0.9642, 1.0, 0.8249)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _curve(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc(text: str) -> bytes:
    ascii_ = text.encode() + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_ + struct.pack(">IIHB", 0, 0, 0, 0) + b"\0" * 67


def rgb_profile(name: str = "Adobe RGB (1998) primaries, test", primaries: tuple = ADOBE_RGB,
                gamma: float = 563 / 256) -> bytes:
    tags = [(b"desc", _desc(name)), (b"cprt", b"text\0\0\0\0public domain test profile\0"), (b"wtpt", _xyz(*D50)),
            (b"rXYZ", _xyz(*primaries[0])), (b"gXYZ", _xyz(*primaries[1])), (b"bXYZ", _xyz(*primaries[2])),
            (b"rTRC", _curve(gamma)), (b"gTRC", _curve(gamma)), (b"bTRC", _curve(gamma))]
    start = 128 + 4 + 12 * len(tags)
    entries, data = b"", b""
    for signature, body in tags:
        body += b"\0" * (-len(body) % 4)
        entries += struct.pack(">4sII", signature, start + len(data), len(body))
        data += body
    header = struct.pack(">I4sI4s4s4s6H4s", start + len(data), b"none", 0x02100000, b"mntr", b"RGB ", b"XYZ ",
                         2026, 12, 2, 0, 0, 0, b"acsp")
    header += b"\0" * (68 - len(header)) + _s15(D50[0]) + _s15(D50[1]) + _s15(D50[2])
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + entries + data
