"""Film and image options shared by `print` and `render`: flags named after the attributes."""

from __future__ import annotations

import argparse
import logging
import sys

from printserver.scu.films import FilmBoxOptions, FilmOptions, ImageBoxOptions, SessionOptions
from printserver.scu.prepare import PreparationError, PreparedImage, PrepareOptions, load


def _window(text: str) -> tuple[float, float]:
    try:
        center, width = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--window wants CENTER,WIDTH, not '{text}'") from None
    return center, width


def add_film_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="DICOM files or folders (searched recursively)")
    s = p.add_argument_group("film session")
    s.add_argument("--copies", type=int, help="Number of Copies")
    s.add_argument("--priority", choices=["HIGH", "MED", "LOW"], help="Print Priority")
    s.add_argument("--medium", help="Medium Type, e.g. 'BLUE FILM', PAPER")
    s.add_argument("--destination", help="Film Destination: MAGAZINE, PROCESSOR, BIN_i")
    s.add_argument("--label", help="Film Session Label")
    s.add_argument("--owner", help="Owner ID")
    f = p.add_argument_group("film box")
    f.add_argument("--display-format", default="STANDARD\\1,1",
                   help=r"Image Display Format, e.g. 'STANDARD\2,2', 'ROW\1,2' (default STANDARD\1,1)")
    f.add_argument("--orientation", choices=["PORTRAIT", "LANDSCAPE"], help="Film Orientation")
    f.add_argument("--film-size", help="Film Size ID, e.g. 14INX17IN, A4")
    f.add_argument("--magnification", choices=["REPLICATE", "BILINEAR", "CUBIC", "NONE"], help="Magnification Type")
    f.add_argument("--smoothing", help="Smoothing Type (printer-defined)")
    f.add_argument("--border-density", help="Border Density: BLACK, WHITE or hundredths of OD")
    f.add_argument("--empty-density", help="Empty Image Density: BLACK, WHITE or hundredths of OD")
    f.add_argument("--min-density", type=int, help="Min Density, hundredths of OD")
    f.add_argument("--max-density", type=int, help="Max Density, hundredths of OD")
    f.add_argument("--trim", choices=["YES", "NO"], help="Trim")
    f.add_argument("--resolution", choices=["STANDARD", "HIGH"], help="Requested Resolution ID")
    f.add_argument("--configuration-information", help="Configuration Information (printer-defined)")
    i = p.add_argument_group("image box")
    i.add_argument("--polarity", choices=["NORMAL", "REVERSE"], help="Polarity")
    i.add_argument("--requested-image-size", type=float, help="Requested Image Size: printed width in mm")
    m = p.add_argument_group("image preparation")
    m.add_argument("--window", type=_window, metavar="C,W", help="VOI window center,width (else the file's)")
    m.add_argument("--window-index", type=int, default=1, help="which of the file's windows / VOI LUTs (1-based)")
    m.add_argument("--invert-monochrome1", action="store_true", help="send MONOCHROME1 images inverted, as MONOCHROME2")
    m.add_argument("--frames", help="frames of multi-frame images to print, e.g. '1,3-5' (default all)")
    m.add_argument("--bits", choices=["auto", "12", "8"], default="auto",
                   help="P-value depth: auto = 12 unless the printer refuses it (default)")
    m.add_argument("--max-size", type=int, default=4096, help="downsample images whose longer side exceeds this")


def film_options(args: argparse.Namespace) -> FilmOptions:
    return FilmOptions(
        SessionOptions(args.copies, args.priority, args.medium, args.destination, args.label, args.owner),
        FilmBoxOptions(args.display_format, args.orientation, args.film_size, args.magnification, args.smoothing,
                       args.border_density, args.empty_density, args.min_density, args.max_density, args.trim,
                       args.configuration_information, args.resolution),
        ImageBoxOptions(args.polarity, args.requested_image_size),
    )


def prepare_options(args: argparse.Namespace) -> PrepareOptions:
    return PrepareOptions(window=args.window, window_index=args.window_index - 1,
                          invert_monochrome1=args.invert_monochrome1, bits=8 if args.bits == "8" else 12,
                          max_size=args.max_size, frames=args.frames)


def load_images(args: argparse.Namespace) -> tuple[list[PreparedImage], list[str]] | None:
    """The prepared images of the command's PATHs, notes printed; None (after saying why) when none print."""
    pydicom_log = logging.getLogger("pydicom")
    level = pydicom_log.level
    if not getattr(args, "debug", False):  # pydicom logs a decoder's traceback; our one line says it all
        pydicom_log.setLevel(logging.CRITICAL)
    try:
        images, notes = load(args.paths, prepare_options(args))
    except PreparationError as exc:
        for line in str(exc).splitlines():  # one line per file that cannot be printed
            print(f"printserver: {line}", file=sys.stderr)
        return None
    finally:
        pydicom_log.setLevel(level)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not images:
        print("printserver: no printable DICOM image found", file=sys.stderr)
        return None
    return images, notes
