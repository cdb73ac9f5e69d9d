"""TCP tuning on accepted connections: the server side of the Nagle / delayed-ACK stall.

Many SCUs (DCMTK by default, many modalities) leave Nagle's algorithm on and write each small
request in two send()s. Nagle holds the second until the first is ACKed, and Linux delays that ACK
by ~40 ms: every small DIMSE request stalls. The server cannot change the peer's Nagle, but it can
ACK at once: TCP_QUICKACK, which Linux clears after use, so it is re-armed before every read.
pynetdicom also writes a response's command and data set separately, so our own Nagle would stall
the peer the same way: TCP_NODELAY. Measured with DCMTK's default SCU, a 4x5 film of 512x512
12-bit images: 0.475 s plain, 0.39 s NODELAY only, 0.23 s QUICKACK only, 0.13 s both.

An accepted connection also starts with the bytes the connection gate (net/gate.py) read before
it became an association: PrefixedSocket serves them first.
"""

from __future__ import annotations

import logging
import socket
import types
from typing import Any

from pynetdicom.transport import AssociationSocket

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


def _plain(sock: Any) -> bool:
    return _QUICKACK is not None and type(sock) is socket.socket  # not TLS: QUICKACK acts on the TCP socket


def tune(assoc: Any) -> None:
    """Apply the options to an association's socket (an acceptor's at EVT_CONN_OPEN, a requestor's once open)."""
    transport = assoc.dul.socket
    sock = getattr(transport, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        log.debug("TCP_NODELAY not set: %s", exc)
    if isinstance(transport, PrefixedSocket):
        transport.quickack = _plain(sock)
    elif _plain(sock):
        transport.recv = types.MethodType(_quickack_recv, transport)


class PrefixedSocket(AssociationSocket):
    """pynetdicom's AssociationSocket with bytes already read from the connection in front."""

    prefix: bytearray
    quickack: bool = False

    @classmethod
    def adopt(cls, transport: AssociationSocket, prefix: bytes) -> PrefixedSocket:
        """Turn the association's freshly made socket into one (it holds no state yet to carry over)."""
        transport.__class__ = cls
        assert isinstance(transport, PrefixedSocket)
        transport.prefix = bytearray(prefix)
        return transport

    @property
    def ready(self) -> bool:
        return bool(self.prefix) or super().ready

    def recv(self, nr_bytes: int) -> bytearray:
        out = self.prefix[:nr_bytes]
        del self.prefix[:nr_bytes]
        if len(out) < nr_bytes:
            more = _quickack_recv(self, nr_bytes - len(out)) if self.quickack \
                else super().recv(nr_bytes - len(out))
            out += more
        return out
