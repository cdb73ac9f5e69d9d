"""Print SCU benchmark (issue 3): ten 4x5 films of 512x512 12-bit images printed on DCMTK's dcmprscp,
by `printserver print` and by DCMTK's own SCU (dcmpsprt renders each film, dcmprscu sends it), in the
same run, both at their defaults, each from image files to films stored by the printer.
Run:  .venv/bin/python benchmarks/bench_scu.py [--films N]    (writes benchmarks/results/scu.json)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "samples"))

from make_samples import phantom  # noqa: E402

from tests.dcmtk import DcmprscpServer, DcmtkPrintScu, PrintOptions, write_test_image  # noqa: E402

COLUMNS, ROWS = 4, 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=10)
    args = parser.parse_args()
    n_images = args.films * COLUMNS * ROWS
    results: dict[str, object] = {"films": args.films, "images": n_images}
    with tempfile.TemporaryDirectory(prefix="psbench-scu-") as tmp:
        work = Path(tmp)
        (work / "img").mkdir()
        images = [write_test_image(work / "img" / f"{i:03d}.dcm", 512, 512, phantom(i)) for i in range(n_images)]
        with DcmprscpServer(work / "peer-ps") as peer:
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "printserver", "print", "--host", "127.0.0.1", "--port",
                                  str(peer.port), "--called-ae", peer.aetitle, "--display-format",
                                  f"STANDARD\\{COLUMNS},{ROWS}", "--film-size", "14INX17IN", str(work / "img")],
                                 capture_output=True, text=True, timeout=600)
            ps_seconds = time.perf_counter() - start
            assert out.returncode == 0, out.stdout + out.stderr
            assert len(peer.films()) == args.films
        with DcmprscpServer(work / "peer-dcmtk") as peer:
            scu = DcmtkPrintScu(work / "dcmtk", peer.port, called_ae=peer.aetitle,
                                options=PrintOptions(columns=COLUMNS, rows=ROWS, film_size="14INX17IN"))
            start = time.perf_counter()
            for f in range(args.films):
                result = scu.print_film(images[f * COLUMNS * ROWS:(f + 1) * COLUMNS * ROWS])
                assert result.ok, result.stdout + result.stderr
            dcmtk_seconds = time.perf_counter() - start
            assert len(peer.films()) == args.films
    results |= {
        "printserver_s_per_film": ps_seconds / args.films,
        "dcmtk_s_per_film": dcmtk_seconds / args.films,
        "ratio_printserver_to_dcmtk": ps_seconds / dcmtk_seconds,
    }
    out_path = ROOT / "benchmarks" / "results" / "scu.json"
    out_path.parent.mkdir(exist_ok=True)
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key:30s} {round(value, 3) if isinstance(value, float) else value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
