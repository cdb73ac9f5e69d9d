"""TCP tuning on accepted connections: the server side of the Nagle / delayed-ACK stall.

Many SCUs (DCMTK by default, many modalities) leave Nagle's algorithm on and write each PDU in
more than one send(). Nagle then holds the second piece until the first is ACKed, and Linux delays
that ACK up to 40 ms: every DIMSE request stalls. The server cannot change the peer's Nagle, but it
can ACK at once: TCP_QUICKACK, which Linux clears after use, so it is re-armed before every recv.
TCP_NODELAY does the same for our own responses.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger(__name__)

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class QuickAckSocket:
    """Wraps an accepted socket; identical except that every recv() first re-arms TCP_QUICKACK."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def recv(self, bufsize: int, *flags: int) -> bytes:
        try:  # noqa: SIM105 - hot path, contextlib.suppress costs more
            self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)  # type: ignore[arg-type]
        except OSError:
            pass
        return self._sock.recv(bufsize, *flags)

    def fileno(self) -> int:
        return self._sock.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def tune(assoc: Any) -> None:
    """Apply the options to an association's freshly accepted socket."""
    transport = assoc.dul.socket
    sock = transport.socket if transport is not None else None
    if sock is None or isinstance(sock, QuickAckSocket):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        log.debug("TCP_NODELAY not set: %s", exc)
    if _QUICKACK is not None:
        transport.socket = QuickAckSocket(sock)
