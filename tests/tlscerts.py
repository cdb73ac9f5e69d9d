"""Throw-away certificates for TLS tests, made with the openssl command line tool (Debian `openssl`).

A test CA signs the server's certificate (SAN 127.0.0.1 / localhost) and a client's; a second,
unrelated CA signs an "untrusted" client certificate. RSA 2048 keys: every BCP 195 profile of
DCMTK 3.6.7 offers RSA suites. DCMTK wants its trusted CAs as a folder of hash-named files.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _key_and_csr(folder: Path, name: str, subject: str) -> None:
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", subject, cwd=folder)


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
             f"{name}.pem", "-days", "2", "-subj", f"/CN=printserver test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)


def _sign(folder: Path, name: str, ca: str, extensions: str) -> None:
    (folder / f"{name}.ext").write_text(extensions + "\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=folder)


@dataclass(frozen=True)
class Certificates:
    folder: Path
    ca: Path
    ca_dir: Path  # the CA as a hash-named file (DCMTK's CACertificateDirectory, OpenSSL's capath)
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # signed by a CA nobody trusts
    rogue_key: Path


def make_certificates(folder: Path) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    _ca(folder, "ca")
    _ca(folder, "rogue-ca")
    _key_and_csr(folder, "server", "/CN=printserver")
    _sign(folder, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
    _key_and_csr(folder, "client", "/CN=MODALITY")
    _sign(folder, "client", "ca", "extendedKeyUsage=clientAuth")
    _key_and_csr(folder, "rogue", "/CN=ROGUE")
    _sign(folder, "rogue", "rogue-ca", "extendedKeyUsage=clientAuth")
    ca_dir = folder / "cacerts"
    ca_dir.mkdir(exist_ok=True)
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(folder / "ca.pem")], check=True,
                            capture_output=True, text=True, timeout=30).stdout.strip()
    (ca_dir / f"{digest}.0").write_bytes((folder / "ca.pem").read_bytes())
    return Certificates(folder, folder / "ca.pem", ca_dir, folder / "server.pem", folder / "server.key",
                        folder / "client.pem", folder / "client.key", folder / "rogue.pem", folder / "rogue.key")


def make_server_certificate(certs: Certificates, name: str, subject_alt_name: str) -> tuple[Path, Path]:
    """Another server certificate from the test CA, with the names given (e.g. "DNS:pacs.example"): a
    trusted chain whose names do not match the host we connect to."""
    _key_and_csr(certs.folder, name, f"/CN={name}")
    _sign(certs.folder, name, "ca", f"subjectAltName={subject_alt_name}\nextendedKeyUsage=serverAuth")
    return certs.folder / f"{name}.pem", certs.folder / f"{name}.key"
