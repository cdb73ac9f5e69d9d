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


def network(cfg: config.ServerConfig) -> list[str]:
    """TLS, limits and timeouts in words (the keys follow one by one below)."""
    if cfg.tls_cert:
        clients = "client certificates required" if cfg.tls_require_client_cert else \
            ("client certificates checked when presented" if cfg.tls_ca else "no client certificates asked for")
        tls = f"DICOM TLS on {cfg.host}:{cfg.tls_port} ({clients})"
    else:
        tls = "no DICOM TLS (set tls_cert, tls_key, tls_port)"
    return [f"network: {tls}",
            f"  limits: {cfg.max_associations} associations, {cfg.max_associations_per_calling_ae} per calling AE, "
            f"{cfg.max_associations_per_address} per address; {cfg.max_pending} connections awaiting their "
            f"A-ASSOCIATE-RQ ({cfg.max_pending_per_address} per address) for at most "
            f"{cfg.association_request_timeout:g} s",
            f"  timeouts: ACSE {cfg.acse_timeout:g} s, DIMSE {cfg.dimse_timeout:g} s, idle association "
            f"{cfg.network_timeout:g} s"]


def describe(cfg: config.ServerConfig) -> str:
    """A readable summary: the server, then per printer its identity, callers, outputs and capabilities."""
    lines = [f"server: listen {cfg.host}:{cfg.port}, spool {cfg.spool_dir}, {cfg.workers} render worker(s)"]
    lines += network(cfg)
    for f in fields(config.ServerConfig):
        if f.name not in ("host", "port", "spool_dir", "workers", "printers"):
            lines.append(f"  {f.name} = {getattr(cfg, f.name)!r}")
    defaults = config.PrinterProfile()
    for i, p in enumerate(cfg.printers):
        lines.append(f"printer[{i}]: called AE {p.ae_title!r} - {p.printer_name}"
                     + (f" ({p.description})" if p.description else ""))
        lines.append("  callers: " + (", ".join(p.allowed_calling_aes) if p.allowed_calling_aes else "any calling AE")
                     + (", over TLS only" if p.tls_only else ""))
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
