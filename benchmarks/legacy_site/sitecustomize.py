"""Benchmarks only: a printserver process started with this folder on PYTHONPATH (and its render
workers, spawned with the same environment) renders with the code path from before issue 12, so
bench_load.py measures its baseline in the same run: the reportlab + zlib writer
(benchmarks/legacy_pdf.py) and a GSDF table computed per image box (benchmarks/legacy_tone.py).
"""

import sys
from pathlib import Path


def write_pdf(path: Path, pages: list, *, pdf_bits: int = 16, **meta: object) -> None:
    import legacy_pdf

    legacy_pdf.write_pdf(path, pages, **meta)


# Not in multiprocessing's resource tracker (also a python of this environment): it renders nothing, and
# importing printserver there would add ~40 MB to the baseline's process tree that the new code has not.
if "resource_tracker" not in " ".join(sys.orig_argv):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import legacy_tone

    import printserver.render.compose as _compose
    import printserver.render.pdf as _pdf

    _pdf.write_pdf = write_pdf
    _compose.gray_lut = legacy_tone.gray_lut
