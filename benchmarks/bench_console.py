"""QA console benchmark (issue 10): the job list over 10,000 jobs, and printing with the console polled.

  (a) 10,000 job records in a spool: building the console's index from them (once), then answering
      GET /api/jobs (first page, a filtered page, a deep page) through the whole ASGI app, next to the
      baseline of reading every record as `printserver jobs list` does, in the same run;
  (b) films per hour from DCMTK's SCU into a real `printserver serve`, with the console off (--no-web)
      and with it on and polled as open pages poll it (job list and one job page, every POLL seconds by
      each of PAGES pollers), same films, same run.
Run:  .venv/bin/python benchmarks/bench_console.py [--jobs 10000] [--films 12]
      (writes benchmarks/results/console.json)
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402

from printserver import config  # noqa: E402
from printserver.spool import admin  # noqa: E402
from printserver.spool.records import read_record  # noqa: E402
from printserver.spool.store import Spool  # noqa: E402
from printserver.web.app import ConsoleState, create_app  # noqa: E402
from printserver.web.auth import Auth  # noqa: E402
from tests.dcmtk import DcmtkPrintScu, PrintOptions, free_port, write_test_image  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402
from tests.views.records import put_record  # noqa: E402

POLL, PAGES = 0.5, 4


def timed(fn: object, repeat: int = 5) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def index_figures(n: int, tmp: Path) -> dict[str, float]:
    spool = tmp / "spool"
    for i in range(n):
        put_record(spool, f"{i:020d}-000000-1", created=f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",
                   calling=f"CT{i % 7}", printer="PRINTSCP", state="done" if i % 10 else "failed")
    state = ConsoleState(spool, config.load(None), Auth(), lambda a, j: (False, ""))
    start = time.perf_counter()
    state.index.refresh(force=True)
    build = time.perf_counter() - start
    client = TestClient(create_app(state))

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200 and response.json()["total"] > 0

    def baseline() -> None:  # what `printserver jobs list` reads: every record
        rows = admin.rows(Spool(spool))
        assert len([read_record(p.with_name(stem + ".job")) for _, stem, p in rows]) == n

    figures = {
        "jobs": n, "index_build_s": build,
        "api_first_page_s": timed(lambda: get("/api/jobs")),
        "api_filtered_page_s": timed(lambda: get("/api/jobs?calling_ae=CT3&state=failed")),
        "api_deep_page_s": timed(lambda: get(f"/api/jobs?page={n // 100}")),
        "refresh_unchanged_s": timed(lambda: state.index.refresh(force=True)),
        "baseline_read_all_records_s": timed(baseline, repeat=3),
    }
    state.index.close()
    return figures


def films_per_hour(tmp: Path, films: int, web: bool) -> float:
    web_port = free_port()
    extra = ["--web", f"127.0.0.1:{web_port}"] if web else []
    image = write_test_image(tmp / "img.dcm", 512, 512, np.tile(np.linspace(0, 4095, 512, dtype=np.uint16), (512, 1)))
    with ServerProcess(tmp / ("web" if web else "noweb"), extra=extra) as server:
        stop = threading.Event()
        pollers = []
        if web:
            url = re.search(r"console on (http://\S+)", server.log.read_text()).group(1)  # type: ignore[union-attr]

            def poll() -> None:
                while not stop.wait(POLL):
                    with urllib.request.urlopen(url + "api/jobs", timeout=10) as r:
                        jobs = json.load(r)["jobs"]
                    if jobs:
                        urllib.request.urlopen(url + f"api/jobs/{jobs[0]['id']}", timeout=10).close()
            pollers = [threading.Thread(target=poll, daemon=True) for _ in range(PAGES)]
            for t in pollers:
                t.start()
        scu = DcmtkPrintScu(tmp / ("dcmtk-web" if web else "dcmtk"), server.port,
                            options=PrintOptions(columns=2, rows=2))
        stored = scu.render([image] * 4)
        start = time.perf_counter()
        result = scu.send([stored] * films)
        assert result.ok, result.stdout + result.stderr
        server.wait_drained(films, timeout=600)
        elapsed = time.perf_counter() - start
        stop.set()
        for t in pollers:
            t.join(timeout=10)
        server.stop()
    return films / elapsed * 3600


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--films", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"index": index_figures(args.jobs, Path(tmp))}
        results["print"] = {"films": args.films, "pollers": PAGES, "poll_s": POLL,
                            "films_per_hour_console_off": films_per_hour(Path(tmp), args.films, web=False),
                            "films_per_hour_console_polled": films_per_hour(Path(tmp), args.films, web=True)}
    out = ROOT / "benchmarks" / "results" / "console.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
