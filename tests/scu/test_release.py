"""NetworkTransport.release() is bounded even when the association's reactor thread has ended without
saying it paused (pynetdicom's release() would wait for that for ever): seen as a relay's print step hanging
after the upstream printed, aborted the association and its Print Job events had been served."""

from __future__ import annotations

import threading
import time

from pynetdicom import AE

from printserver import uids
from printserver.scu.transport import NetworkTransport


def test_a_release_after_the_reactor_ended_unpaused_returns() -> None:
    ae = AE(ae_title="PRINTER")
    ae.add_supported_context(uids.BASIC_GRAYSCALE_PRINT_MANAGEMENT_META)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        transport = NetworkTransport("127.0.0.1", server.server_address[1], "PRINTER", timeout=10)
        assoc = transport.assoc
        assoc._kill = True  # the reactor leaves its loop between two polls: `_is_paused` stays False
        assoc._reactor_checkpoint.set()
        assoc.join(5)
        assert not assoc.is_alive() and assoc.is_established and not assoc._is_paused
        started = time.monotonic()
        done = threading.Thread(target=transport.release, daemon=True)
        done.start()
        done.join(15)
        assert not done.is_alive(), "release() waits for a reactor that is gone"
        assert time.monotonic() - started < 12
    finally:
        server.shutdown()
