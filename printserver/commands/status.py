"""`printserver status`: what a print SCP says about itself (Printer N-GET)."""

from __future__ import annotations

import argparse
import json
import sys

from printserver.commands.tls_args import add_tls_arguments, client_context
from printserver.scu.client import PrintClient
from printserver.scu.transport import PrintClientError

LABELS = {
    "PrinterStatus": "Status", "PrinterStatusInfo": "Status info", "PrinterName": "Name",
    "Manufacturer": "Manufacturer", "ManufacturerModelName": "Model", "DeviceSerialNumber": "Serial number",
    "SoftwareVersions": "Software", "DateOfLastCalibration": "Calibrated on", "TimeOfLastCalibration": "Calibrated at",
}  # fmt: skip


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="ask a print SCP for its status (Printer N-GET)")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--called-ae", required=True)
    p.add_argument("--calling-ae", default="PRINTSERVER")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--json", action="store_true", help="print the attributes as JSON")
    add_tls_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        with PrintClient.connect(args.host, args.port, args.called_ae, args.calling_ae, timeout=args.timeout,
                                tls=client_context(args)) as client:
            values = client.printer_status()
    except PrintClientError as exc:
        print(f"printserver: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        for key, value in values.items():
            print(f"{LABELS.get(key, key) + ':':16s} {value}")
    return 0 if values.get("PrinterStatus") != "FAILURE" else 3
