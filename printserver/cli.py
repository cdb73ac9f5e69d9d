"""Command line: `printserver <command>`; each command lives in printserver/commands/."""

from __future__ import annotations

import argparse
import logging
import sys

from printserver import __version__
from printserver.commands import check_config, conformance, jobs, render, serve, status, testfilm, web_passwd
from printserver.commands import print as print_command
from printserver.errors import ConfigError, SpoolError

#: Subcommand modules, in the order `--help` lists them.
COMMANDS = [serve, print_command, status, render, testfilm, check_config, conformance, jobs, web_passwd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printserver", description="DICOM print server (virtual film printer)")
    parser.add_argument("--version", action="version", version=f"printserver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # --debug dumps DIMSE messages itself (net/dump.py); pynetdicom's own debug summaries stay off: its
    # N-GET summary raises on an empty Attribute Identifier List (pynetdicom 3.0.4) and adds nothing.
    verbose = debug or getattr(args, "verbose", False)
    logging.getLogger("pynetdicom").setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        return int(args.func(args))
    except (ConfigError, SpoolError) as exc:
        print(f"printserver: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
