"""`printserver check-config FILE`: validate a configuration and print what was understood."""

from __future__ import annotations

import argparse
from dataclasses import fields

from printserver import config
from printserver.outputs.plan import outputs_of


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-config", help="validate a configuration file and print what it configures")
    p.add_argument("file", help="TOML configuration file")
    p.set_defaults(func=run)


def describe(cfg: config.ServerConfig) -> str:
    """A readable summary: the server, then per printer its identity, callers, outputs and capabilities."""
    lines = [f"server: listen {cfg.host}:{cfg.port}, spool {cfg.spool_dir}, {cfg.workers} render worker(s)"]
    for f in fields(config.ServerConfig):
        if f.name not in ("host", "port", "spool_dir", "workers", "printers"):
            lines.append(f"  {f.name} = {getattr(cfg, f.name)!r}")
    defaults = config.PrinterProfile()
    for i, p in enumerate(cfg.printers):
        lines.append(f"printer[{i}]: called AE {p.ae_title!r} - {p.printer_name}"
                     + (f" ({p.description})" if p.description else ""))
        lines.append("  callers: " + (", ".join(p.allowed_calling_aes) if p.allowed_calling_aes else "any calling AE"))
        lines += [f"  output: {o.describe()}" for o in outputs_of(p, f"printer[{i}]")]
        for f in fields(config.PrinterProfile):
            if f.name in ("ae_title", "printer_name", "description", "allowed_calling_aes", "pdf_dir", "pdf_name",
                          "cups_queue", "cups_server", "paper_policy", "output_tables"):
                continue
            value = getattr(p, f.name)
            mark = "" if value != getattr(defaults, f.name) else "  (default)"
            lines.append(f"  {f.name} = {value!r}{mark}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    cfg = config.load(args.file)  # ConfigError -> exit 2 with the key (cli.main)
    print(describe(cfg))
    print("configuration OK")
    return 0
