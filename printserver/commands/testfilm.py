"""`printserver testfilm`: render the QC test film through the real pipeline into a PDF.

The film is printed as an SCU would print it, minus the network: N-CREATE film session and film box,
N-SET each image box, N-ACTION Print on a PrintAssociation (the model), then the job's films are
composed and written exactly as the render worker does. To print it on a remote printer, send
`printserver.testfilm.build_test_film(...)` with the print SCU.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import config, uids
from printserver.layout import load_layouts
from printserver.model.association import PrintAssociation
from printserver.model.job import PrintJob
from printserver.model.messages import Op, Request, Response
from printserver.status import Category, describe
from printserver.testfilm import TestFilm, build_test_film

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("testfilm", help="write the QC test film (step wedge, 10 mm grid, resolution bars) as PDF")
    p.add_argument("-o", "--output", required=True, help="PDF file to write")
    p.add_argument("--config", help="TOML configuration (the first printer's profile is used)")
    p.add_argument("--film-size", help="Film Size ID (default: the printer's)")
    p.add_argument("--orientation", choices=("PORTRAIT", "LANDSCAPE"), default="PORTRAIT")
    p.add_argument("--resolution", choices=("STANDARD", "HIGH"), help="Requested Resolution ID")
    p.add_argument("--min-density", type=int, help="Min Density, hundredths of OD")
    p.add_argument("--max-density", type=int, help="Max Density, hundredths of OD")
    p.add_argument("--illumination", type=int, help="L0, cd/m² (default 2000)")
    p.add_argument("--ambient", type=int, help="Reflected Ambient Light La, cd/m² (default 10)")
    p.set_defaults(func=run)


def _check(rsp: Response, what: str) -> Response:
    if rsp.status.category is Category.FAILURE:
        raise SystemExit(f"printserver testfilm: {what}: {describe(rsp.status)}: {rsp.error_comment}")
    if rsp.status.category is Category.WARNING:
        log.warning("%s: %s", what, describe(rsp.status))
    return rsp


def print_locally(film: TestFilm, assoc: PrintAssociation) -> PrintJob:
    """Drive the model as an SCU would; the Print's snapshot (what the spool would get)."""
    meta = uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META
    session_uid = uids.new_uid()
    _check(assoc.handle(Request(Op.N_CREATE, uids.BASIC_FILM_SESSION, session_uid, meta)), "Film Session N-CREATE")
    ds = Dataset()
    ds.ImageDisplayFormat = film.display_format
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = session_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    for keyword, value in film.film_box.items():
        setattr(ds, keyword, value)
    box_uid = uids.new_uid()
    rsp = _check(assoc.handle(Request(Op.N_CREATE, uids.BASIC_FILM_BOX, box_uid, meta, ds)), "Film Box N-CREATE")
    assert rsp.dataset is not None
    image_box_uids = [item.ReferencedSOPInstanceUID for item in rsp.dataset.ReferencedImageBoxSequence]
    for uid, box in zip(image_box_uids, film.image_boxes, strict=True):
        _check(assoc.handle(Request(Op.N_SET, uids.BASIC_GRAYSCALE_IMAGE_BOX, uid, meta, box)),
               f"Image Box {box.ImageBoxPosition} N-SET")
    rsp = _check(assoc.handle(Request(Op.N_ACTION, uids.BASIC_FILM_BOX, box_uid, meta, action_type_id=1)),
                 "Film Box N-ACTION")
    assert rsp.job is not None
    return rsp.job


def run(args: argparse.Namespace) -> int:
    from printserver.outputs.pdf import FilmPage, write_pdf
    from printserver.render.compose import compose_film
    from printserver.spool.worker import pdf_metadata

    cfg = config.load(args.config)
    profile = cfg.printers[0]
    layouts = load_layouts(cfg.layouts_dir)
    film = build_test_film(profile, layouts, film_size=args.film_size, orientation=args.orientation,
                           resolution=args.resolution, min_density=args.min_density, max_density=args.max_density,
                           illumination=args.illumination, ambient=args.ambient)
    job = print_locally(film, PrintAssociation(profile, layouts, calling_ae="TESTFILM"))
    pages = [FilmPage(compose_film(f), f.width_mm, f.height_mm) for f in job.films]
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_pdf(out, pages, **pdf_metadata(job))
    steps = ", ".join(f"{od:.2f}" for _, od in film.wedge)
    print(f"{out}: {film.film_box['FilmSizeID']} {film.film_box['FilmOrientation']}; wedge ODs {steps}; "
          f"grid {film.grid_mm[0]}x{film.grid_mm[1]} mm; bars {', '.join(map(str, film.bars_lp_per_mm))} lp/mm")
    return 0
