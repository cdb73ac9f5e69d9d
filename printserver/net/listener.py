"""The listening sockets: pynetdicom's association server with the connection gate in front.

The accept thread only accepts (pynetdicom 3.0.x would also do the TLS handshake there, so one
silent client holds up every other connection); each socket goes to the gate (net/gate.py), and
only one that sent its A-ASSOCIATE-RQ becomes a pynetdicom association, its socket prefixed with
the bytes the gate read. One server per port: the plain one and, when configured, the TLS one.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.transport import RequestHandler, ThreadedAssociationServer

from printserver.net.gate import Admitted, ConnectionGate
from printserver.net.sockets import PrefixedSocket

log = logging.getLogger(__name__)


class _GatedRequestHandler(RequestHandler):
    def handle(self) -> None:
        admitted: Admitted = self.request  # type: ignore[assignment]
        self.request = admitted.sock
        assoc = self._create_association()
        PrefixedSocket.adopt(assoc.dul.socket, admitted.prefix)
        evt.trigger(assoc, evt.EVT_CONN_OPEN, {"address": self.client_address})
        assoc.start()


class GatedAssociationServer(ThreadedAssociationServer):
    """A ThreadedAssociationServer whose accepted sockets pass the gate before they associate."""

    gate: ConnectionGate
    tls_context: ssl.SSLContext | None = None
    #: listen() backlog; socketserver's 5 makes a burst of connects wait for SYN retries (1 s, 3 s, ...).
    request_queue_size = 128

    def get_request(self) -> tuple[socket.socket, Any]:
        assert self.socket is not None
        return self.socket.accept()  # no TLS here: the gate does the handshake, with a deadline

    def process_request(self, request: Any, client_address: Any) -> None:
        self.gate.admit(request, client_address, self.tls_context, self.associate)

    def associate(self, admitted: Admitted, client_address: tuple[str, int]) -> None:
        """The gate's hand-off: a thread and a pynetdicom association for this connection."""
        ThreadingMixIn.process_request(self, admitted, client_address)

    def shutdown_request(self, request: Any) -> None:
        sock = request.sock if isinstance(request, Admitted) else request
        with contextlib.suppress(OSError):
            sock.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("connection from %s failed", client_address)


def start(ae: AE, address: tuple[str, int], gate: ConnectionGate, evt_handlers: list[Any],
          tls_context: ssl.SSLContext | None = None) -> GatedAssociationServer:
    """Bind, listen and serve in a thread, as AE.start_server(block=False) does, but gated."""
    server = GatedAssociationServer(ae, address, ae.ae_title, ae.supported_contexts, None, evt_handlers,
                                    request_handler=_GatedRequestHandler)
    server.gate = gate
    server.tls_context = tls_context
    server.daemon_threads = True
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    kind = "TLS" if tls_context else "plain"
    thread = threading.Thread(target=server.serve_forever, name=f"AcceptorServer@{stamp}-{kind}", daemon=True)
    thread.start()
    ae._servers.append(server)
    return server
