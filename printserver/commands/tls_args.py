"""`--tls` options shared by `print` and `status`: DICOM TLS to the printer (PS3.15 Annex B)."""

from __future__ import annotations

import argparse
import ssl

from printserver.net import tls


def add_tls_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("DICOM TLS")
    g.add_argument("--tls", action="store_true", help="connect with TLS 1.2/1.3 (BCP 195)")
    g.add_argument("--tls-ca", metavar="FILE", help="CA certificate(s) the printer's certificate must chain to "
                                                   "(PEM file or hashed folder; default: the system's)")
    g.add_argument("--tls-cert", metavar="FILE", help="our certificate (PEM), for printers that require one")
    g.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM)")


def client_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The context for --tls (ConfigError naming the option when a file is wrong), else None."""
    if not args.tls:
        if args.tls_ca or args.tls_cert or args.tls_key:
            args.tls = True  # any TLS option implies --tls
        else:
            return None
    return tls.client_context(args.tls_ca or "", args.tls_cert or "", args.tls_key or "")
