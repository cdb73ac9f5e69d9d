"""The SCU's guard against pynetdicom 3.0.x (checked on 3.0.4) requestor races: one conversation at a time.

pynetdicom pauses a requestor's reactor for each send_*() by clearing a checkpoint and spinning, without
a bound, until the reactor says it paused (`_is_paused`). Two things break that:

- The reactor says "paused" just *before* it checks the checkpoint, may poll the DIMSE queue once more and
  take the response the call is about to wait for: it drops it ("Received unexpected N-... service
  message") and the call waits out the whole DIMSE timeout.
- An N-EVENT-REPORT-RQ is served at once on a thread of its own (dimse.receive_primitive), whose
  `_serve_request` ends with `_is_paused = False`, whatever the reactor said. Landing just after the
  reactor paused for a call, it leaves the call, or a release, spinning for good: seen under load as a
  relay print step that never sent its next request while its upstream went on sending Print Job events.

So the reactor never takes a message, and requests (events) are served only where nothing else speaks:
while a call waits, by the calling thread, in order (net/fixes.py wait_serving_requests); while no call
is under way, by the thread pynetdicom started for it, a call starting only once it is done.

    guard = ResponseRaceGuard(assoc)
    with guard.waiting():
        status, ds = assoc.send_n_set(...)
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from printserver.net.fixes import wait_serving_requests

log = logging.getLogger(__name__)

#: How long a call waits for an event being served on its own thread (a handler that hangs must not hold
#: the conversation for ever: the call then goes ahead, as pynetdicom alone would)
SERVING_WAIT = 10.0


class ResponseRaceGuard:
    def __init__(self, assoc: Any) -> None:
        self._assoc = assoc
        dimse = assoc.dimse
        self._queue = dimse.msg_queue
        self._serve = assoc._serve_request
        self._get_msg = dimse.get_msg
        self._cond = threading.Condition()
        self._in_call = False
        self._serving = 0
        get_response = wait_serving_requests(assoc, self._get_msg, self._serve)

        def calls_only_get_msg(block: bool = False) -> Any:
            """The reactor polls with block=False: it gets nothing; a call waits with block=True."""
            return get_response(True) if block else (None, None)

        dimse.get_msg = calls_only_get_msg
        assoc._serve_request = self._on_request

    def _on_request(self, msg: Any, context_id: int) -> None:
        """pynetdicom's own thread for an arriving request: to the waiting call, or served here."""
        with self._cond:
            if self._in_call:
                self._queue.put((context_id, msg))  # the call serves it while it waits
                return
            self._serving += 1
        try:
            self._serve(msg, context_id)
        finally:
            with self._cond:
                self._serving -= 1
                self._cond.notify_all()

    def serve_pending(self) -> None:
        """Serve what arrived for a call that has ended (an event after the last response), on this thread."""
        while True:
            context_id, msg = self._get_msg(False)
            if msg is None:
                return
            if getattr(msg, "is_valid_request", False):
                self._serve(msg, context_id)
            else:
                log.warning("%s arrived after its call ended (timed out?): dropped", type(msg).__name__)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Around one send_*() (or release): nothing else is served meanwhile but by this thread."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._serving == 0, SERVING_WAIT):
                log.warning("an N-EVENT-REPORT handler still runs after %.0f s: the call goes ahead", SERVING_WAIT)
            self._in_call = True
        try:
            yield
        finally:
            with self._cond:
                self._in_call = False
            self.serve_pending()


#: How long a release waits for the reactor to pause and for the peer's answer before it aborts
RELEASE_SECONDS = 5.0


def release(assoc: Any, guard: ResponseRaceGuard | None = None, seconds: float = RELEASE_SECONDS) -> None:
    """pynetdicom's release(), bounded: its first wait (for the reactor to say it paused) has no bound, and a
    reactor that ended without saying so (the peer aborted while an event was served) never will; nor
    will one whose flag an event thread reset (unguarded associations). A gone reactor counts as paused at
    once, any after `seconds` (the flag gates nothing but that wait); the answer is awaited `seconds`, then
    A-ABORT: everything asked is answered by now, and a printer busy sending Print Job events may not get
    to the release for long."""
    if not assoc.is_established:
        return
    assoc.acse_timeout = min(assoc.acse_timeout or seconds, seconds)
    if not assoc.is_alive():
        assoc._is_paused = True
    watchdog = threading.Timer(seconds, setattr, args=(assoc, "_is_paused", True))
    watchdog.daemon = True
    watchdog.start()
    try:
        with guard.waiting() if guard is not None else contextlib.nullcontext():
            assoc.release()
    finally:
        watchdog.cancel()
