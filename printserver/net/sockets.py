"""TCP tuning on accepted connections: the server side of the Nagle / delayed-ACK stall.

Many SCUs (DCMTK by default, many modalities) leave Nagle's algorithm on and write each small
request in two send()s. Nagle holds the second until the first is ACKed, and Linux delays that ACK
by ~40 ms: every small DIMSE request stalls. The server cannot change the peer's Nagle, but it can
ACK at once: TCP_QUICKACK, which Linux clears after use, so it is re-armed before every read.
pynetdicom also writes a response's command and data set separately, so our own Nagle would stall
the peer the same way: TCP_NODELAY. Measured with DCMTK's default SCU, a 4x5 film of 512x512
12-bit images: 0.475 s plain, 0.39 s NODELAY only, 0.23 s QUICKACK only, 0.13 s both.
"""

from __future__ import annotations

import logging
import socket
import types
from typing import Any

log = logging.getLogger(__name__)

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def _quickack_recv(self: Any, nr_bytes: int) -> bytearray:
    """pynetdicom's AssociationSocket.recv, re-arming QUICKACK before each read.

    Reads at most what was asked for: buffering ahead would hide bytes from pynetdicom's select().
    """
    sock = self.socket
    buf = bytearray(nr_bytes)
    view = memoryview(buf)
    nr_read = 0
    while nr_read < nr_bytes:
        try:  # noqa: SIM105 - per-read hot path
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            pass
        n = sock.recv_into(view[nr_read:], nr_bytes - nr_read)
        if not n:  # connection closed: return what arrived, as pynetdicom does
            return buf[:nr_read]
        nr_read += n
    return buf


def tune(assoc: Any) -> None:
    """Apply the options to an association's freshly accepted socket (EVT_CONN_OPEN)."""
    transport = assoc.dul.socket
    sock = getattr(transport, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        log.debug("TCP_NODELAY not set: %s", exc)
    if _QUICKACK is not None and isinstance(sock, socket.socket) and type(sock) is socket.socket:
        transport.recv = types.MethodType(_quickack_recv, transport)
