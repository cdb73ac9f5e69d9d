"""Make the sample images and a DCMTK print configuration, and optionally print a film with DCMTK.

    .venv/bin/python samples/make_samples.py            # writes samples/images/, samples/dcmtk/dcmpstat-scu.cfg
    .venv/bin/python samples/make_samples.py --print    # ... and prints a 2x2 14x17 film to 127.0.0.1:11112

Images: four CT-like 12-bit phantoms (512x512, MONOCHROME2) and a 12-bit 11-step gray wedge; in
samples/images/modalities/ what modalities really store: a CT (16-bit signed, rescale slope and
intercept, two windows), a CR (2048x2560 MONOCHROME1), an US (RGB) and an MR multi-frame series.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

from tests.dcmtk import DcmtkPrintScu, PrintOptions, write_test_image  # noqa: E402

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
ENHANCED_MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4.1"


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


def _save(path: Path, sop_class: str, modality: str, pixels: np.ndarray, **attrs: object) -> Path:
    """A minimal but valid image of `sop_class` with `pixels` (frames first for multi-frame)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName, ds.PatientID = "PHANTOM^PRINT", "PS0001"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    for key, value in attrs.items():
        setattr(ds, key, value)
    shape = pixels.shape[-3:-1] if ds.SamplesPerPixel == 3 else pixels.shape[-2:]
    ds.Rows, ds.Columns = shape
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def make_modalities(folder: Path) -> dict[str, Path]:
    """The four kinds of image issue 3 prints: what real modalities store."""
    folder.mkdir(parents=True, exist_ok=True)
    hu = phantom(7).astype(np.int32) - 1024  # Hounsfield units -1024..3071
    # stored = HU - 1024: signed values -2048..2047, brought back to HU by the Modality LUT (intercept 1024)
    ct = _save(folder / "ct_signed_rescaled.dcm", CT_IMAGE, "CT", (hu - 1024).astype(np.int16),
               BitsAllocated=16, BitsStored=16, HighBit=15, PixelRepresentation=1, RescaleSlope=1,
               RescaleIntercept=1024, RescaleType="HU", WindowCenter=[40, 400], WindowWidth=[400, 2000],
               WindowCenterWidthExplanation=["BRAIN", "BONE"], PixelSpacing=[0.5, 0.5])
    y, x = np.mgrid[0:2560, 0:2048]
    cr_pixels = (((x + y) % 512) * 8 + 200).astype(np.uint16)  # diagonal ramps, 12-bit
    cr = _save(folder / "cr_monochrome1.dcm", CR_IMAGE, "CR", cr_pixels, PhotometricInterpretation="MONOCHROME1",
               BitsAllocated=16, BitsStored=12, HighBit=11, PixelRepresentation=0, WindowCenter=2248,
               WindowWidth=4096, ImagerPixelSpacing=[0.15, 0.15])
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, 640, dtype=np.uint8)[None, :]  # red ramp
    rgb[100:380, 200:440, 1] = 200  # green block (a Doppler-like overlay)
    us = _save(folder / "us_rgb.dcm", US_IMAGE, "US", rgb, SamplesPerPixel=3, PhotometricInterpretation="RGB",
               PlanarConfiguration=0, BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0)
    frames = np.stack([np.full((128, 128), 400 * (i + 1), np.uint16) for i in range(6)])
    mr = _save(folder / "mr_multiframe.dcm", ENHANCED_MR_IMAGE, "MR", frames, NumberOfFrames=6, BitsAllocated=16,
               BitsStored=12, HighBit=11, PixelRepresentation=0)
    return {"ct": ct, "cr": cr, "us": us, "mr": mr}


def make(images_dir: Path) -> list[Path]:
    images_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_test_image(images_dir / f"ct_phantom_{i}.dcm", 512, 512, phantom(i)) for i in range(4)]
    paths.append(write_test_image(images_dir / "step_wedge.dcm", 512, 512, step_wedge()))
    make_modalities(images_dir / "modalities")
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
