"""Check tests/dcmtk.py against real DCMTK: print a 2x2 12-bit 14INX17IN film from DcmtkPrintScu to
DcmprscpServer and compare the stored HG pixels with what was written.

Run with ``python tests/dcmtk_selfcheck.py``; exits non-zero on any mismatch.  Not a pytest module (no
``test_`` prefix) so the suite can import tests/dcmtk.py without running DCMTK twice.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from pydicom import dcmread

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dcmtk import DcmprscpServer, DcmtkPrintScu, PrintOptions, dcmtk_available, write_test_image


def main() -> int:
    """Print one film and return 0 if every box arrived bit-exact in the right position."""
    if not dcmtk_available():
        print("DCMTK print tools not found on PATH")
        return 2
    rows, cols = 64, 48
    ramp = (np.arange(rows * cols).reshape(rows, cols) * 4095 // (rows * cols - 1)).astype(np.uint16)
    expected = [np.full((rows, cols), v, np.uint16) for v in (0, 1000, 4095)] + [ramp]
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dcmtk-selfcheck-") as tmp:
        root = Path(tmp)
        images = [write_test_image(root / f"img{i}.dcm", rows, cols, arr, bits=12) for i, arr in enumerate(expected)]
        with DcmprscpServer(root / "scp", tcp_nodelay=True) as server:
            scu = DcmtkPrintScu(
                root / "scu",
                server.port,
                called_ae=server.aetitle,
                options=PrintOptions(columns=2, rows=2, film_size="14INX17IN", tcp_nodelay=True),
                timeout=30,
            )
            result = scu.print_film(images)
            print(f"dcmprscu rc={result.returncode} elapsed={result.elapsed:.3f}s")
            for line in result.messages:
                print("  " + line)
            if not result.ok:
                failures.append(f"dcmprscu reported errors: {result.errors}")
            files = server.files()
            print(f"SP files: {len(files.stored_print)}, HG files: {len(files.hardcopy)}")
            if len(files.stored_print) != 1 or len(files.hardcopy) != 4:
                failures.append("expected 1 SP and 4 HG files")
            for film in server.films():
                print(f"{film.stored_print.name}: {film.image_display_format} {film.film_size}")
                if film.image_display_format != "STANDARD\\2,2" or film.film_size != "14INX17IN":
                    failures.append(f"film box attributes: {film}")
                for pos, (hg, want) in enumerate(zip(film.images, expected, strict=True), start=1):
                    if hg is None:
                        failures.append(f"box {pos}: no image")
                        continue
                    ds = dcmread(hg)
                    got = ds.pixel_array
                    same = got.shape == want.shape and np.array_equal(got, want)
                    print(f"  box {pos}: {hg.name} BitsStored={ds.BitsStored} values "
                          f"{int(got.min())}..{int(got.max())} {'OK' if same else 'MISMATCH'}")  # fmt: skip
                    if not same:
                        failures.append(f"box {pos}: pixels differ")
        if server.pid is not None:
            failures.append("dcmprscp still tracked after exit")
    for f in failures:
        print("FAIL:", f)
    print("PASS" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
