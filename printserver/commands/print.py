"""`printserver print`: print DICOM images on any print SCP."""

from __future__ import annotations

import argparse
import json
import sys

from printserver.commands.film_args import add_film_arguments, film_options, load_images
from printserver.commands.tls_args import add_tls_arguments, client_context
from printserver.scu.client import PrintClient
from printserver.scu.transport import PrintClientError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("print", help="print DICOM images on a print SCP (any vendor)")
    p.add_argument("--host", required=True, help="printer host")
    p.add_argument("--port", type=int, required=True, help="printer port")
    p.add_argument("--called-ae", required=True, help="the printer's AE title")
    p.add_argument("--calling-ae", default="PRINTSERVER", help="our AE title (default PRINTSERVER)")
    p.add_argument("--session-print", action="store_true", help="one Print of the whole film session (collated)")
    p.add_argument("--timeout", type=float, default=60, help="network and DIMSE timeout, seconds")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--debug", action="store_true", help="log every step, with third-party tracebacks")
    add_film_arguments(p)
    add_tls_arguments(p)
    p.set_defaults(func=run)


class ProgressBar:
    """Images sent and films printed, on a terminal only."""

    def __init__(self, images: int, films: int, enabled: bool) -> None:
        self.images, self.films, self.enabled = images, films, enabled

    def __call__(self, sent: int, printed: int) -> None:
        if self.enabled:
            width = 30
            done = int(width * sent / max(1, self.images))
            sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] images {sent}/{self.images}  "
                             f"films {printed}/{self.films}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    options = film_options(args)
    loaded = load_images(args)
    if loaded is None:
        return 1
    images, notes = loaded
    films = -(-len(images) // options.boxes_per_film)
    bar = ProgressBar(len(images), films, sys.stderr.isatty() and not args.json)
    try:
        with PrintClient.connect(args.host, args.port, args.called_ae, args.calling_ae, timeout=args.timeout,
                                tls=client_context(args)) as client:
            result = client.print_images(images, options, session_print=args.session_print, progress=bar)
    except PrintClientError as exc:
        bar.close()
        print(f"printserver: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        return 1
    bar.close()
    result.notes[:0] = notes
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    for note in result.notes[len(notes):]:  # the loading notes were printed already
        print(f"note: {note}", file=sys.stderr)
    for film in result.films:
        for warning in film.warnings:
            print(f"film {film.number}: warning: {warning}", file=sys.stderr)
        if not film.accepted:
            print(f"film {film.number}: FAILED 0x{film.status:04X} {film.error_comment}", file=sys.stderr)
    printed = sum(f.accepted for f in result.films)
    if not args.json:
        print(f"{printed} of {films} film(s) printed on {args.called_ae}, {result.images_sent} image(s) sent")
    return 0 if result.ok and len(result.films) == films else 1
