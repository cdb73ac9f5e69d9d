"""DICOM TLS (PS3.15 Annex B, BCP 195 / RFC 9325): the listener's and the client's SSL contexts.

TLS 1.2 at least, 1.3 where the peer can; for TLS 1.2 only forward-secret AEAD suites (ECDHE/DHE
with AES-GCM or ChaCha20-Poly1305), as BCP 195 recommends; TLS 1.3 suites are OpenSSL's (all AEAD).
The client checks the server's certificate chain against `ca` (else the system's trust store) but
not its host name: DICOM peers are addressed by IP as often as by name and identified by AE title
and certificate, as DCMTK does by default. The same `client_context()` serves `printserver print`
and any output that connects out (PACS, relay).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from printserver.errors import ConfigError

#: BCP 195 (RFC 9325 4.2) recommended TLS 1.2 cipher suites, in OpenSSL's notation.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def _base(purpose: ssl.Purpose) -> ssl.SSLContext:
    context = ssl.create_default_context(purpose)
    context.minimum_version = MINIMUM_VERSION
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    return context


def _load_chain(context: ssl.SSLContext, cert: str, key: str, what: str) -> None:
    for name, path in ((f"{what}_cert", cert), (f"{what}_key", key)):
        if not Path(path).is_file():
            raise ConfigError(f"{name}: {path} is not a readable file")
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"{what}_cert / {what}_key: {cert} and {key} are no matching PEM certificate and "
                          f"key ({getattr(exc, 'reason', None) or exc})") from None


def _load_ca(context: ssl.SSLContext, ca: str, key: str) -> None:
    try:
        if Path(ca).is_dir():
            context.load_verify_locations(capath=ca)
        else:
            context.load_verify_locations(cafile=ca)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"{key}: {ca} holds no PEM CA certificate ({getattr(exc, 'reason', None) or exc})") \
            from None


def server_context(cert: str, key: str, ca: str = "", require_client_cert: bool = False) -> ssl.SSLContext:
    """The TLS listener's context. With `ca`, a client certificate is checked when presented (and
    required with `require_client_cert`); ConfigError names the key that is wrong."""
    context = _base(ssl.Purpose.CLIENT_AUTH)
    _load_chain(context, cert, key, "server.tls")
    if require_client_cert and not ca:
        raise ConfigError("server.tls_require_client_cert: needs server.tls_ca (the CA client certificates "
                          "must chain to)")
    if ca:
        _load_ca(context, ca, "server.tls_ca")
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    else:
        context.verify_mode = ssl.CERT_NONE
    return context


def client_context(ca: str = "", cert: str = "", key: str = "") -> ssl.SSLContext:
    """A context for connecting out: the server's chain checked against `ca` (else the system's
    store); our own certificate presented when `cert` and `key` are given."""
    context = _base(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    if ca:
        _load_ca(context, ca, "tls_ca")
    if cert or key:
        if not (cert and key):
            raise ConfigError("tls_cert / tls_key: give both or neither")
        _load_chain(context, cert, key, "tls")
    return context


def association_tls_args(host: str, ca: str = "", cert: str = "", key: str = "") -> tuple[ssl.SSLContext, str]:
    """What pynetdicom's `AE.associate(..., tls_args=...)` takes, for anything that connects out over DICOM
    TLS (the SCU; the PACS and relay outputs): the client context and the peer's host name."""
    return client_context(ca, cert, key), host
