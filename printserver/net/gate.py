"""Connections before they associate: the TLS handshake and the A-ASSOCIATE-RQ, read by one thread.

pynetdicom gives every accepted socket an association (two threads) at once, counts it against
`maximum_associations` although it never sent an A-ASSOCIATE-RQ, and wraps TLS sockets in its
accept thread (3.0.x: one client that never finishes its handshake holds up every new
connection). Here a connection is only a file descriptor in one selector until its TLS handshake
(when on a TLS port) and its whole A-ASSOCIATE-RQ PDU have arrived, within `request_timeout`
seconds; only then does it become a pynetdicom association, with the bytes already read handed
over in front of the socket. Connections waiting so are bounded per source address and in total:
at a bound the oldest waiting one is closed, so a flood only ever displaces itself.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

A_ASSOCIATE_RQ = 0x01
PDU_HEADER = 6  # type, reserved, 4-byte length


@dataclass(frozen=True)
class Admitted:
    """A connection that sent its A-ASSOCIATE-RQ: the socket and the bytes read from it so far."""

    sock: socket.socket
    prefix: bytes


Handoff = Callable[[Admitted, tuple[str, int]], None]


@dataclass(frozen=True)
class GateLimits:
    #: Seconds from accept to a complete A-ASSOCIATE-RQ (TLS handshake included).
    request_timeout: float = 10.0
    #: Connections waiting for their A-ASSOCIATE-RQ, in total and per source address.
    max_pending: int = 512
    max_pending_per_address: int = 32
    #: An A-ASSOCIATE-RQ larger than this is no modality's (a typical one is under 2 KiB).
    max_request_bytes: int = 64 * 1024


@dataclass(eq=False)
class _Pending:
    sock: socket.socket
    address: str
    port: int
    deadline: float
    tls: bool
    handshaking: bool
    handoff: Handoff
    buf: bytearray = field(default_factory=bytearray)


class _Quiet:
    """At most one log line per (reason, address) per `window` seconds, with the count of the others."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def __call__(self, level: int, reason: str, address: str, message: str) -> None:
        now = time.monotonic()
        key = (reason, address)
        last, suppressed = self._last.get(key, (0.0, 0))
        if now - last < self.window:
            self._last[key] = (last, suppressed + 1)
            return
        more = f" (and {suppressed} more like it)" if suppressed else ""
        log.log(level, "%s%s", message, more)
        self._last[key] = (now, 0)
        if len(self._last) > 4096:  # bounded memory under a flood from many addresses
            self._last = {k: v for k, v in self._last.items() if now - v[0] < self.window}


class ConnectionGate:
    """One selector thread holding every connection that has not yet sent its A-ASSOCIATE-RQ."""

    def __init__(self, limits: GateLimits) -> None:
        self.limits = limits
        self._selector = selectors.DefaultSelector()
        self._inbox: collections.deque[tuple[socket.socket, tuple[str, int], ssl.SSLContext | None, Handoff]] = \
            collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: dict[socket.socket, _Pending] = {}  # insertion order = age
        self._per_address: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._quiet = _Quiet()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="connection-gate", daemon=True)
        self._thread.start()

    # --- called from the accept threads -----------------------------------------------------------

    def admit(self, sock: socket.socket, address: tuple[str, int], tls: ssl.SSLContext | None,
              handoff: Handoff) -> None:
        """Take a freshly accepted socket (TLS with `tls`); `handoff` gets it once its A-ASSOCIATE-RQ is in.
        Never blocks."""
        with self._lock:
            self._inbox.append((sock, address, tls, handoff))
        self._wake()

    @property
    def pending(self) -> int:
        """Connections waiting for their A-ASSOCIATE-RQ now."""
        with self._lock:
            return len(self._pending) + len(self._inbox)

    def stop(self) -> None:
        self._stop.set()
        self._wake()
        self._thread.join(timeout=5)
        for p in list(self._pending.values()):
            self._close(p)
        while self._inbox:
            self._inbox.popleft()[0].close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full (the gate is awake anyway) or closed (stopped)
            self._wake_w.send(b"\0")

    # --- the gate thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            timeout = 0.5
            if self._pending:
                oldest = next(iter(self._pending.values()))
                timeout = max(0.0, min(timeout, oldest.deadline - time.monotonic()))
            for key, _events in self._selector.select(timeout):
                if key.data is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                try:
                    self._progress(key.data)
                except Exception:  # one connection's trouble must never stop the gate
                    log.exception("connection from %s failed before associating", key.data.address)
                    self._close(key.data)
            self._take_inbox()
            self._expire()

    def _take_inbox(self) -> None:
        while True:
            with self._lock:
                if not self._inbox:
                    return
                sock, (host, port, *_), context, handoff = self._inbox.popleft()
            self._make_room(host)
            try:
                sock.setblocking(False)
                tls = context is not None
                if tls:
                    sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                p = _Pending(sock, host, port, time.monotonic() + self.limits.request_timeout, tls, tls, handoff)
                with self._lock:
                    self._pending[sock] = p
                self._per_address[host] += 1
                self._selector.register(sock, selectors.EVENT_READ, p)
                if tls:
                    self._progress(p)  # the handshake may need to write first
            except OSError as exc:
                log.info("connection from %s closed at once: %s", host, exc)
                sock.close()

    def _make_room(self, host: str) -> None:
        """At a bound, the oldest waiting connection (of that address first) gives way."""
        if self._per_address[host] >= self.limits.max_pending_per_address:
            victim = next(p for p in self._pending.values() if p.address == host)
            self._quiet(logging.WARNING, "per-address", host,
                        f"{host} holds {self._per_address[host]} connections without an A-ASSOCIATE-RQ "
                        f"(server.max_pending_per_address): closing its oldest")
            self._close(victim)
        if len(self._pending) >= self.limits.max_pending:
            victim = next(iter(self._pending.values()))
            self._quiet(logging.WARNING, "total", "*",
                        f"{len(self._pending)} connections without an A-ASSOCIATE-RQ (server.max_pending): "
                        f"closing the oldest, from {victim.address}")
            self._close(victim)

    def _expire(self) -> None:
        now = time.monotonic()
        while self._pending:
            oldest = next(iter(self._pending.values()))
            if oldest.deadline > now:
                return
            what = "TLS handshake" if oldest.handshaking else "A-ASSOCIATE-RQ"
            self._quiet(logging.INFO, "timeout", oldest.address,
                        f"connection from {oldest.address}:{oldest.port} closed: no complete {what} within "
                        f"{self.limits.request_timeout:g} s (server.association_request_timeout)")
            self._close(oldest)

    def _progress(self, p: _Pending) -> None:
        if p.handshaking:
            try:
                p.sock.do_handshake()  # type: ignore[attr-defined]
            except ssl.SSLWantReadError:
                self._selector.modify(p.sock, selectors.EVENT_READ, p)
                return
            except ssl.SSLWantWriteError:
                self._selector.modify(p.sock, selectors.EVENT_WRITE, p)
                return
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
                self._quiet(logging.WARNING, f"tls {reason}", p.address,
                            f"TLS handshake with {p.address}:{p.port} failed: {reason}")
                self._close(p)
                return
            p.handshaking = False
            self._selector.modify(p.sock, selectors.EVENT_READ, p)
            log.debug("TLS %s with %s:%d, peer certificate %s", p.sock.version(),  # type: ignore[attr-defined]
                      p.address, p.port, _subject(p.sock))
        self._read(p)

    def _read(self, p: _Pending) -> None:
        while True:
            try:
                chunk = p.sock.recv(self.limits.max_request_bytes + PDU_HEADER - len(p.buf) or 1)
            except (ssl.SSLWantReadError, BlockingIOError):
                break
            except ssl.SSLWantWriteError:
                self._selector.modify(p.sock, selectors.EVENT_WRITE, p)
                return
            except OSError as exc:
                log.debug("connection from %s lost before associating: %s", p.address, exc)
                self._close(p)
                return
            if not chunk:
                log.debug("connection from %s:%d closed before associating", p.address, p.port)
                self._close(p)
                return
            p.buf += chunk
            if self._complete(p):
                return
        self._selector.modify(p.sock, selectors.EVENT_READ, p)

    def _complete(self, p: _Pending) -> bool:
        """True when `p` left the gate (handed over or refused)."""
        if len(p.buf) < PDU_HEADER:
            return False
        if p.buf[0] != A_ASSOCIATE_RQ:
            self._quiet(logging.WARNING, "not-dicom", p.address,
                        f"connection from {p.address}:{p.port} closed: it sent no A-ASSOCIATE-RQ "
                        f"(first byte 0x{p.buf[0]:02X}{'' if p.tls else '; a TLS client on the plain port?'})")
            self._close(p)
            return True
        length = int.from_bytes(p.buf[2:6], "big")
        if length > self.limits.max_request_bytes:
            self._quiet(logging.WARNING, "too-long", p.address,
                        f"connection from {p.address}:{p.port} closed: A-ASSOCIATE-RQ of {length} bytes "
                        f"(at most {self.limits.max_request_bytes})")
            self._close(p)
            return True
        if len(p.buf) < PDU_HEADER + length:
            return False
        self._release(p)
        try:
            p.sock.setblocking(True)
            p.handoff(Admitted(p.sock, bytes(p.buf)), (p.address, p.port))
        except Exception:
            log.exception("association from %s could not be started", p.address)
            p.sock.close()
        return True

    def _release(self, p: _Pending) -> None:
        """Take `p` out of the gate's books (the socket stays open)."""
        with self._lock:
            if self._pending.pop(p.sock, None) is None:
                return
        self._per_address[p.address] -= 1
        if self._per_address[p.address] <= 0:
            del self._per_address[p.address]
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(p.sock)

    def _close(self, p: _Pending) -> None:
        self._release(p)
        with contextlib.suppress(OSError):
            p.sock.close()


def _subject(sock: Any) -> str:
    try:
        cert = sock.getpeercert()
    except (ValueError, OSError):
        return "none"
    if not cert:
        return "none"
    return ", ".join("=".join(pair) for rdn in cert.get("subject", ()) for pair in rdn) or "present"
