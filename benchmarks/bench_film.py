"""Film -> PDF benchmark (issue 12): encoders, sizes, a render worker's memory, the composer's profile.

For the `real` (a real CT slice, windowed 20 ways) and the `phantom` film (benchmarks/films.py), 4x5
on 14INX17IN at 300 dpi (5100x4200, 16-bit page gray), all in the same run:
  (a) PDF write (wall and CPU seconds; the PDF is fsynced, as the server does): the writer from before
      this issue (benchmarks/legacy_pdf.py: reportlab + zlib level 1),
      the new one at 16 and at 8 bits, against ISA-L level 1 and zlib level 1 of the raw raster
      alone (the floors); sizes; the new PDF decoded by pypdf must give the raster back bit for bit;
  (b) a render worker's peak RSS (benchmarks/worker_child.py: a fresh process importing the worker
      module, composing, writing), legacy and new writer; and a fresh worker running the real
      spool.worker.process_job on a spooled job (previews + true-size PDF, + the rasters of the PACS
      and relay outputs), the code of a git ref (--baseline, exported with `git archive`, first on
      PYTHONPATH) against this checkout, alternated, and this checkout with OPENBLAS_NUM_THREADS=1;
  (c) compose, before (a GSDF table per box) and now: wall and CPU seconds, and the share of
      magnification, GSDF mapping and annotation.
Run:  .venv/bin/python benchmarks/bench_film.py [--repeat 5] [--baseline REF]   (writes results/film.json)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from isal import isal_zlib  # noqa: E402

from printserver.render.compose import compose_film  # noqa: E402
from printserver.render.pdf import FilmPage, write_pdf  # noqa: E402
from printserver.render.pdfimage import encode_image  # noqa: E402

import films  # noqa: E402

META = dict(title="bench", author="bench", subject="bench", keywords="", extra={})


def median_time(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `fn()`."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def encoders(raster: np.ndarray, film, work: Path, repeat: int) -> dict[str, float]:
    import legacy_pdf
    from pypdf import PdfReader

    page = [FilmPage(raster, film.width_mm, film.height_mm)]
    out: dict[str, float] = {}
    raw = raster.data
    for name, fn in (("isal1_raw", lambda: isal_zlib.compress(raw, 1)), ("zlib1_raw", lambda: zlib.compress(raw, 1)),
                     ("encode16", lambda: b"".join(encode_image(raster, 16))),
                     ("encode8", lambda: b"".join(encode_image(raster, 8)))):
        out[f"{name}_s"], out[f"{name}_cpu_s"] = median_time(fn, repeat)
        out[f"{name}_MB"] = len(fn()) / 1e6
    cases = (("legacy", lambda p: legacy_pdf.write_pdf(p, page, **META)),
             ("new16", lambda p: write_pdf(p, page, **META)),
             ("new8", lambda p: write_pdf(p, page, **META, pdf_bits=8)))
    for name, fn in cases:
        path = work / f"{name}.pdf"
        out[f"pdf_{name}_s"], out[f"pdf_{name}_cpu_s"] = median_time(lambda fn=fn, path=path: fn(path), repeat)
        out[f"pdf_{name}_MB"] = path.stat().st_size / 1e6
    xobj = next(iter(PdfReader(work / "new16.pdf").pages[0]["/Resources"]["/XObject"].values())).get_object()
    decoded = np.frombuffer(xobj.get_data(), ">u2").reshape(raster.shape)
    out["new16_bit_exact"] = bool(np.array_equal(decoded, raster))
    # the floor: ISA-L level 1 of the raw raster, in CPU seconds (wall time on this shared machine is noise)
    out["encode16_to_isal1_cpu"] = out["encode16_cpu_s"] / out["isal1_raw_cpu_s"]
    out["pdf_new16_to_isal1_cpu"] = out["pdf_new16_cpu_s"] / out["isal1_raw_cpu_s"]
    out["pdf_new16_to_isal1_wall"] = out["pdf_new16_s"] / out["isal1_raw_s"]
    out["new16_to_legacy_size"] = out["pdf_new16_MB"] / out["pdf_legacy_MB"]
    out["new8_to_new16_size"] = out["pdf_new8_MB"] / out["pdf_new16_MB"]
    out["legacy_to_new16_cpu"] = out["pdf_legacy_cpu_s"] / out["pdf_new16_cpu_s"]
    return out


GROUPS = {  # profile entries -> composer stage
    "magnification": ("Image.py", "resize"), "gsdf_mapping": ("tone.py", "gray_lut"),
    "annotation": ("annotate.py", "draw_annotations"),
}


def compose_profile(film, repeat: int) -> dict[str, float]:
    import legacy_tone

    import printserver.render.compose as compose

    cached = compose.gray_lut
    compose.gray_lut = legacy_tone.gray_lut  # the composer before: a GSDF table per box
    try:
        legacy_wall, legacy_cpu = median_time(lambda: compose_film(film), repeat)
    finally:
        compose.gray_lut = cached
    wall, cpu = median_time(lambda: compose_film(film), repeat)
    profiler = cProfile.Profile()
    profiler.runcall(compose_film, film)
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    total = max(v[3] for k, v in stats.items() if k[2] == "compose_film")
    out = {"compose_legacy_s": legacy_wall, "compose_legacy_cpu_s": legacy_cpu, "compose_s": wall, "compose_cpu_s": cpu}
    for group, (file, func) in GROUPS.items():
        spent = sum(v[3] for k, v in stats.items() if k[0].endswith(file) and k[2] == func)
        out[f"compose_share_{group}"] = spent / total
    out["compose_share_rest"] = 1 - sum(out[f"compose_share_{g}"] for g in GROUPS)
    return out


def worker_memory(images: list[np.ndarray], work: Path) -> dict[str, float]:
    folder = work / "images"
    folder.mkdir(exist_ok=True)
    for i, img in enumerate(images):
        np.save(folder / f"{i:02d}.npy", img)
    out: dict[str, float] = {}
    for writer, bits in (("legacy", 16), ("new", 16), ("new", 8)):
        proc = subprocess.run([sys.executable, str(HERE / "worker_child.py"), writer, str(folder), str(bits),
                               str(work / "m.pdf")], capture_output=True, text=True, check=True, timeout=300)
        figures = json.loads(proc.stdout)
        name = writer if writer == "legacy" else f"{writer}{bits}"
        out[f"worker_{name}_peak_MB"] = figures["peak_MB"]
        out["worker_after_import_MB"] = figures["after_import_MB"]
        out["worker_after_compose_MB"] = figures["after_compose_MB"]
    return out


JOB_RENDITIONS = {"pdf": [{"kind": "pdf"}], "pdf+rasters": [{"kind": "pdf"}, {"kind": "rasters"}]}


def worker_jobs(images: list[np.ndarray], work: Path, baseline_ref: str) -> dict[str, object]:
    """Peak RSS and CPU of a fresh render worker running process_job on the real-CT job: baseline and new."""
    sys.path.insert(0, str(HERE.parent))
    from bench_load import export_baseline

    from printserver.model.spooled_job import PrintJob
    from printserver.spool.store import Spool

    baseline = work / "baseline-src"
    out: dict[str, object] = {"baseline_ref": baseline_ref, "baseline_commit": export_baseline(baseline_ref, baseline)}
    spool = Spool(work / "spool").open()
    job = PrintJob("2.25.7", "2026-12-01T10:00:00.000000+00:00", "BENCH", "PRINTSCP", "p", "1.2",
                   {"NumberOfCopies": 1}, (films.film(images, annotated=True),))
    path = spool.submit(job, {"printer": "P", "outputs": []})
    variants = {"baseline": {"PYTHONPATH": str(baseline)}, "new": {"PYTHONPATH": str(HERE.parent)},
                "new_openblas1": {"PYTHONPATH": str(HERE.parent), "OPENBLAS_NUM_THREADS": "1"}}
    for _ in range(2):  # alternated
        for variant, env in variants.items():
            for name, renditions in JOB_RENDITIONS.items():
                proc = subprocess.run([sys.executable, str(HERE / "worker_child.py"), "job", str(path),
                                       json.dumps(renditions)], capture_output=True, text=True, check=True,
                                      timeout=300, env=os.environ | env)
                figures = json.loads(proc.stdout.splitlines()[-1])
                expected = baseline if variant == "baseline" else HERE.parent
                assert figures.pop("printserver").startswith(str(expected)), "the variant's code did not run"
                for key, value in figures.items():
                    out.setdefault(f"job_{variant}_{name}_{key}", []).append(value)  # type: ignore[union-attr]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timings per figure (median reported)")
    parser.add_argument("--baseline", default="main", help="git ref of the worker jobs' baseline (default main)")
    parser.add_argument("--only-worker", action="store_true", help="only (b): the render workers' memory")
    args = parser.parse_args()
    results: dict[str, object] = {"machine": f"{os.cpu_count()} cores (how busy: the load averages)",
                                  "repeat": args.repeat, "load_average_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="psbench-") as tmp:
        work = Path(tmp)
        for which, images in (("real", films.real_ct()), ("phantom", films.phantoms())):
            if args.only_worker:
                if which == "real":
                    results["real"] = worker_memory(images, work) | worker_jobs(images, work, args.baseline)
                continue
            film = films.film(images, annotated=True)
            raster = compose_film(film)
            figures = compose_profile(film, args.repeat) | encoders(raster, film, work, args.repeat)
            if which == "real":
                figures |= worker_memory(images, work) | worker_jobs(images, work, args.baseline)
            results[which] = figures
    results["load_average_at_end"] = os.getloadavg()[0]
    out = HERE / "results" / ("film-worker.json" if args.only_worker else "film.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        if isinstance(value, dict):
            print(key)
            for k, v in value.items():
                print(f"  {k:32s} {round(v, 3) if isinstance(v, float) else v}")
        else:
            print(f"{key:34s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
