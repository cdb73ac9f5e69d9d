"""DICOM TLS for the outputs that connect out (issue 11): the `pacs` output to DCMTK storescp with `+tls`,
the `relay` output to printserver's own TLS listener — and every way it can go wrong (untrusted server
certificate, a host name the certificate does not name, a plain peer, a peer that wants our certificate),
each ending as a retry whose reason, and the printer's health, name the problem. Certificates from
tests/tlscerts.py; every peer on loopback, stopped by the test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from printserver import config
from printserver.config import PrinterProfile
from printserver.errors import ConfigError
from printserver.net.scp import PrintServer
from printserver.outputs.base import RASTERS, Done, Retry, Wait
from printserver.outputs.pacs import PacsArchive
from printserver.outputs.plan import check_outputs
from printserver.outputs.relay import DicomRelay
from tests.dcmtk import LOCALHOST
from tests.orthanc import StoreSCP, dciodvfy, storescp_available
from tests.outputs.test_pacs import spooled
from tests.outputs.test_relay import spooled as relay_job
from tests.tlscerts import Certificates, make_certificates, make_server_certificate

needs_storescp = pytest.mark.skipif(not storescp_available(), reason="DCMTK storescp not installed")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def tls_storescp(base: Path, certs: Certificates, cert: Path | None = None, key: Path | None = None,
                 peer: str = "-rc") -> StoreSCP:
    """storescp on DICOM TLS (BCP 195 non-downgrading, its default profile); `-rc`: our certificate required
    and checked against the test CA."""
    return StoreSCP(base, args=["+tls", str(key or certs.server_key), str(cert or certs.server_cert),
                                "+cf", str(certs.ca), peer])


def pacs(scp: StoreSCP, **table: Any) -> PacsArchive:
    profile = replace(PrinterProfile(), ae_title="FILMS", output_tables={"pacs": [
        {"called_ae": scp.aet, "host": LOCALHOST, "port": scp.port, "timeout": 10} | table]})
    (out,) = PacsArchive.from_profile(profile, "printer[0]")
    return out


def our_cert(certs: Certificates) -> dict[str, str]:
    return {"tls_ca": str(certs.ca), "tls_cert": str(certs.client_cert), "tls_key": str(certs.client_key)}


@needs_storescp
def test_a_film_archived_over_tls_lands_in_storescp_and_passes_dciodvfy(certs: Certificates, tmp_path: Path) -> None:
    with tls_storescp(tmp_path / "scp", certs) as scp:
        out = pacs(scp, **our_cert(certs))
        assert out.tls and out.check() is None and "DICOM TLS" in out.describe()
        step = out.deliver(spooled(tmp_path, films=1))
        health = out.health()
        received = scp.files()
    assert isinstance(step, Done), step
    assert health == ("NORMAL", "NORMAL", ""), "the C-ECHO of the health check goes over TLS too"
    (path,) = received
    assert path.name.startswith("SC.") and dcmread(path).Modality == "OT"
    assert dciodvfy(path)[0] == []


@needs_storescp
def test_an_untrusted_server_certificate_is_a_retry_naming_the_certificate(certs: Certificates,
                                                                           tmp_path: Path) -> None:
    with tls_storescp(tmp_path / "scp", certs) as scp:
        out = pacs(scp, **our_cert(certs) | {"tls_ca": str(certs.folder / "rogue-ca.pem")})
        step = out.deliver(spooled(tmp_path, films=1))
        status, info, why = out.health()
        received = scp.files()
    assert isinstance(step, Retry) and step.memo["stored"] == [], step
    assert "certificate is not trusted" in step.reason and "check tls_ca" in step.reason
    assert (status, info) == ("WARNING", "CHECK PRINTER") and "certificate is not trusted" in why
    assert received == []


@needs_storescp
def test_a_host_name_the_certificate_does_not_name_fails_only_when_checked(certs: Certificates,
                                                                         tmp_path: Path) -> None:
    cert, key = make_server_certificate(certs, "elsewhere", "DNS:pacs.elsewhere.example")
    with tls_storescp(tmp_path / "scp", certs, cert, key) as scp:
        strict = pacs(scp, **our_cert(certs), tls_verify_hostname=True).deliver(spooled(tmp_path / "a", films=1))
        lenient = pacs(scp, **our_cert(certs)).deliver(spooled(tmp_path / "b", films=1))
    assert isinstance(strict, Retry) and "does not name this host" in strict.reason, strict
    assert "127.0.0.1" in strict.reason
    assert isinstance(lenient, Done), "the chain is trusted: without tls_verify_hostname, as DCMTK, it is enough"


@needs_storescp
def test_a_plain_peer_on_a_tls_destination_is_a_retry_saying_so(certs: Certificates, tmp_path: Path) -> None:
    with StoreSCP(tmp_path / "scp") as scp:
        out = pacs(scp, tls_ca=str(certs.ca), timeout=5)
        step = out.deliver(spooled(tmp_path, films=1))
        why = out.health()[2]
    assert isinstance(step, Retry) and "no TLS handshake" in step.reason and "TLS port" in step.reason, step
    assert "no TLS handshake" in why


@needs_storescp
def test_a_tls_peer_that_wants_our_certificate_says_so(certs: Certificates, tmp_path: Path) -> None:
    with tls_storescp(tmp_path / "scp", certs) as scp:
        step = pacs(scp, tls_ca=str(certs.ca)).deliver(spooled(tmp_path, films=1))
        assert scp.files() == []
    assert isinstance(step, Retry) and "TLS" in step.reason and "tls_cert" in step.reason, step


def peer_profile(**table: Any) -> PrinterProfile:
    return replace(PrinterProfile(), ae_title="FILMS", output_tables={
        "pacs": [{"called_ae": "PACS", "host": LOCALHOST, "port": 4242} | table],
        "relay": [{"called_ae": "LASER", "host": LOCALHOST, "port": 104} | table]})


@pytest.mark.parametrize(("table", "key"), [
    ({"tls": "yes"}, "tls"),
    ({"tls_ca": 5}, "tls_ca"),
    ({"tls_cert": "a.pem"}, "tls_key"),
    ({"tls_key": "a.key"}, "tls_cert"),
    ({"tls": False, "tls_ca": "ca.pem"}, "tls"),
    ({"tls_verify_hostname": 1}, "tls_verify_hostname"),
])
def test_tls_keys_are_checked_when_the_configuration_is_read(table: dict[str, Any], key: str) -> None:
    for kind, cls in (("pacs", PacsArchive), ("relay", DicomRelay)):
        with pytest.raises(ConfigError) as err:
            cls.from_profile(peer_profile(**table), "printer[0]")
        assert str(err.value).startswith(f"printer[0].{kind}[0].{key}:"), err.value


def test_any_tls_key_means_tls_and_the_settings_travel_with_the_job(certs: Certificates) -> None:
    profile = peer_profile(tls_ca=str(certs.ca))
    for cls in (PacsArchive, DicomRelay):
        (out,) = cls.from_profile(profile, "printer[0]")
        assert out.tls and out.tls_ca == str(certs.ca) and not out.tls_verify_hostname
        assert cls.from_settings(out.settings()) == out
        old = {k: v for k, v in out.settings().items() if not k.startswith("tls")}  # a job spooled before TLS
        assert not cls.from_settings(old).tls


@pytest.mark.parametrize(("files", "key"), [
    ({"tls_ca": "missing-ca.pem"}, "tls_ca"),
    ({"tls_cert": "missing.pem", "tls_key": "client.key"}, "tls_cert"),
    ({"tls_cert": "client.pem", "tls_key": "server.key"}, "tls_cert / tls_key"),  # not its key
])
def test_missing_or_wrong_tls_files_stop_serve_naming_the_key(certs: Certificates, files: dict[str, str],
                                                              key: str) -> None:
    table = {name: str(certs.folder / value) for name, value in files.items()}
    cfg = replace(config.load(None), printers=(peer_profile(**table),))
    with pytest.raises(ConfigError) as err:
        check_outputs(cfg)
    message = str(err.value)
    assert f"printer[0].pacs[0].{key}" in message and f"printer[0].relay[0].{key}" in message, message


# --- the relay: printserver's own SCP with its TLS listener as the upstream imager -------------------------

@pytest.fixture
def upstream(tmp_path: Path, certs: Certificates) -> Iterator[Callable[..., PrintServer]]:
    servers: list[PrintServer] = []

    def start(require_client_cert: bool = False) -> PrintServer:
        base = config.load(None)
        folder = tmp_path / f"upstream{len(servers)}"
        printer = replace(base.printers[0], pdf_dir=str(folder / "films"))
        cfg = config.validated(replace(
            base, host=LOCALHOST, port=1, tls_port=2, spool_dir=str(folder / "spool"), printers=(printer,),
            tls_cert=str(certs.server_cert), tls_key=str(certs.server_key), tls_ca=str(certs.ca),
            tls_require_client_cert=require_client_cert))
        server = PrintServer(replace(cfg, port=0, tls_port=0))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def relay(server: PrintServer, **table: Any) -> DicomRelay:
    profile = replace(PrinterProfile(), ae_title="FILMS", output_tables={"relay": [
        {"called_ae": "PRINTSCP", "host": LOCALHOST, "port": server.tls_port, "timeout": 10} | table]})
    (out,) = DicomRelay.from_profile(profile, "printer[0]")
    return out


def pdfs(server: PrintServer, timeout: float = 30) -> list[Path]:
    import time

    folder = Path(server.config.printers[0].pdf_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.rglob("*.pdf")) if folder.is_dir() else []
        if found:
            return found
        time.sleep(0.1)
    return []


def test_a_film_relayed_over_tls_prints_upstream_and_health_asks_over_tls(upstream: Callable[..., PrintServer],
                                                                          certs: Certificates,
                                                                          tmp_path: Path) -> None:
    server = upstream(require_client_cert=True)
    out = relay(server, **our_cert(certs))
    assert out.check() is None and "DICOM TLS" in out.describe()
    job = relay_job(tmp_path)
    step = out.deliver(job)
    assert isinstance(step, Wait) and list(step.memo["jobs"]) == ["film1"], step  # it has Print Job: followed
    for _ in range(40):  # polled over TLS too, on associations of their own
        if not isinstance(step, Wait):
            break
        time.sleep(step.after)
        step = out.deliver(replace(job, memo=step.memo))
    assert isinstance(step, Done) and "its Print Job says DONE" in step.detail, step
    assert len(pdfs(server)) == 1, "the upstream printed the film"
    fresh = relay(server, **our_cert(certs), calling_ae="HEALTH")  # another key: no cached health
    assert fresh.health() == ("NORMAL", "NORMAL", "")
    plain = relay(server, port=server.port)  # the upstream's plain port still works without TLS
    assert plain.health()[0] == "NORMAL"


def test_an_untrusted_upstream_certificate_is_a_retry_and_health_names_it(upstream: Callable[..., PrintServer],
                                                                          certs: Certificates,
                                                                          tmp_path: Path) -> None:
    server = upstream()
    out = relay(server, tls_ca=str(certs.folder / "rogue-ca.pem"))
    step = out.deliver(relay_job(tmp_path))
    status, info, why = out.health()
    assert isinstance(step, Retry) and "certificate is not trusted" in step.reason, step
    assert (status, info) == ("WARNING", "PRINTER OFFLINE") and "certificate is not trusted" in why
    assert pdfs(server, timeout=1) == []


def test_an_upstream_that_requires_our_certificate_says_so(upstream: Callable[..., PrintServer],
                                                           certs: Certificates, tmp_path: Path) -> None:
    server = upstream(require_client_cert=True)
    step = relay(server, tls_ca=str(certs.ca)).deliver(relay_job(tmp_path))
    assert isinstance(step, Retry) and "tls_cert" in step.reason, step
    plain = relay(server, port=server.tls_port, tls=False, timeout=3).deliver(relay_job(tmp_path / "b"))
    assert isinstance(plain, Retry), plain


def test_serve_refuses_a_missing_tls_file_with_exit_2_and_check_config_shows_tls(certs: Certificates,
                                                                                 tmp_path: Path) -> None:
    import subprocess
    import sys

    def config(ca: Path) -> Path:
        path = tmp_path / f"{ca.stem}.toml"
        path.write_text(f'[[printer]]\nae_title = "FILMS"\n[[printer.pacs]]\ncalled_ae = "PACS"\nhost = "127.0.0.1"\n'
                        f'port = 4242\ntls_ca = "{ca}"\n')
        return path

    run = subprocess.run([sys.executable, "-m", "printserver", "serve", "--config", str(config(tmp_path / "gone.pem")),
                          "--spool", str(tmp_path / "spool"), "--port", "1", "--no-web"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "printer[0].pacs[0].tls_ca" in run.stderr and "gone.pem" in run.stderr, run
    out = subprocess.run([sys.executable, "-m", "printserver", "check-config", str(config(certs.ca))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "PACS PACS at 127.0.0.1:4242" in out.stdout and "DICOM TLS" in out.stdout, out


def test_orthanc_over_dicom_tls_stores_the_compressed_film_and_refuses_us_in_clear(certs: Certificates,
                                                                                    tmp_path: Path) -> None:
    """Orthanc as the TLS PACS (DicomTlsEnabled, our certificate required): the film arrives JPEG-LS over TLS and
    Orthanc decodes our pixels; the same archive configured without TLS is a retry, nothing stored."""
    import io

    import numpy as np

    from tests.orthanc import Orthanc, orthanc_available

    if not orthanc_available():
        pytest.skip("orthanc not installed")
    tls = {"DicomTlsEnabled": True, "DicomTlsCertificate": str(certs.server_cert),
           "DicomTlsPrivateKey": str(certs.server_key), "DicomTlsTrustedCertificates": str(certs.ca),
           "DicomTlsRemoteCertificateRequired": True}
    with Orthanc(tmp_path / "orthanc", extra=tls) as orthanc:
        table = {"called_ae": orthanc.aet, "host": LOCALHOST, "port": orthanc.dicom_port, "timeout": 10}
        profile = replace(PrinterProfile(), ae_title="FILMS", output_tables={"pacs": [
            table | our_cert(certs), table | {"calling_ae": "INCLEAR", "timeout": 3}]})
        secure, clear = PacsArchive.from_profile(profile, "printer[0]")
        job = spooled(tmp_path / "a", films=1)
        plain = clear.deliver(spooled(tmp_path / "b", films=1))
        assert isinstance(plain, Retry) and orthanc.instances() == [], plain
        step = secure.deliver(job)
        assert isinstance(step, Done), step
        assert step.memo["transfer_syntax"] == {"film1": "JPEG-LS Lossless Image Compression"}
        (instance,) = orthanc.instances()
        decoded = np.load(io.BytesIO(orthanc._open(f"/instances/{instance}/numpy")))
        raster = np.load(job.rendition(RASTERS))["film0"]
        assert np.array_equal(decoded.reshape(raster.shape).astype(np.int64), (raster >> 4).astype(np.int64))
        assert secure.health() == ("NORMAL", "NORMAL", "")
