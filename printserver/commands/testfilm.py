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
    p.add_argument("--single-image", action="store_true",
                   help="one STANDARD\\1,1 image instead of ROW\\1,2 boxes (used on its own when a printer "
                        "refuses ROW\\1,2)")
    p.set_defaults(func=run)


def _check(reply: Reply, what: str) -> Reply:
    if reply.category is Category.FAILURE:
        raise PrintClientError(f"{what}: {describe(reply.status)}: {reply.error_comment}")
    if reply.category is Category.WARNING:
        log.warning("%s: %s", what, describe(reply.status))
    return reply


def print_test_film(film: TestFilm, transport: LocalTransport | NetworkTransport,
                    fallback: TestFilm | None = None) -> TestFilm:
    """The test film's conversation, on any transport (the model in-process, or a printer).

    A printer refusing the film's display format (many offer STANDARD formats only) gets ``fallback``,
    the same film as one image, in the same film session; returns the film printed.
    """
    film = _without_presentation_lut(film, transport)
    fallback = fallback and _without_presentation_lut(fallback, transport)
    session_uid = uids.new_uid()
    _check(transport.n_create(uids.BASIC_FILM_SESSION, session_uid, None), "Film Session N-CREATE")
    box_uid = uids.new_uid()
    reply = transport.n_create(uids.BASIC_FILM_BOX, box_uid, _film_box(film, session_uid))
    if reply.category is Category.FAILURE and fallback is not None:
        log.warning("the printer refused %s (%s%s): printing the test film as one %s image", film.display_format,
                    describe(reply.status), f": {reply.error_comment}" if reply.error_comment else "",
                    fallback.display_format)
        film, box_uid = fallback, uids.new_uid()
        reply = transport.n_create(uids.BASIC_FILM_BOX, box_uid, _film_box(film, session_uid))
    _check(reply, "Film Box N-CREATE")
    refs = reply.dataset.ReferencedImageBoxSequence if reply.dataset is not None else []
    if len(refs) != len(film.image_boxes):
        raise PrintClientError(f"the printer made {len(refs)} image boxes for {film.display_format}")
    for ref_item, box in zip(refs, film.image_boxes, strict=True):
        _check(transport.n_set(str(ref_item.ReferencedSOPClassUID), str(ref_item.ReferencedSOPInstanceUID), box),
               f"Image Box {box.ImageBoxPosition} N-SET")
    _check(transport.n_action(uids.BASIC_FILM_BOX, box_uid, 1), "Film Box N-ACTION")
    transport.n_delete(uids.BASIC_FILM_BOX, box_uid)
    transport.n_delete(uids.BASIC_FILM_SESSION, session_uid)
    return film


def _film_box(film: TestFilm, session_uid: str) -> Dataset:
    ds = Dataset()
    ds.ImageDisplayFormat = film.display_format
    ref = Dataset()
    ref.ReferencedSOPClassUID = uids.BASIC_FILM_SESSION
    ref.ReferencedSOPInstanceUID = session_uid
    ds.ReferencedFilmSessionSequence = Sequence([ref])
    for keyword, value in film.film_box.items():
        setattr(ds, keyword, value)
    return ds


def _without_presentation_lut(film: TestFilm, transport: LocalTransport | NetworkTransport) -> TestFilm:
    """Illumination and Reflected Ambient Light belong to Presentation LUT (PS3.4 H.4.2.2.4): a printer
    that did not accept that SOP class refuses them (DCMTK: 0105), so they are left to its defaults."""
    if isinstance(transport, LocalTransport) or uids.PRESENTATION_LUT in transport.accepted:
        return film
    log.warning("the printer does not offer Presentation LUT: Illumination and Reflected Ambient Light are "
                "its own; the wedge's target ODs assume L0 %s, La %s cd/m²", film.film_box.get("Illumination"),
                film.film_box.get("ReflectedAmbientLight"))
    box = {k: v for k, v in film.film_box.items() if k not in ("Illumination", "ReflectedAmbientLight")}
    return replace(film, film_box=box)


def _summary(film: TestFilm) -> str:
    return (f"{film.film_box['FilmSizeID']} {film.film_box['FilmOrientation']} {film.display_format}; wedge ODs "
            f"{', '.join(f'{od:.2f}' for _, od in film.wedge)}; grid {film.grid_mm[0]}x{film.grid_mm[1]} mm; "
            f"bars {', '.join(map(str, film.bars_lp_per_mm))} lp/mm")


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.host:
        print("printserver testfilm: give -o FILE.pdf, or --host/--port/--called-ae to print it", file=sys.stderr)
        return 2
    cfg = config.load(args.config)
    profile = cfg.printers[0]
    layouts = load_layouts(cfg.layouts_dir)
    settings = dict(film_size=args.film_size, orientation=args.orientation, resolution=args.resolution,
                    min_density=args.min_density, max_density=args.max_density, illumination=args.illumination,
                    ambient=args.ambient)
    film = build_test_film(profile, layouts, single_image=args.single_image, **settings)
    single = film if args.single_image else build_test_film(profile, layouts, single_image=True, **settings)
    try:
        if args.host:
            if not (args.port and args.called_ae):
                print("printserver testfilm: --host needs --port and --called-ae", file=sys.stderr)
                return 2
            transport = NetworkTransport(args.host, args.port, args.called_ae, args.calling_ae, timeout=args.timeout,
                                         presentation_lut=True)
            try:
                printed = print_test_film(film, transport, fallback=None if args.single_image else single)
            finally:
                transport.release()
            print(f"test film printed on {args.called_ae}: {_summary(printed)}")
        if args.output:
            _write_pdf(film, profile, Path(args.output))
            print(f"{args.output}: {_summary(film)}")
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
