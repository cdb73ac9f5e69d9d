"""`printserver serve`: run the print SCP."""

from __future__ import annotations

import argparse
from dataclasses import replace

from printserver import config
from printserver.config import PrinterProfile
from printserver.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the DICOM print SCP (virtual film printer)")
    p.add_argument("--config", help="TOML configuration file (default: embedded default)")
    p.add_argument("--port", type=int, help="TCP port (default 11112)")
    p.add_argument("--host", help="listen address (default 0.0.0.0)")
    p.add_argument("--ae-title", help="called AE title of the printer (default PRINTSCP)")
    p.add_argument("--output", help="folder for PDF films (default ./films)")
    p.add_argument("--spool", help="spool folder for accepted jobs (default ./spool)")
    p.add_argument("--cups", metavar="QUEUE", help="also print every film of the (first) printer on this CUPS queue")
    p.add_argument("--cups-server", metavar="HOST:PORT",
                   help="CUPS server for --cups (default: CUPS_SERVER, else the system default)")
    p.add_argument("--archive", metavar="AE@HOST:PORT", action="append", default=[],
                   help="also archive every film of the (first) printer in this PACS (C-STORE; repeatable)")
    p.add_argument("--relay", metavar="AE@HOST:PORT", action="append", default=[],
                   help="also print every film of the (first) printer on this DICOM printer (repeatable)")
    t = p.add_argument_group("DICOM TLS (PS3.15 Annex B): a second port beside the plain one")
    t.add_argument("--tls-port", type=int, metavar="N", help="TLS port (default 2762, dicom-tls)")
    t.add_argument("--tls-cert", metavar="FILE", help="server certificate (PEM, with its chain); enables TLS")
    t.add_argument("--tls-key", metavar="FILE", help="private key of --tls-cert (PEM)")
    t.add_argument("--tls-ca", metavar="FILE", help="CA certificate(s) client certificates must chain to")
    t.add_argument("--tls-require-client-cert", action="store_true",
                   help="refuse TLS clients without a certificate from --tls-ca")
    web = p.add_mutually_exclusive_group()
    web.add_argument("--web", metavar="[ADDR:]PORT",
                     help="QA console address (default 127.0.0.1:8080; another address needs users "
                          "([[server.web_user]]) or server.web_token)")
    web.add_argument("--no-web", action="store_true", help="do not start the QA console")
    p.add_argument("-v", "--verbose", action="store_true", help="log each association and job")
    p.add_argument("--debug", action="store_true",
                   help="dump every DIMSE message with its data set (like DCMTK's --dump)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    printer = cfg.printers[0]
    if args.ae_title:
        printer = replace(printer, ae_title=args.ae_title)
    if args.output:
        printer = replace(printer, pdf_dir=args.output)
    if args.cups:
        printer = replace(printer, cups_queue=args.cups, cups_server=args.cups_server or printer.cups_server)
    printer = _quick_outputs(printer, args)
    cfg = replace(cfg, printers=(printer, *cfg.printers[1:]))
    if args.port is not None:
        cfg = replace(cfg, port=args.port)
    if args.host:
        cfg = replace(cfg, host=args.host)
    if args.spool:
        cfg = replace(cfg, spool_dir=args.spool)
    for key in ("tls_port", "tls_cert", "tls_key", "tls_ca"):
        if getattr(args, key):
            cfg = replace(cfg, **{key: getattr(args, key)})
    if args.tls_require_client_cert:
        cfg = replace(cfg, tls_require_client_cert=True)
    if args.web is not None or args.no_web:
        cfg = replace(cfg, web="" if args.no_web else args.web)
    cfg = config.validated(cfg)
    from printserver.net.scp import PrintServer

    PrintServer(cfg, debug=args.debug, web=cfg.web or None).serve_forever()
    return 0


def _quick_outputs(printer: PrinterProfile, args: argparse.Namespace) -> PrinterProfile:
    """--archive / --relay AE@HOST:PORT: one more [[printer.pacs]] / [[printer.relay]] table each."""
    from printserver.outputs.pacs import parse_archive
    from printserver.outputs.relay import parse_relay

    tables = dict(printer.output_tables)
    for name, values, parse in (("pacs", args.archive, parse_archive), ("relay", args.relay, parse_relay)):
        if not values:
            continue
        present = tables.get(name, [])
        try:
            tables[name] = [*([present] if isinstance(present, dict) else present), *(parse(v) for v in values)]
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return replace(printer, output_tables=tables)
