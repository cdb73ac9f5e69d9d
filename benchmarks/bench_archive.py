"""PACS output benchmark (issue 9): one 14x17 film (5100x4200, 12-bit Secondary Capture, 43 MB) per
transfer syntax — encode CPU time, object size, C-STORE wall time into a real Orthanc over loopback (the
`pacs` output's own store()), and Orthanc's decode checked equal to our pixels — beside the uncompressed
baseline of the same run. Films: benchmarks/films.py (a real CT slice windowed five ways, and the
white-noise phantoms, the worst case for any lossless coder).
Run:  .venv/bin/python benchmarks/bench_archive.py [--repeat N]    (writes benchmarks/results/archive.json)
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from printserver.archive.cstore import Destination, store  # noqa: E402
from printserver.archive.objects import secondary_capture  # noqa: E402
from printserver.archive.syntaxes import SYNTAXES, encode  # noqa: E402
from printserver.render.compose import compose_film  # noqa: E402
from tests.archive.test_objects import identity, make_job  # noqa: E402
from tests.orthanc import Orthanc  # noqa: E402


def wire_bytes(ds, explicit: bool, deflated: bool) -> bytes:  # type: ignore[no-untyped-def]
    """The data set as pynetdicom puts it into the P-DATA PDUs (zlib for Deflate, as it sends it)."""
    from pynetdicom.dsutils import encode as pynetdicom_encode

    data = pynetdicom_encode(ds, not explicit, True, deflated)
    assert data is not None
    return data


def measure(name: str, images: list[np.ndarray], orthanc: Orthanc, repeat: int) -> dict[str, object]:
    from films import film  # benchmarks/films.py (on sys.path above)

    job = make_job()
    f = film(images, annotated=True)
    job = replace(job, films=(f,))
    raster = compose_film(f)
    expected = raster >> 4
    ident = identity(job)
    out: dict[str, object] = {"raster": list(raster.shape)}
    for syntax, uid in SYNTAXES.items():
        cpu, wall = [], []
        for _ in range(repeat):
            ds = secondary_capture(job, f, raster, ident)
            start = time.process_time()  # the film to the bytes on the wire: compress, then pynetdicom encodes
            encode(ds, uid)
            wire = wire_bytes(ds, not uid.is_implicit_VR, uid.is_deflated)
            cpu.append(time.process_time() - start)
            fresh = secondary_capture(job, f, raster, ident)  # store() compresses by itself, as in delivery
            fresh.SOPInstanceUID = fresh.file_meta.MediaStorageSOPInstanceUID = generate_uid()  # a new object
            start = time.perf_counter()
            (sent,) = store(Destination(orthanc.aet, "127.0.0.1", orthanc.dicom_port, "BENCH", 120), [fresh],
                            syntaxes=[syntax])
            wall.append(time.perf_counter() - start)
            assert sent == uid, (sent, uid)
        found = orthanc.post("/tools/find", {"Level": "Instance", "Query": {"SOPInstanceUID": fresh.SOPInstanceUID}})
        assert len(found) == 1, found
        stored_size = int(orthanc.get(f"/instances/{found[0]}/statistics")["DiskSize"])
        decoded = np.load(io.BytesIO(orthanc._open(f"/instances/{found[0]}/numpy"))).reshape(expected.shape)
        out[syntax] = {"encode_cpu_s": statistics.median(cpu), "wire_MB": len(wire) / 1e6,
                       "stored_in_orthanc_MB": stored_size / 1e6, "c_store_wall_s": statistics.median(wall),
                       "orthanc_decodes_our_pixels": bool(np.array_equal(decoded.astype(np.int64), expected))}
        print(f"{name:8s} {syntax:8s} {out[syntax]}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from films import phantoms, real_ct

    results: dict[str, object] = {"repeat": args.repeat}
    with tempfile.TemporaryDirectory(prefix="psbench-archive-") as tmp, Orthanc(Path(tmp) / "orthanc") as orthanc:
        results["real"] = measure("real CT", real_ct(), orthanc, args.repeat)
        results["phantom"] = measure("phantom", phantoms(), orthanc, args.repeat)
    target = ROOT / "benchmarks" / "results" / "archive.json"
    target.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
