"""Connections and associations: idle sockets take no modality's place, limits refuse with A-ASSOCIATE-RJ
transient (local limit exceeded) and a log line, idle associations end. The books (net/limits.py) are
tested in memory; the wire where the wire is the point (a bounded count of loopback sockets)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pynetdicom import AE

from printserver import config
from printserver.model.pixels import GrayscaleImage
from printserver.net.limits import AssociationLimits, Occupancy
from printserver.net.scp import PrintServer
from printserver.scu.client import PrintClient
from printserver.scu.films import FilmBoxOptions, FilmOptions
from tests.printscu import META

IMAGE = GrayscaleImage(np.full((32, 32), 2000, np.uint16), 12, "MONOCHROME2")
Start = Callable[..., PrintServer]


# --- the books, in memory ----------------------------------------------------------------------------


def test_occupancy_limits_total_per_calling_ae_and_per_address() -> None:
    books = Occupancy(AssociationLimits(total=3, per_calling_ae=2, per_address=2))
    a, b, c, d, e = (object() for _ in range(5))
    assert books.enter(a, "CT1", "10.0.0.1") is None
    assert books.enter(b, "CT1", "10.0.0.2") is None
    assert "calling AE 'CT1'" in (books.enter(c, "CT1", "10.0.0.3") or "")
    assert books.enter(c, "MR1", "10.0.0.1") is None
    assert "max_associations)" in (books.enter(d, "US1", "10.0.0.4") or "")
    books.leave(b)
    books.leave(b)  # idempotent
    assert "10.0.0.1 already" in (books.enter(d, "US1", "10.0.0.1") or "")
    assert books.enter(e, "US1", "10.0.0.5") is None
    assert books.count == 3
    for x in (a, c, e):
        books.leave(x)
    assert books.count == 0 and books.enter(d, "CT1", "10.0.0.1") is None


# --- over the wire -------------------------------------------------------------------------------------


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    servers: list[PrintServer] = []

    def run(**server: object) -> PrintServer:
        base = config.load(None)
        folder = tmp_path / f"s{len(servers)}"
        printer = replace(base.printers[0], pdf_dir=str(folder / "films"))
        cfg = config.validated(replace(base, host="127.0.0.1", port=1, spool_dir=str(folder / "spool"),
                                       printers=(printer,), **server))
        srv = PrintServer(replace(cfg, port=0))
        srv.start()
        servers.append(srv)
        return srv

    yield run
    for srv in servers:
        srv.stop()


def print_one(port: int, calling_ae: str = "MODALITY") -> bool:
    with PrintClient.connect("127.0.0.1", port, "PRINTSCP", calling_ae, timeout=10) as client:
        return client.print_images([IMAGE], FilmOptions(film_box=FilmBoxOptions("STANDARD\\1,1"))).ok


def wait_for(condition: Callable[[], bool], timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def closed_by_peer(sock: socket.socket, timeout: float = 3) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, OSError):
        return False


IDLE = 300


def test_hundreds_of_idle_connections_take_no_place_and_printing_goes_on(start: Start) -> None:
    """300 TCP connections that never send an A-ASSOCIATE-RQ, against a server allowing 2 associations."""
    server = start(max_associations=2, max_pending=IDLE + 10, max_pending_per_address=IDLE + 10,
                   association_request_timeout=3.0)
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(IDLE)]
    try:
        assert server.gate is not None and wait_for(lambda: server.gate.pending == IDLE)
        began = time.monotonic()
        assert print_one(server.port) and print_one(server.port)  # one after the other: both slots free
        assert time.monotonic() - began < 10
        assert server.gate.pending == IDLE  # still held, still not associations
        assert wait_for(lambda: server.gate.pending == 0, timeout=6)  # the deadline closed them
        assert all(closed_by_peer(s) for s in idle[:10])
    finally:
        for s in idle:
            s.close()


def test_connections_without_a_request_are_bounded_per_address(start: Start,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    server = start(max_pending_per_address=5)
    with caplog.at_level(logging.WARNING, logger="printserver.net.gate"):
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(20)]
        try:
            assert server.gate is not None and wait_for(lambda: server.gate.pending == 5)
            assert all(closed_by_peer(s) for s in idle[:15])  # the oldest gave way
            assert print_one(server.port)
        finally:
            for s in idle:
                s.close()
    assert any("server.max_pending_per_address" in r.getMessage() for r in caplog.records)


def associate(port: int, calling_ae: str) -> tuple[AE, object]:
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.network_timeout = ae.dimse_timeout = 10
    ae.add_requested_context(META)
    return ae, ae.associate("127.0.0.1", port, ae_title="PRINTSCP")


def rejection(assoc: object) -> tuple[int, int, int] | None:
    rsp = assoc.acceptor.primitive  # type: ignore[attr-defined]
    if not assoc.is_rejected or rsp is None:  # type: ignore[attr-defined]
        return None
    return rsp.result, rsp.result_source, rsp.diagnostic


TRANSIENT_LOCAL_LIMIT = (0x02, 0x03, 0x02)


@pytest.mark.parametrize("limit, second_ae, why", [
    ({"max_associations": 1}, "OTHER", "server.max_associations"),
    ({"max_associations_per_calling_ae": 1}, "CT1", "server.max_associations_per_calling_ae"),
    ({"max_associations_per_address": 1}, "OTHER", "server.max_associations_per_address"),
], ids=["total", "per-calling-ae", "per-address"])
def test_at_a_limit_the_association_is_refused_transient_with_a_log_line(
        start: Start, caplog: pytest.LogCaptureFixture, limit: dict[str, int], second_ae: str, why: str) -> None:
    server = start(**limit)
    held_ae, held = associate(server.port, "CT1")
    try:
        assert held.is_established  # type: ignore[attr-defined]
        with caplog.at_level(logging.WARNING, logger="printserver.net.acceptance"):
            ae, refused = associate(server.port, second_ae)
            ae.shutdown()
        assert rejection(refused) == TRANSIENT_LOCAL_LIMIT
        assert any(why in r.getMessage() and "local limit exceeded" in r.getMessage() for r in caplog.records)
        if "per_calling_ae" in why:
            ae, other = associate(server.port, "MR1")  # another modality is not held to CT1's count
            assert other.is_established  # type: ignore[attr-defined]
            other.release()  # type: ignore[attr-defined]
            ae.shutdown()
    finally:
        if held.is_established:  # type: ignore[attr-defined]
            held.release()  # type: ignore[attr-defined]
        held_ae.shutdown()
    assert wait_for(lambda: server.occupancy.count == 0)
    assert print_one(server.port)  # the place is free again


def test_an_idle_association_is_ended_after_network_timeout(start: Start) -> None:
    server = start(network_timeout=1.0)
    ae, assoc = associate(server.port, "SLEEPY")
    try:
        assert assoc.is_established  # type: ignore[attr-defined]
        assert wait_for(lambda: not assoc.is_established, timeout=5)  # type: ignore[attr-defined]
        assert assoc.is_aborted  # type: ignore[attr-defined]
    finally:
        ae.shutdown()
    assert wait_for(lambda: server.occupancy.count == 0)
