"""bench_film.py's render worker: a fresh process that imports what a real render worker imports (the
worker module), loads a film's images, composes and writes it, and prints its peak RSS (JSON).

    python benchmarks/worker_child.py legacy|new IMAGE_FOLDER BITS OUT.pdf
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import printserver.spool.worker  # noqa: F401  (what a real render worker imports)
from printserver.render.compose import compose_film
from printserver.render.pdf import FilmPage, write_pdf


def hwm() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main(writer: str, folder: str, bits: int, out: str) -> None:
    after_import = hwm()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import films  # printserver.model only: the worker has imported it already

    images = [np.load(p) for p in sorted(Path(folder).glob("*.npy"))]
    raster = compose_film(films.film(images, annotated=True))
    after_compose = hwm()
    page = [FilmPage(raster, 355.6, 431.8)]
    meta = dict(title="bench", author="bench", subject="bench", keywords="", extra={})
    if writer == "legacy":
        import legacy_pdf

        legacy_pdf.write_pdf(Path(out), page, **meta)
    else:
        write_pdf(Path(out), page, **meta, pdf_bits=bits)
    print(json.dumps({"after_import_MB": after_import, "after_compose_MB": after_compose, "peak_MB": hwm()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
