"""Which transfer syntax a film goes to the PACS in: lossless compression proposed in the admin's order,
the object encoded in the first one the PACS accepts, Explicit/Implicit VR Little Endian as the fallback.

A 14x17 film at 300 dpi is a 5100 x 4200 12-bit Secondary Capture, 43 MB uncompressed. Measured on one
(benchmarks/bench_archive.py, docs/archive.md): JPEG-LS lossless makes a real CT film 3.2 MB in ~0.5 s
(a white-noise phantom, the worst case, 11.6 MB in ~1 s), RLE 8.3 MB in ~1.2 s (20.8 MB), Deflate
(pynetdicom's zlib at level 6) 7.9 MB in ~2 s (18.7 MB in ~6.7 s). So the default proposes JPEG-LS,
then RLE, then uncompressed; Deflate only when asked (many viewers and dicom3tools cannot read it).
All are lossless: the PACS keeps the film's exact pixels.

Each compressed syntax gets a presentation context of its own (one transfer syntax each), so the PACS
accepts every one it can take and we choose by our order, not by the acceptor's. Encoders: JPEG-LS by
pyjpegls (CharLS), RLE by pylibjpeg-rle (pydicom's own RLE encoder needs ~50 s for one film); Deflate by
pynetdicom when it encodes the dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydicom.dataset import Dataset
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGLSLossless,
    RLELossless,
)

#: The names of `transfer_syntax` in the pacs table, in the default's order first.
SYNTAXES: dict[str, UID] = {"jpeg-ls": JPEGLSLossless, "rle": RLELossless, "deflate": DeflatedExplicitVRLittleEndian,
                            "explicit": ExplicitVRLittleEndian}
DEFAULT = ("jpeg-ls", "rle", "explicit")
#: Always proposed too, last: every SCP takes one of them (Implicit VR LE is DICOM's default).
UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
#: What is missing where an encoder is not installed (pip package names).
NEEDS = {"jpeg-ls": "pyjpegls", "rle": "pylibjpeg and pylibjpeg-rle"}


def missing_encoder(name: str) -> str | None:
    """The packages to install when `name` cannot be encoded here, else None."""
    if name == "jpeg-ls":
        from pydicom.pixels.encoders import JPEGLSLosslessEncoder

        return None if JPEGLSLosslessEncoder.is_available else NEEDS[name]
    if name == "rle":
        from pydicom.pixels.encoders import RLELosslessEncoder

        return None if "pylibjpeg" in RLELosslessEncoder.available_plugins else NEEDS[name]
    return None


def proposed(names: Sequence[str]) -> list[list[UID]]:
    """The transfer syntax lists to propose for an image class: one context per compressed syntax, in
    order, then one with both uncompressed ones (the acceptor picks Explicit where it can)."""
    return [[SYNTAXES[n]] for n in names if SYNTAXES[n] not in UNCOMPRESSED] + [list(UNCOMPRESSED)]


def choose(names: Sequence[str], accepted: Iterable[UID]) -> UID:
    """Our first choice among the syntaxes the PACS accepted for this class (uncompressed when none)."""
    taken = set(accepted)
    for name in names:
        if SYNTAXES[name] in taken:
            return SYNTAXES[name]
    return next((ts for ts in UNCOMPRESSED if ts in taken), ExplicitVRLittleEndian)


def encode(ds: Dataset, syntax: UID) -> Dataset:
    """`ds` (an uncompressed object with file meta) in `syntax`: compressed in place for JPEG-LS / RLE,
    only relabelled for Deflate (pynetdicom deflates while it encodes) and the uncompressed ones."""
    if syntax.is_encapsulated:
        # generate_instance_uid=False: pydicom mints a new SOP Instance UID by default, and a retried film must
        # keep its derived one (the PACS keeps one copy)
        ds.compress(syntax, encoding_plugin="pylibjpeg" if syntax == RLELossless else "", generate_instance_uid=False)
    else:
        ds.file_meta.TransferSyntaxUID = syntax
    return ds
