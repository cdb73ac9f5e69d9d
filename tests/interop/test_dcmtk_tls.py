"""DICOM TLS against DCMTK (Debian's 3.6.7, linked with OpenSSL 3), whose print tools take their TLS
settings from the configuration file: DCMTK prints to `printserver serve --tls-port`, printserver's
SCU prints to dcmprscp over TLS, and an untrusted DCMTK client certificate is refused."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dcmtk import (
    DcmprscpServer,
    DcmtkPrintScu,
    DcmtkTls,
    PrintOptions,
    dcmtk_available,
    free_port,
    write_test_image,
)
from tests.serverproc import ServerProcess
from tests.tlscerts import Certificates, make_certificates

pytestmark = pytest.mark.skipif(not dcmtk_available(), reason="DCMTK print tools not installed (see README)")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def tls_server(base: Path, certs: Certificates, *more: str) -> ServerProcess:
    return ServerProcess(base, extra=["--tls-port", str(free_port()), "--tls-cert", str(certs.server_cert),
                                      "--tls-key", str(certs.server_key), "--tls-ca", str(certs.ca), *more])


def tls_port(server: ServerProcess) -> int:
    return int(server.extra[server.extra.index("--tls-port") + 1])


def server_log_says(server: ServerProcess, text: str, timeout: float = 5) -> str:
    """The server's log once it holds `text` (the server logs a refused handshake just after the alert)."""
    deadline = time.monotonic() + timeout
    while text not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log.read_text()


def dcmtk_client(certs: Certificates, cert: str = "client.pem", key: str = "client.key") -> DcmtkTls:
    return DcmtkTls(certs.folder, cert, key, certs.ca_dir, peer_authentication="REQUIRE")


def test_dcmtk_prints_to_printserver_over_tls(tmp_path: Path, certs: Certificates) -> None:
    image = write_test_image(tmp_path / "img.dcm", 64, 64, 2048)
    with tls_server(tmp_path / "server", certs, "--tls-require-client-cert") as server:
        scu = DcmtkPrintScu(tmp_path / "dcmtk", tls_port(server), options=PrintOptions(), tls=dcmtk_client(certs))
        result = scu.print_film([image])
        assert result.ok, result.stdout + result.stderr
        (pdf,) = server.wait_drained(1)
        assert pdf.stat().st_size > 0
        log = server.log.read_text()
    assert "DICOM TLS on port" in log


def test_an_untrusted_dcmtk_client_certificate_is_refused(tmp_path: Path, certs: Certificates) -> None:
    image = write_test_image(tmp_path / "img.dcm", 64, 64, 2048)
    with tls_server(tmp_path / "server", certs, "--tls-require-client-cert") as server:
        rogue = dcmtk_client(certs, "rogue.pem", "rogue.key")
        result = DcmtkPrintScu(tmp_path / "dcmtk", tls_port(server), options=PrintOptions(), tls=rogue,
                               timeout=15).print_film([image])
        assert not result.ok
        assert not server.pdfs()
        log = server_log_says(server, "CERTIFICATE_VERIFY_FAILED")
    assert "TLS handshake with 127.0.0.1" in log and "CERTIFICATE_VERIFY_FAILED" in log


def test_a_plain_dcmtk_client_on_the_tls_port_is_refused_cleanly(tmp_path: Path, certs: Certificates) -> None:
    image = write_test_image(tmp_path / "img.dcm", 64, 64, 2048)
    with tls_server(tmp_path / "server", certs) as server:
        result = DcmtkPrintScu(tmp_path / "dcmtk", tls_port(server), options=PrintOptions(),
                               timeout=15).print_film([image])
        assert not result.ok and not server.pdfs()
        log = server_log_says(server, "TLS handshake with 127.0.0.1")
        assert "TLS handshake with 127.0.0.1" in log  # a clear line, no traceback
        assert "Traceback" not in log
        secured = DcmtkPrintScu(tmp_path / "dcmtk2", tls_port(server), options=PrintOptions(),
                                tls=dcmtk_client(certs)).print_film([image])
        assert secured.ok, secured.stdout + secured.stderr  # and the port still serves


def test_printserver_prints_to_dcmprscp_over_tls(tmp_path: Path, certs: Certificates) -> None:
    image = write_test_image(tmp_path / "img.dcm", 64, 64, 2048)
    server_side = DcmtkTls(certs.folder, "server.pem", "server.key", certs.ca_dir, peer_authentication="REQUIRE")
    with DcmprscpServer(tmp_path / "dcmprscp", tls=server_side) as peer:
        out = subprocess.run([sys.executable, "-m", "printserver", "print", "--host", "127.0.0.1", "--port",
                              str(peer.port), "--called-ae", peer.aetitle, "--tls", "--tls-ca", str(certs.ca),
                              "--tls-cert", str(certs.client_cert), "--tls-key", str(certs.client_key), str(image)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr + peer.log()
        assert len(peer.films()) == 1
        plain = subprocess.run([sys.executable, "-m", "printserver", "status", "--host", "127.0.0.1", "--port",
                                str(peer.port), "--called-ae", peer.aetitle, "--timeout", "10"],
                               capture_output=True, text=True, timeout=60)
        assert plain.returncode != 0  # the same SCP without --tls: no association
