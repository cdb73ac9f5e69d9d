"""--debug: log every DIMSE message with its command set and data set, like DCMTK's --dump."""

from __future__ import annotations

import logging
from typing import Any

from pynetdicom.dsutils import decode

log = logging.getLogger("printserver.dump")


def _describe(event: Any, direction: str) -> None:
    msg = event.message
    lines = [f"===== {direction} {type(msg).__name__} (context {msg.context_id}) ====="]
    lines.append(str(msg.command_set))
    data = getattr(msg, "data_set", None)
    raw = data.getvalue() if data is not None else b""
    if raw:
        ts = next((cx.transfer_syntax[0] for cx in event.assoc.accepted_contexts
                   if cx.context_id == msg.context_id), None)
        try:
            data.seek(0)
            ds = decode(data, ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated) if ts else None
            lines.append("----- data set -----")
            lines.append(str(ds) if ds is not None else f"<{len(raw)} bytes>")
        except Exception as exc:  # a dump must never break the association
            lines.append(f"<{len(raw)} bytes, not decodable: {exc}>")
    log.debug("\n".join(lines))


def on_dimse_recv(event: Any) -> None:
    _describe(event, "received")


def on_dimse_sent(event: Any) -> None:
    _describe(event, "sent")
