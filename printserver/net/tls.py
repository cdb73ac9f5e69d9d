"""DICOM TLS (PS3.15 Annex B, BCP 195 / RFC 9325): the listener's and the client's SSL contexts.

TLS 1.2 at least, 1.3 where the peer can; for TLS 1.2 only forward-secret AEAD suites (ECDHE/DHE
with AES-GCM or ChaCha20-Poly1305), as BCP 195 recommends; TLS 1.3 suites are OpenSSL's (all AEAD).
The client checks the server's certificate chain against `ca` (else the system's trust store) but
not its host name unless asked (`tls_verify_hostname` of an output): DICOM peers are addressed by IP
as often as by name and identified by AE title and certificate, as DCMTK does by default. The same
`client_context()` serves `printserver print` and the outputs that connect out (PACS, relay:
outputs/dicom_peer.py); it remembers why its handshake failed (`handshake_problem`), which pynetdicom
only logs.
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


class _ClientSocket(ssl.SSLSocket):
    """Keeps why TLS failed on its context: pynetdicom only logs it and reports "aborted". With TLS 1.3
    a server refusing our certificate says so after the client's handshake is done: its alert arrives
    on the first read, so reads are watched too."""

    def _note(self, exc: OSError) -> None:
        if not getattr(self.context, "handshake_problem", ""):
            self.context.handshake_problem = _describe(exc)  # type: ignore[attr-defined]

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except OSError as exc:
            self._note(exc)
            raise

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        try:
            return super().recv(buflen, flags)
        except ssl.SSLError as exc:
            self._note(exc)
            raise


def _describe(exc: OSError) -> str:
    """One line a user can act on, naming the certificate problem where there is one."""
    if isinstance(exc, ssl.SSLCertVerificationError) and "mismatch" in str(exc.verify_message):
        return f"the peer's certificate does not name this host ({exc.verify_message} check host, " \
               f"tls_verify_hostname)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the peer's certificate is not trusted ({exc.verify_message}; check tls_ca)"
    if isinstance(exc, TimeoutError | ssl.SSLEOFError | ConnectionResetError | BrokenPipeError):
        return f"no TLS handshake ({exc.__class__.__name__}: {exc.strerror or exc}; is it a TLS port?)"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or exc.strerror or str(exc)
        if reason == "WRONG_VERSION_NUMBER":
            return f"no TLS handshake ({reason}: is it a TLS port?)"
        if "ALERT" in str(reason):
            return f"the peer refused the TLS handshake ({reason}; does it require our certificate, tls_cert?)"
        return f"TLS handshake failed ({reason})"
    return f"TLS handshake failed ({exc})"


def handshake_problem(context: ssl.SSLContext | None) -> str:
    """Why the last handshake made with this client context failed ("" if none failed)."""
    return str(getattr(context, "handshake_problem", "")) if context is not None else ""


def client_context(ca: str = "", cert: str = "", key: str = "", *, verify_hostname: bool = False) -> ssl.SSLContext:
    """A context for connecting out: the server's chain checked against `ca` (else the system's
    store); our own certificate presented when `cert` and `key` are given; the host name matched
    against the certificate only with `verify_hostname`. Make one per association: a failed handshake
    leaves its reason on it (`handshake_problem`)."""
    context = _base(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = verify_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    context.sslsocket_class = _ClientSocket
    if ca:
        _load_ca(context, ca, "tls_ca")
    if cert or key:
        if not (cert and key):
            raise ConfigError("tls_cert / tls_key: give both or neither")
        _load_chain(context, cert, key, "tls")
    return context


def association_tls_args(host: str, ca: str = "", cert: str = "", key: str = "", *,
                         verify_hostname: bool = False) -> tuple[ssl.SSLContext, str]:
    """What pynetdicom's `AE.associate(..., tls_args=...)` takes, for anything that connects out over DICOM
    TLS: the client context and the peer's host name."""
    return client_context(ca, cert, key, verify_hostname=verify_hostname), host
