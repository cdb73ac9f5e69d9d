"""`printserver render`: the offline preview — the same preparation, model and composer as a print."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from printserver import config
from printserver.commands.film_args import add_film_arguments, film_options, load_images
from printserver.render.compose import compose_film
from printserver.render.pdf import FilmPage, write_pdf
from printserver.scu.client import PrintClient
from printserver.scu.transport import LocalTransport, PrintClientError
from printserver.spool.worker import pdf_metadata


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="preview offline, as a PDF, exactly what `print` would print")
    p.add_argument("-o", "--output", required=True, help="PDF to write")
    p.add_argument("--config", help="take the printer profile from this server configuration")
    p.add_argument("--printer", help="AE title of the printer in --config (default: the first)")
    add_film_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    profile = cfg.printer(args.printer) if args.printer else cfg.printers[0]
    if profile is None:
        print(f"printserver: no printer '{args.printer}' in {args.config}", file=sys.stderr)
        return 2
    loaded = load_images(args)
    if loaded is None:
        return 1
    images, _ = loaded
    transport = LocalTransport(profile)
    try:
        with PrintClient(transport) as client:
            result = client.print_images(images, film_options(args))
    except PrintClientError as exc:
        print(f"printserver: {exc}", file=sys.stderr)
        return 1
    for film in result.films:
        for warning in film.warnings:
            print(f"film {film.number}: warning: {warning}", file=sys.stderr)
        if not film.accepted:
            print(f"film {film.number}: FAILED 0x{film.status:04X} {film.error_comment}", file=sys.stderr)
    if not transport.jobs:
        print("printserver: nothing to render", file=sys.stderr)
        return 1
    job = replace(transport.jobs[0], films=tuple(f for j in transport.jobs for f in j.films))
    pages = [FilmPage(compose_film(film), film.width_mm, film.height_mm) for film in job.films]
    write_pdf(Path(args.output), pages, **pdf_metadata(job))
    print(f"{len(pages)} film(s) written to {args.output}")
    return 0 if result.ok else 1
