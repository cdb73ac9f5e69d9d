"""`printserver conformance [--config FILE] [-o FILE]`: the DICOM Conformance Statement of this configuration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from printserver import config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conformance", help="write the DICOM Conformance Statement (Markdown) for a configuration")
    p.add_argument("--config", help="TOML configuration file (default: the embedded default)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from printserver.conformance import statement

    cfg = config.load(args.config)  # ConfigError -> exit 2 with the key (cli.main)
    text = statement(cfg, f"`{Path(args.config).name}`" if args.config else "the embedded default configuration")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"conformance statement written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
