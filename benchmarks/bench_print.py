"""Print SCP benchmark (issue 2): DCMTK's SCU -> printserver vs -> dcmprscp, PDF writing, memory.

One 4x5 film of twenty 512x512 12-bit images on 14INX17IN at 300 dpi:
  (a) seconds per film with DCMTK's SCU at its defaults (Nagle on), to printserver and to dcmprscp
      in the same run, and their ratio; plus the time until the PDF is on disk (films/s, MB/s);
  (b) film raster -> PDF on disk against plain zlib level 1 of the same raster;
  (c) peak RSS of the server process and of its render workers.
Run:  .venv/bin/python benchmarks/bench_print.py [--films N]    (writes benchmarks/results/print.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "samples"))

from make_samples import phantom  # noqa: E402

from printserver.model.color import ColorImage  # noqa: E402
from printserver.model.pixels import GrayscaleImage  # noqa: E402
from printserver.model.spooled_job import FilmJob, ImageBoxJob  # noqa: E402
from printserver.render.compose import compose_film  # noqa: E402
from printserver.render.pdf import FilmPage, write_pdf  # noqa: E402
from tests.dcmtk import DcmprscpServer, DcmtkPrintScu, PrintOptions, write_test_image  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402

COLUMNS, ROWS, SIZE = 4, 5, 512
IMAGE_MB = COLUMNS * ROWS * SIZE * SIZE * 2 / 1e6


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def bench_network(work: Path, images: list[Path], films: int) -> dict[str, object]:
    options = PrintOptions(columns=COLUMNS, rows=ROWS, film_size="14INX17IN")
    results: dict[str, object] = {}
    with ServerProcess(work / "printserver") as server:
        scu = DcmtkPrintScu(work / "scu-ps", server.port, options=options)
        sp = scu.render(images)
        times, e2e = [], []
        for n in range(1, films + 1):
            start = time.perf_counter()
            r = scu.send(sp)
            assert r.ok, r.stdout + r.stderr
            times.append(r.elapsed)
            server.wait_drained(n, timeout=120)
            e2e.append(time.perf_counter() - start)
        results["printserver_s_per_film"] = statistics.median(times)
        results["printserver_s_per_film_to_pdf"] = statistics.median(e2e)
        results["printserver_films_per_s"] = 1 / statistics.median(e2e)
        results["printserver_MB_per_s"] = IMAGE_MB / statistics.median(times)
        pid = server.proc.pid
        results["server_peak_rss_MB"] = peak_rss_kb(pid) / 1024
        results["workers_peak_rss_MB"] = [round(peak_rss_kb(k) / 1024, 1) for k in children(pid)]
        results["pdf_size_MB"] = server.pdfs()[0].stat().st_size / 1e6
    with DcmprscpServer(work / "dcmprscp") as peer:
        scu = DcmtkPrintScu(work / "scu-dcm", peer.port, called_ae="DCMPRSCP", options=options)
        sp = scu.render(images)
        times = []
        for _ in range(films):
            r = scu.send(sp)
            assert r.ok, r.stdout + r.stderr
            times.append(r.elapsed)
        results["dcmprscp_s_per_film"] = statistics.median(times)
    results["ratio_printserver_to_dcmprscp"] = results["printserver_s_per_film"] / results["dcmprscp_s_per_film"]
    return results


def time_film(film: FilmJob, work: Path, prefix: str, repeat: int) -> dict[str, float]:
    """Compose once; then PDF writing against a plain zlib level 1 of the same raster (medians)."""
    t0 = time.perf_counter()
    raster = compose_film(film)
    compose_s = time.perf_counter() - t0
    pdf_times, zlib_times = [], []
    for i in range(repeat):
        t0 = time.perf_counter()
        write_pdf(work / f"{prefix}{i}.pdf", [FilmPage(raster, film.width_mm, film.height_mm)], title=prefix,
                  author=prefix, subject=prefix, keywords="", extra={})
        pdf_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        zlib.compress(raster.data, 1)
        zlib_times.append(time.perf_counter() - t0)
    pdf_s, zlib_s = statistics.median(pdf_times), statistics.median(zlib_times)
    return {"compose_s": compose_s, "pdf_write_s": pdf_s, "zlib1_s": zlib_s, "pdf_to_zlib_ratio": pdf_s / zlib_s,
            "raster_megapixels": raster.shape[0] * raster.shape[1] / 1e6}


def bench_pdf(images: list[np.ndarray], work: Path, repeat: int = 5) -> dict[str, object]:
    boxes = tuple(ImageBoxJob(i + 1, "NORMAL", "CUBIC", "", 20, 300, "", GrayscaleImage(img, 12, "MONOCHROME2"))
                  for i, img in enumerate(images))
    fb = {"ImageDisplayFormat": f"STANDARD\\{COLUMNS},{ROWS}", "BorderDensity": "BLACK", "EmptyImageDensity": "BLACK",
          "MinDensity": 20, "MaxDensity": 300, "Trim": "NO"}
    film = FilmJob(1, "1.2.3", fb, 355.6, 431.8, 300, 4.0, 2.0, boxes)
    # the same film in colour: twenty RGB images (each phantom in R, inverted in G, half in B)
    color_boxes = tuple(
        replace(box, image=ColorImage(np.stack([img >> 4, (4095 - img) >> 4, img >> 5], axis=-1).astype(np.uint8)))
        for box, img in zip(boxes, images, strict=True))
    color = time_film(replace(film, image_boxes=color_boxes), work, "c", repeat)
    color.pop("raster_megapixels")
    return {f"color_{k}": v for k, v in color.items()} | time_film(film, work, "b", repeat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=5, help="films per target (median reported)")
    args = parser.parse_args()
    arrays = [phantom(i) for i in range(COLUMNS * ROWS)]
    with tempfile.TemporaryDirectory(prefix="psbench-") as tmp:
        work = Path(tmp)
        (work / "img").mkdir()
        images = [write_test_image(work / "img" / f"{i:02d}.dcm", SIZE, SIZE, a) for i, a in enumerate(arrays)]
        results = {"machine": f"{os.cpu_count()} cores", "films": args.films}
        results |= bench_network(work, images, args.films)
        results |= bench_pdf(arrays, work)
    out = ROOT / "benchmarks" / "results" / "print.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key:34s} {value if not isinstance(value, float) else round(value, 3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
