"""`printserver testfilm`: the QC test film through the real pipeline, as a PDF or on a printer.

The film is printed as the SCU prints: N-CREATE film session and film box, N-SET each image box,
N-ACTION Print — either on printserver's own model in-process (`-o qc.pdf`: then composed and written
exactly as the render worker does) or on any print SCP over the network (`--host/--port/--called-ae`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from printserver import config, uids
from printserver.layout import load_layouts
from printserver.scu.transport import LocalTransport, NetworkTransport, PrintClientError, Reply
from printserver.status import Category, describe
from printserver.testfilm import TestFilm, build_test_film

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("testfilm", help="the QC test film (step wedge, 10 mm grid, resolution bars): PDF or print")
    p.add_argument("-o", "--output", help="PDF file to write")
    p.add_argument("--config", help="TOML configuration (the first printer's profile is used)")
    p.add_argument("--film-size", help="Film Size ID (default: the printer's)")
    p.add_argument("--orientation", choices=("PORTRAIT", "LANDSCAPE"), default="PORTRAIT")
    p.add_argument("--resolution", choices=("STANDARD", "HIGH"), help="Requested Resolution ID")
    p.add_argument("--min-density", type=int, help="Min Density, hundredths of OD")
    p.add_argument("--max-density", type=int, help="Max Density, hundredths of OD")
    p.add_argument("--illumination", type=int, help="L0, cd/m² (default 2000)")
    p.add_argument("--ambient", type=int, help="Reflected Ambient Light La, cd/m² (default 10)")
    net = p.add_argument_group("print it on a printer instead")
    net.add_argument("--host", help="printer host")
    net.add_argument("--port", type=int, help="printer port")
    net.add_argument("--called-ae", help="the printer's AE title")
    net.add_argument("--calling-ae", default="PRINTSERVER", help="our AE title (default PRINTSERVER)")
    net.add_argument("--timeout", type=float, default=60)
    p.set_defaults(func=run)


def _check(reply: Reply, what: str) -> Reply:
    if reply.category is Category.FAILURE:
        raise PrintClientError(f"{what}: {describe(reply.status)}: {reply.error_comment}")
    if reply.category is Category.WARNING:
        log.warning("%s: %s", what, describe(reply.status))
    return reply


def print_test_film(film: TestFilm, transport: LocalTransport | NetworkTransport) -> None:
    """The test film's conversation, on any transport (the model in-process, or a printer)."""
    session_uid = uids.new_uid()
    _check(transport.n_create(uids.BASIC_FILM_SESSION, session_uid, None), "Film Session N-CREATE")
    ds = Dataset()
    ds.ImageDisplayFormat = film.display_format
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = session_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    for keyword, value in film.film_box.items():
        setattr(ds, keyword, value)
    box_uid = uids.new_uid()
    reply = _check(transport.n_create(uids.BASIC_FILM_BOX, box_uid, ds), "Film Box N-CREATE")
    refs = reply.dataset.ReferencedImageBoxSequence if reply.dataset is not None else []
    if len(refs) != len(film.image_boxes):
        raise PrintClientError(f"the printer made {len(refs)} image boxes for {film.display_format}")
    for ref_item, box in zip(refs, film.image_boxes, strict=True):
        _check(transport.n_set(str(ref_item.ReferencedSOPClassUID), str(ref_item.ReferencedSOPInstanceUID), box),
               f"Image Box {box.ImageBoxPosition} N-SET")
    _check(transport.n_action(uids.BASIC_FILM_BOX, box_uid, 1), "Film Box N-ACTION")
    transport.n_delete(uids.BASIC_FILM_BOX, box_uid)
    transport.n_delete(uids.BASIC_FILM_SESSION, session_uid)


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.host:
        print("printserver testfilm: give -o FILE.pdf, or --host/--port/--called-ae to print it", file=sys.stderr)
        return 2
    cfg = config.load(args.config)
    profile = cfg.printers[0]
    layouts = load_layouts(cfg.layouts_dir)
    film = build_test_film(profile, layouts, film_size=args.film_size, orientation=args.orientation,
                           resolution=args.resolution, min_density=args.min_density, max_density=args.max_density,
                           illumination=args.illumination, ambient=args.ambient)
    summary = (f"{film.film_box['FilmSizeID']} {film.film_box['FilmOrientation']}; wedge ODs "
               f"{', '.join(f'{od:.2f}' for _, od in film.wedge)}; grid {film.grid_mm[0]}x{film.grid_mm[1]} mm; "
               f"bars {', '.join(map(str, film.bars_lp_per_mm))} lp/mm")
    try:
        if args.host:
            if not (args.port and args.called_ae):
                print("printserver testfilm: --host needs --port and --called-ae", file=sys.stderr)
                return 2
            transport = NetworkTransport(args.host, args.port, args.called_ae, args.calling_ae, timeout=args.timeout)
            try:
                print_test_film(film, transport)
            finally:
                transport.release()
            print(f"test film printed on {args.called_ae}: {summary}")
        if args.output:
            _write_pdf(film, profile, Path(args.output))
            print(f"{args.output}: {summary}")
    except PrintClientError as exc:
        print(f"printserver testfilm: {exc}", file=sys.stderr)
        return 1
    return 0


def _write_pdf(film: TestFilm, profile: config.PrinterProfile, out: Path) -> None:
    from printserver.render.compose import compose_film
    from printserver.render.pdf import FilmPage, write_pdf
    from printserver.spool.worker import pdf_metadata

    transport = LocalTransport(profile, calling_ae="TESTFILM")
    print_test_film(film, transport)
    job = replace(transport.jobs[0], films=tuple(f for j in transport.jobs for f in j.films))
    pages = [FilmPage(compose_film(f), f.width_mm, f.height_mm) for f in job.films]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_pdf(out, pages, **pdf_metadata(job))
