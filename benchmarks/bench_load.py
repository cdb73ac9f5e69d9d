"""Sustained-load benchmark (issue 12): K concurrent DCMTK SCUs each printing F 4x5 films on 14INX17IN.

The film is the `real` one of benchmarks/films.py (a real CT slice windowed twenty ways, 512x512
12-bit). Each variant runs against its own `printserver serve` (2 render workers, the default) in
the same run, alternating (the order flips every round, so the other engineers' load hits both):
`baseline` = the server of a git ref (--baseline, exported with `git archive` and put first on
PYTHONPATH), `new` = this checkout, `legacy` = the code path before issue 12 (benchmarks/legacy_site).
Per variant and round:
  - saturated: every SCU sends its F films back to back (one dcmprscu, one association per film);
    films/hour = films / (first association -> last PDF on disk);
  - paced: the same films offered at --rate films/hour in all (default the 12,000 goal), spread over
    the K SCUs; Success -> PDF latency (median, p95) is meaningful only when the server keeps up;
  - latency of a film: its N-ACTION time (the PDF's DICOMPrintTime, stamped when Success is sent)
    to the PDF's ctime (delivery links and renames it into the folder: the moment it is there, complete);
  - peak summed RSS of the server's process tree (sampled every 50 ms) and each process's VmHWM;
  - CPU seconds per film of the server tree (server + render workers) and of the SCUs: less
    sensitive than wall time to the other engineers' test runs sharing the 2 cores;
  - the load average (1 min) when the run starts and ends.
Run:  .venv/bin/python benchmarks/bench_load.py [--baseline REF] [--variants baseline,new] [--scus 4]
      [--films 20] [--rounds 2] [--out results/load.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tests import pdfcheck  # noqa: E402
from tests.dcmtk import DcmtkPrintScu, PrintOptions, write_test_image  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402

import films  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    found, frontier = [pid], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int, children_too: bool) -> float:
    """utime + stime (and, for the server, its reaped children's) in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children_too else 0)
    return ticks / TICK


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of the server process (with reaped children) and of its live descendants (render workers)."""
    return cpu_seconds(pid, True), sum(cpu_seconds(p, False) for p in tree(pid) if p != pid)


def pss_kb(pid: int) -> int:
    """Proportional set size: shared library pages split between the processes that map them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Peaks of the summed RSS and PSS of a process tree, sampled every 50 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.peak_pss_kb, self._stop_event = pid, 0, 0, threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            pids = tree(self.pid)
            self.peak_kb = max(self.peak_kb, sum(status_kb(p, "VmRSS") for p in pids))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(pss_kb(p) for p in pids))

    def stop(self) -> tuple[float, float]:
        self._stop_event.set()
        self.join(5)
        return self.peak_kb / 1024, self.peak_pss_kb / 1024


def latencies(pdfs: list[Path]) -> list[float]:
    out = []
    for pdf in pdfs:
        accepted = datetime.fromisoformat(pdfcheck.metadata(pdf)["DICOMPrintTime"]).timestamp()
        out.append(pdf.stat().st_ctime - accepted)  # ctime: linked/renamed into the folder (delivered)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def scu_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def export_baseline(ref: str, target: Path) -> str:
    """The printserver of git `ref` (this repository) as plain files in `target`; its commit id."""
    commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", commit], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return commit


def variant_path(variant: str, baseline: Path | None) -> str | None:
    """What goes first on PYTHONPATH for a variant's server (and its render workers)."""
    if variant == "legacy":
        return str(HERE / "legacy_site")
    if variant == "baseline":
        assert baseline is not None
        return str(baseline)
    return None


def run(variant: str, mode: str, work: Path, images: list[Path], scus: int, films_each: int,
        rate: float, baseline: Path | None = None) -> dict[str, object]:
    """One server, K SCUs; returns its figures. PDFs are deleted afterwards (disk)."""
    base = work / f"{variant}-{mode}"
    env_before = os.environ.get("PYTHONPATH")
    first = variant_path(variant, baseline)
    if first is not None:
        os.environ["PYTHONPATH"] = first + (os.pathsep + env_before if env_before else "")
    try:
        where = subprocess.run([sys.executable, "-c", "import printserver; print(printserver.__file__)"],
                               capture_output=True, text=True, check=True, cwd=work).stdout.strip()  # as the server
        expected = baseline if variant == "baseline" else HERE.parent
        assert Path(where).is_relative_to(expected), (variant, where)  # the variant's code really runs
        server = ServerProcess(base).start(timeout=60)
    finally:
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before
    try:
        options = PrintOptions(columns=films.COLUMNS, rows=films.ROWS, film_size="14INX17IN")
        clients = [DcmtkPrintScu(base / f"scu{i}", server.port, options=options, timeout=900,
                                 calling_ae=f"SCU{i}") for i in range(scus)]
        prints = [c.render(images) for c in clients]
        total = scus * films_each
        assert server.proc is not None
        pid = server.proc.pid
        sampler = RssSampler(pid)
        sampler.start()
        cpu0, scu0 = tree_cpu(pid), scu_cpu()
        load_start = os.getloadavg()[0]
        failures: list[str] = []

        def saturate(client: DcmtkPrintScu, sp: Path) -> None:
            r = client.send([sp] * films_each)
            if not r.ok:
                failures.append(r.stdout[-500:] + r.stderr[-500:])

        def paced(client: DcmtkPrintScu, sp: Path, offset: float, start: float) -> None:
            interval = scus * 3600 / rate
            for n in range(films_each):
                delay = start + offset + n * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                r = client.send(sp)
                if not r.ok:
                    failures.append(r.stdout[-500:] + r.stderr[-500:])

        start = time.monotonic()
        t0 = time.time()
        if mode == "saturated":
            threads = [threading.Thread(target=saturate, args=(c, sp)) for c, sp in zip(clients, prints, strict=True)]
        else:
            threads = [threading.Thread(target=paced, args=(c, sp, i * 3600 / rate, start))
                       for i, (c, sp) in enumerate(zip(clients, prints, strict=True))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(1200)
        scu_cpu_s = scu_cpu() - scu0
        pdfs = server.wait_drained(total, timeout=1200)
        elapsed = max(p.stat().st_ctime for p in pdfs) - t0
        cpu1 = tree_cpu(pid)
        peak_tree, peak_pss = sampler.stop()
        hwm = {str(p): round(status_kb(p, "VmHWM") / 1024, 1) for p in tree(pid)}
        lat = latencies(pdfs)
        producer = pdfcheck.metadata(pdfs[0]).get("Producer", "")
        assert ("ReportLab" in producer) == (variant == "legacy"), producer  # the variant really ran
        assert not failures, failures[0]
        return {
            "films": len(pdfs), "elapsed_s": elapsed, "films_per_hour": len(pdfs) * 3600 / elapsed,
            "latency_median_s": statistics.median(lat), "latency_p95_s": p95(lat), "latency_max_s": max(lat),
            "peak_tree_rss_MB": peak_tree, "peak_tree_pss_MB": peak_pss, "server_rss_hwm_MB": hwm.pop(str(pid)),
            "other_processes_hwm_MB": sorted(hwm.values(), reverse=True),
            "tree_cpu_s_per_film": (sum(cpu1) - sum(cpu0)) / len(pdfs),
            "server_process_cpu_s_per_film": (cpu1[0] - cpu0[0]) / len(pdfs),
            "render_workers_cpu_s_per_film": (cpu1[1] - cpu0[1]) / len(pdfs),
            "scu_cpu_s_per_film": scu_cpu_s / len(pdfs),
            "pdf_MB": statistics.median(p.stat().st_size for p in pdfs) / 1e6,
            "load_average_start": load_start, "load_average": os.getloadavg()[0],
        }
    finally:
        server.stop()
        server.kill()
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scus", type=int, default=4)
    parser.add_argument("--films", type=int, default=20, help="films per SCU")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=float, default=12000, help="paced mode: films/hour offered in all")
    parser.add_argument("--baseline", default="main", help="git ref of the baseline variant (default main)")
    parser.add_argument("--variants", default="baseline,new", help="comma-separated: baseline, new, legacy")
    parser.add_argument("--modes", default="saturated,paced")
    parser.add_argument("--out", default=str(HERE / "results" / "load.json"))
    args = parser.parse_args()
    variants = args.variants.split(",")
    assert set(variants) <= {"baseline", "new", "legacy"}, variants
    results: dict[str, object] = {
        "machine": f"{os.cpu_count()} cores; how busy they were is each run's load average (wall-clock figures "
                   "move with it, CPU seconds per film less)",
        "scus": args.scus, "films_per_scu": args.films, "paced_rate_films_per_hour": args.rate, "runs": []}
    with tempfile.TemporaryDirectory(prefix="psload-") as tmp:
        work = Path(tmp)
        baseline = None
        if "baseline" in variants:
            baseline = work / "baseline-src"
            results["baseline"] = {"ref": args.baseline, "commit": export_baseline(args.baseline, baseline)}
        results["new_commit"] = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "HEAD"],
                                               capture_output=True, text=True, check=True).stdout.strip()
        (work / "img").mkdir()
        images = [write_test_image(work / "img" / f"{i:02d}.dcm", films.SIZE, films.SIZE, a)
                  for i, a in enumerate(films.real_ct())]
        for rnd in range(1, args.rounds + 1):
            order = variants if rnd % 2 else variants[::-1]  # alternate: noise hits every variant alike
            for mode in args.modes.split(","):
                for variant in order:
                    figures = {"round": rnd, "mode": mode, "variant": variant}
                    figures |= run(variant, mode, work, images, args.scus, args.films, args.rate, baseline)
                    results["runs"].append(figures)  # type: ignore[union-attr]
                    print(json.dumps(figures), flush=True)
                    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
