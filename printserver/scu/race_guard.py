"""The SCU's guard against a pynetdicom 3.0.x (checked on 3.0.4) requestor race.

A send_*() call pauses the reactor by clearing a checkpoint and waiting until the reactor says it
is paused; the reactor says so just *before* it checks the checkpoint. A reactor between those two
steps goes on, polls the DIMSE queue once more, and may take the response the call is about to
wait for: it logs "Received unexpected N-... service message" and drops it, and the call waits out
the whole DIMSE timeout. The guard makes the reactor's polls find nothing while a call waits, and
hands back a response it took all the same. A request from the peer (N-EVENT-REPORT) arriving
while the call waits is served and the call goes on waiting (net/fixes.py wait_serving_requests).

    guard = ResponseRaceGuard(assoc)
    with guard.waiting():
        status, ds = assoc.send_n_set(...)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from printserver.net.fixes import wait_serving_requests


class ResponseRaceGuard:
    def __init__(self, assoc: Any) -> None:
        self._waiting = threading.Event()
        dimse = assoc.dimse
        serve = assoc._serve_request
        get_response = wait_serving_requests(assoc, dimse.get_msg, serve)

        def reactor_aware_get_msg(block: bool = False) -> Any:
            if not block and self._waiting.is_set():
                return None, None
            return get_response(block)

        def serve_request(msg: Any, context_id: int) -> None:
            if not getattr(msg, "is_valid_request", False) and self._waiting.is_set():
                dimse.msg_queue.put((context_id, msg))  # a response the reactor took: back to the call
                return
            serve(msg, context_id)

        dimse.get_msg = reactor_aware_get_msg
        assoc._serve_request = serve_request

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        self._waiting.set()
        try:
            yield
        finally:
            self._waiting.clear()
