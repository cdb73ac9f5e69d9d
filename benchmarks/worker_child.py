"""bench_film.py's render worker: a fresh process that imports what a real render worker imports (the
worker module), renders, and prints its peak RSS (JSON).

    python benchmarks/worker_child.py legacy|new IMAGE_FOLDER BITS OUT.pdf   compose a film, write one PDF
    python benchmarks/worker_child.py job JOB_FILE RENDITIONS_JSON          spool.worker.process_job of a
        spooled job, as a render worker runs it (previews + the renditions); the printserver imported
        is whatever comes first on PYTHONPATH (bench_film.py puts a baseline's export there)
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


def job(job_file: str, renditions: str) -> None:
    import time

    import printserver
    from printserver.spool.worker import process_job

    after_import = hwm()
    cpu = time.process_time()
    process_job(job_file, json.loads(renditions))
    print(json.dumps({"after_import_MB": after_import, "peak_MB": hwm(), "cpu_s": time.process_time() - cpu,
                      "printserver": printserver.__file__}))


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
    if sys.argv[1] == "job":
        job(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
