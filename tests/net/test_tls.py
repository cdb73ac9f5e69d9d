"""DICOM TLS over real loopback sockets: printserver's SCU to printserver's TLS port, and every way a
connection can get TLS wrong (plain on the TLS port, TLS on the plain port, untrusted or missing
client certificate, a client that never finishes its handshake, a TLS-only printer called in clear)."""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pynetdicom import AE

from printserver import config
from printserver.errors import ConfigError
from printserver.model.pixels import GrayscaleImage
from printserver.net import tls
from printserver.net.scp import PrintServer
from printserver.scu.client import PrintClient
from printserver.scu.films import FilmBoxOptions, FilmOptions
from printserver.scu.transport import PrintClientError
from tests.printscu import META
from tests.tlscerts import Certificates, make_certificates

IMAGE = GrayscaleImage(np.full((32, 32), 2000, np.uint16), 12, "MONOCHROME2")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


Start = Callable[..., PrintServer]


@pytest.fixture
def start(tmp_path: Path, certs: Certificates) -> Iterator[Start]:
    """start(require_client_cert=..., tls_only=..., **server): a PrintServer with a TLS port; stopped after."""
    servers: list[PrintServer] = []

    def run(*, require_client_cert: bool = False, tls_only: bool = False, **server: object) -> PrintServer:
        base = config.load(None)
        folder = tmp_path / f"s{len(servers)}"
        printer = replace(base.printers[0], pdf_dir=str(folder / "films"), tls_only=tls_only)
        cfg = config.validated(replace(
            base, host="127.0.0.1", port=1, tls_port=2, spool_dir=str(folder / "spool"), printers=(printer,),
            tls_cert=str(certs.server_cert), tls_key=str(certs.server_key), tls_ca=str(certs.ca),
            tls_require_client_cert=require_client_cert, **server))
        srv = PrintServer(replace(cfg, port=0, tls_port=0))  # ephemeral ports, after validation
        srv.start()
        servers.append(srv)
        return srv

    yield run
    for srv in servers:
        srv.stop()


def print_one(port: int, context: ssl.SSLContext | None, timeout: float = 10) -> bool:
    with PrintClient.connect("127.0.0.1", port, "PRINTSCP", timeout=timeout, tls=context) as client:
        return client.print_images([IMAGE], FilmOptions(film_box=FilmBoxOptions("STANDARD\\1,1"))).ok


def test_the_scu_prints_over_tls_with_tls_1_3_and_1_2(start: Start, certs: Certificates) -> None:
    server = start()
    assert server.tls_port and server.tls_port != server.port
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        context = tls.client_context(str(certs.ca))
        context.maximum_version = version
        assert print_one(server.tls_port, context)
    assert print_one(server.port, None)  # the plain port goes on beside it


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused(start: Start, certs: Certificates) -> None:
    server = start()
    context = tls.client_context(str(certs.ca))
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", server.tls_port), timeout=5) as raw, \
            pytest.raises((ssl.SSLError, OSError)):
        context.wrap_socket(raw).close()


def test_a_plain_client_on_the_tls_port_is_refused_cleanly(start: Start, caplog: pytest.LogCaptureFixture) -> None:
    server = start()
    ae = AE(ae_title="PLAIN")
    ae.acse_timeout = ae.network_timeout = 5
    ae.add_requested_context(META)
    with caplog.at_level(logging.WARNING, logger="printserver.net.gate"):
        assoc = ae.associate("127.0.0.1", server.tls_port, ae_title="PRINTSCP")
        assert not assoc.is_established
        ae.shutdown()
        deadline = time.monotonic() + 3
        while not handshake_failures(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert any("TLS handshake with 127.0.0.1" in m for m in handshake_failures(caplog))
    assert print_one(server.tls_port, _trusting(server)), "the TLS port still serves"


def _trusting(server: PrintServer) -> ssl.SSLContext:
    return tls.client_context(server.config.tls_ca)


def test_a_tls_client_on_the_plain_port_is_closed_with_a_reason(start: Start,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    server = start()
    with caplog.at_level(logging.WARNING, logger="printserver.net.gate"), \
            pytest.raises(PrintClientError, match="TLS"):
        print_one(server.port, _trusting(server), timeout=5)
    assert any("a TLS client on the plain port?" in r.getMessage() for r in caplog.records)


def test_client_certificates_when_required(start: Start, certs: Certificates,
                                           caplog: pytest.LogCaptureFixture) -> None:
    server = start(require_client_cert=True)
    trusted = tls.client_context(str(certs.ca), str(certs.client_cert), str(certs.client_key))
    assert print_one(server.tls_port, trusted)
    rogue = tls.client_context(str(certs.ca), str(certs.rogue_cert), str(certs.rogue_key))
    anonymous = tls.client_context(str(certs.ca))
    with caplog.at_level(logging.WARNING, logger="printserver.net.gate"):
        for context in (rogue, anonymous):
            with pytest.raises(PrintClientError):
                print_one(server.tls_port, context, timeout=5)
        # with TLS 1.3 the client may see the server's alert before the gate thread has logged it
        deadline = time.monotonic() + 3
        while len(handshake_failures(caplog)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    reasons = handshake_failures(caplog)
    assert any("CERTIFICATE_VERIFY_FAILED" in m for m in reasons), reasons  # the rogue CA
    assert any("PEER_DID_NOT_RETURN_A_CERTIFICATE" in m for m in reasons), reasons


def handshake_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "TLS handshake" in r.getMessage()]


def test_the_scu_refuses_a_server_it_does_not_trust(start: Start, certs: Certificates) -> None:
    server = start()
    stranger = tls.client_context(str(certs.folder / "rogue-ca.pem"))
    with pytest.raises(PrintClientError, match="TLS"):
        print_one(server.tls_port, stranger, timeout=5)


def test_a_silent_tls_client_blocks_nobody_and_is_closed_at_its_deadline(start: Start) -> None:
    """pynetdicom 3.0.x would do this handshake in its accept thread and wait for it."""
    server = start(association_request_timeout=1.0)
    silent = [socket.create_connection(("127.0.0.1", server.tls_port), timeout=5) for _ in range(3)]
    try:
        began = time.monotonic()
        assert print_one(server.tls_port, _trusting(server))
        assert time.monotonic() - began < 5
        time.sleep(1.5)
        for s in silent:
            s.settimeout(2)
            assert s.recv(1) == b""  # closed by the server at the deadline
    finally:
        for s in silent:
            s.close()


def test_a_tls_only_printer_refuses_plain_associations(start: Start) -> None:
    server = start(tls_only=True)
    ae = AE(ae_title="PLAIN")
    ae.acse_timeout = ae.network_timeout = 5
    ae.add_requested_context(META)
    assoc = ae.associate("127.0.0.1", server.port, ae_title="PRINTSCP")
    try:
        assert assoc.is_rejected
    finally:
        ae.shutdown()
    assert print_one(server.tls_port, _trusting(server))


def test_tls_configuration_errors_name_the_key(certs: Certificates, tmp_path: Path) -> None:
    base = config.load(None)
    with pytest.raises(ConfigError, match=r"server\.tls_key"):
        config.validated(replace(base, tls_cert=str(certs.server_cert)))
    with pytest.raises(ConfigError, match="tls_cert"):
        config.validated(replace(base, tls_cert=str(certs.client_cert), tls_key=str(certs.server_key)))
    with pytest.raises(ConfigError, match=r"server\.tls_require_client_cert"):
        config.validated(replace(base, tls_cert=str(certs.server_cert), tls_key=str(certs.server_key),
                                 tls_require_client_cert=True))
    with pytest.raises(ConfigError, match=r"printer\.tls_only"):
        config.validated(replace(base, printers=(replace(base.printers[0], tls_only=True),)))
    with pytest.raises(ConfigError, match=r"server\.tls_port"):
        config.validated(replace(base, tls_cert=str(certs.server_cert), tls_key=str(certs.server_key),
                                 tls_port=base.port))
