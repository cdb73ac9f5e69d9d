"""Command line: `printserver serve` (more commands arrive with the SCU)."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace

from printserver import __version__, config
from printserver.errors import ConfigError, SpoolError


def _serve(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    printer = cfg.printers[0]
    if args.ae_title:
        printer = replace(printer, ae_title=args.ae_title)
    if args.output:
        printer = replace(printer, pdf_dir=args.output)
    cfg = replace(cfg, printers=(printer, *cfg.printers[1:]))
    if args.port is not None:
        cfg = replace(cfg, port=args.port)
    if args.host:
        cfg = replace(cfg, host=args.host)
    if args.spool:
        cfg = replace(cfg, spool_dir=args.spool)
    cfg = config.validated(cfg)
    from printserver.net.scp import PrintServer

    PrintServer(cfg, debug=args.debug).serve_forever()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"printserver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the DICOM print SCP (virtual film printer)")
    serve.add_argument("--config", help="TOML configuration file (default: embedded default)")
    serve.add_argument("--port", type=int, help="TCP port (default 11112)")
    serve.add_argument("--host", help="listen address (default 0.0.0.0)")
    serve.add_argument("--ae-title", help="called AE title of the printer (default PRINTSCP)")
    serve.add_argument("--output", help="folder for PDF films (default ./films)")
    serve.add_argument("--spool", help="spool folder for accepted jobs (default ./spool)")
    serve.add_argument("-v", "--verbose", action="store_true", help="log each association and job")
    serve.add_argument("--debug", action="store_true",
                       help="dump every DIMSE message with its data set (like DCMTK's --dump)")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if getattr(args, "debug", False) else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    if not getattr(args, "debug", False):
        logging.getLogger("pynetdicom").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(args.func(args))
    except (ConfigError, SpoolError) as exc:
        print(f"printserver: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
