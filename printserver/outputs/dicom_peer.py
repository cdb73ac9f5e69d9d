"""What the outputs that open associations to a DICOM peer share (`pacs`, `relay`): the peer's TOML keys,
validated at start with errors naming the key, and DICOM TLS (PS3.15 Annex B) set up in one place.

    called_ae = "ORTHANC"          # the peer's AE title
    host = "127.0.0.1"
    port = 4242
    calling_ae = ""                # ours; empty: the printer's AE title
    timeout = 30.0                 # seconds per association / exchange
    tls = true                     # DICOM TLS (TLS 1.2/1.3, BCP 195); implied by any tls_* key
    tls_ca = "/etc/printserver/pacs-ca.pem"     # CA (PEM file or hashed folder) the peer's certificate must
                                                # chain to; empty: the system's trust store
    tls_cert = "/etc/printserver/me.pem"        # our certificate, for peers that require one (with tls_key)
    tls_key = "/etc/printserver/me.key"
    tls_verify_hostname = false    # also match `host` against the certificate's names (off, as in DCMTK:
                                   # DICOM peers are often addressed by IP and identified by AE title)

The keys are the SCU's `--tls --tls-ca --tls-cert --tls-key` and the server's `tls_ca/tls_cert/tls_key`.
`from_profile` only checks types (it must not touch the disk); `check()` loads the files when `serve`
starts, so a missing or wrong file stops it with exit 2 naming the key. A fresh SSL context is made for
every association (net/tls.py records the handshake's failure on it), so the reason a delivery or a health
check gives names the certificate problem instead of pynetdicom's "association aborted".
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from printserver.errors import ConfigError
from printserver.outputs.base import Output

if TYPE_CHECKING:
    from printserver.config import PrinterProfile

PEER_KEYS = ("called_ae", "host", "port", "calling_ae", "timeout")
TLS_KEYS = ("tls", "tls_ca", "tls_cert", "tls_key", "tls_verify_hostname")
_AE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # printable ASCII but backslash


def parse_peer(value: str, option: str, example: str) -> dict[str, Any]:
    """`AE@HOST:PORT` (the --archive / --relay options) -> a peer table; ValueError says what is wrong."""
    m = re.fullmatch(r"([^@]{1,16})@([^:@]+):(\d{1,5})", value.strip())
    if not m:
        raise ValueError(f"{option} {value!r}: expected AE@HOST:PORT, e.g. {example}")
    return {"called_ae": m.group(1), "host": m.group(2), "port": int(m.group(3))}


def _ae_title(value: Any, key: str) -> str:
    if not isinstance(value, str) or not _AE.match(value) or value.strip() != value:
        raise ConfigError(f"{key}: {value!r} is not an AE title (1-16 characters, no backslash)")
    return value


def peer_values(table: dict[str, Any], key: str, printer_ae: str, default_timeout: float) -> dict[str, Any]:
    """The shared keys of one peer table, checked (no disk, no network); ConfigError names the key."""
    called = _ae_title(table.get("called_ae"), f"{key}.called_ae")
    host, port = table.get("host"), table.get("port")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{key}.host: must be a host name or address")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"{key}.port: must be 1..65535")
    calling = _ae_title(table.get("calling_ae", "") or printer_ae, f"{key}.calling_ae")
    timeout = table.get("timeout", default_timeout)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 1 <= timeout <= 600:
        raise ConfigError(f"{key}.timeout: must be 1..600 seconds")
    files = {}
    for name in ("tls_ca", "tls_cert", "tls_key"):
        value = table.get(name, "")
        if not isinstance(value, str):
            raise ConfigError(f"{key}.{name}: must be a file path (a string)")
        files[name] = value
    if bool(files["tls_cert"]) != bool(files["tls_key"]):
        missing = "tls_key" if files["tls_cert"] else "tls_cert"
        raise ConfigError(f"{key}.{missing}: tls_cert and tls_key go together (our certificate and its key)")
    verify = table.get("tls_verify_hostname", False)
    if not isinstance(verify, bool):
        raise ConfigError(f"{key}.tls_verify_hostname: must be true or false")
    tls = table.get("tls", any(files.values()) or verify)
    if not isinstance(tls, bool):
        raise ConfigError(f"{key}.tls: must be true or false")
    if not tls and (any(files.values()) or verify):
        given = next(n for n in (*files, "tls_verify_hostname") if table.get(n))
        raise ConfigError(f"{key}.tls: is false but {given} is set (remove it or set tls = true)")
    return {"called_ae": called, "host": host, "port": port, "calling_ae": calling, "timeout": float(timeout),
            "tls": tls, **files, "tls_verify_hostname": verify}


@dataclass(frozen=True)
class DicomPeer(Output):
    """An output that opens associations to one DICOM peer (subclasses add their own keys and delivery)."""

    called_ae: str = ""
    host: str = ""
    port: int = 104
    calling_ae: str = "PRINTSERVER"
    timeout: float = 60.0
    tls: bool = False
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_verify_hostname: bool = False

    #: The subclass's own TOML keys (besides PEER_KEYS and TLS_KEYS)
    own_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_profile(cls, profile: PrinterProfile, key: str) -> list[Self]:
        tables = profile.output_tables.get(cls.kind, [])
        tables = [tables] if isinstance(tables, dict) else tables
        out = [cls._one(t, f"{key}.{cls.kind}[{n}]", profile.ae_title) for n, t in enumerate(tables)]
        names = [o.called_ae for o in out]  # two peers with one AE title: told apart by address
        return [o if names.count(o.called_ae) == 1 else
                cls.from_settings(o.settings() | {"id": f"{cls.kind}:{o.called_ae}@{o.host}:{o.port}"})
                for o in out]

    @classmethod
    def _one(cls, table: Any, key: str, printer_ae: str) -> Self:
        if not isinstance(table, dict):
            raise ConfigError(f"{key}: must be a table")
        known = (*PEER_KEYS, *cls.own_keys, *TLS_KEYS)
        for name in table:
            if name not in known:
                raise ConfigError(f"{key}.{name}: unknown key (known: {', '.join(known)})")
        timeout = cls.__dataclass_fields__["timeout"].default  # the subclass's default
        values = peer_values(table, key, printer_ae, float(timeout))  # type: ignore[arg-type]
        return cls(id=f"{cls.kind}:{values['called_ae']}", key=key, **values, **cls.own_values(table, key))

    @classmethod
    def own_values(cls, table: dict[str, Any], key: str) -> dict[str, Any]:
        """The subclass's own keys of one table, checked; ConfigError names the key."""
        return {}

    @property
    def peer(self) -> str:
        return f"{self.called_ae}@{self.host}:{self.port}"

    @property
    def transport(self) -> str:
        return ", DICOM TLS" if self.tls else ""

    def tls_context(self) -> ssl.SSLContext | None:
        """A fresh client context for one association (None without TLS); ConfigError names the key."""
        if not self.tls:
            return None
        from printserver.net.tls import client_context

        try:
            return client_context(self.tls_ca, self.tls_cert, self.tls_key, verify_hostname=self.tls_verify_hostname)
        except ConfigError as exc:
            raise ConfigError(f"{self.key}.{exc}") from None

    def check(self) -> str | None:
        """The TLS files load (certificate and key match, CA readable), else why, naming the key."""
        try:
            self.tls_context()
        except ConfigError as exc:
            return str(exc)
        return None
