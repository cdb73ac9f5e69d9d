"""Make the sample images and a DCMTK print configuration, and optionally print a film with DCMTK.

    .venv/bin/python samples/make_samples.py            # writes samples/images/*.dcm, samples/dcmtk/dcmpstat.cfg
    .venv/bin/python samples/make_samples.py --print    # ... and prints a 2x2 14x17 film to 127.0.0.1:11112

Images: four CT-like 12-bit phantoms (512x512, MONOCHROME2) and a 12-bit 11-step gray wedge.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.dcmtk import DcmtkPrintScu, PrintOptions, write_test_image  # noqa: E402


def phantom(seed: int, size: int = 512) -> np.ndarray:
    """A CT-like 12-bit slice: a noisy disc with round structures on an air background."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    img = np.where(x**2 + y**2 < 0.8, 1100.0, 50.0)
    for _ in range(6):
        cx, cy, r, v = rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(0.05, 0.2), rng.uniform(-300, 900)
        img += np.where((x - cx) ** 2 + (y - cy) ** 2 < r * r, v, 0)
    img += rng.normal(0, 25, img.shape)
    return np.clip(img, 0, 4095).astype(np.uint16)


def step_wedge(steps: int = 11, size: int = 512) -> np.ndarray:
    """Vertical bands from 0 to 4095 in equal P-value steps."""
    band = np.repeat(np.linspace(0, 4095, steps).round().astype(np.uint16), -(-size // steps))[:size]
    return np.tile(band, (size, 1))


def make(images_dir: Path) -> list[Path]:
    images_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_test_image(images_dir / f"ct_phantom_{i}.dcm", 512, 512, phantom(i)) for i in range(4)]
    paths.append(write_test_image(images_dir / "step_wedge.dcm", 512, 512, step_wedge()))
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print a 2x2 film with dcmpsprt + dcmprscu")
    parser.add_argument("--port", type=int, default=11112)
    parser.add_argument("--called-ae", default="PRINTSCP")
    args = parser.parse_args()
    images = make(HERE / "images")
    scu = DcmtkPrintScu(HERE / "dcmtk", args.port, called_ae=args.called_ae,
                        options=PrintOptions(columns=2, rows=2, film_size="14INX17IN", tcp_nodelay=False))
    cfg = scu.write_config()
    print(f"images: {HERE / 'images'}")
    print(f"DCMTK config: {cfg} (target {scu.TARGET} = {args.called_ae} at 127.0.0.1:{args.port})")
    if args.print:
        result = scu.print_film(images[:4])
        print(result.stdout + result.stderr)
        if not result.ok:
            print("printing failed: " + "; ".join(result.errors), file=sys.stderr)
            return 1
        print("printed: look for the PDF in the server's films folder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
