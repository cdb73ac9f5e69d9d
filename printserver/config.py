"""Configuration: TOML in, frozen and validated objects out; every error names its key.

With no file at all the embedded default applies: one printer, AE title PRINTSCP, port 11112,
films written as PDFs under ./films.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from printserver.errors import ConfigError
from printserver.layout import ALL_FORMAT_KINDS, LayoutData, load_layouts
from printserver.outputs.files import DEFAULT_PDF_NAME
from printserver.outputs.plan import outputs_of
from printserver.outputs.registry import REGISTRY, is_output_table
from printserver.web.users import WebUser, parse_users

ALL_MAGNIFICATION_TYPES = ("REPLICATE", "BILINEAR", "CUBIC", "NONE")
ALL_MEDIUM_TYPES = ("PAPER", "CLEAR FILM", "BLUE FILM", "MAMMO CLEAR FILM", "MAMMO BLUE FILM")
PRINTER_STATUSES = ("NORMAL", "WARNING", "FAILURE")
PAPER_POLICIES = ("true-size", "fit")
VALUE_POLICIES = ("lenient", "strict")
#: Pillow resampling filters a Smoothing Type may name (render.compose uses Image.Resampling[name]).
SMOOTHING_KERNELS = ("BILINEAR", "HAMMING", "BICUBIC", "LANCZOS")
_AE_RE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # PS3.5 AE: 16 chars, no backslash


@dataclass(frozen=True)
class PrinterProfile:
    """One virtual printer: its identity, what it can print (capabilities) and its defaults."""

    ae_title: str = "PRINTSCP"
    description: str = ""
    #: Calling AE titles allowed to associate; empty: any (others get A-ASSOCIATE-RJ, reason 3).
    allowed_calling_aes: tuple[str, ...] = ()
    #: Reachable only over the TLS port (server.tls_port); a plain association gets A-ASSOCIATE-RJ.
    tls_only: bool = False
    # Identity reported by Printer N-GET
    printer_name: str = "printserver"
    manufacturer: str = "printserver"
    model_name: str = "Virtual Film Printer"
    serial_number: str = "0001"
    software_versions: str = ""
    calibration_date: str = ""
    calibration_time: str = ""
    printer_status: str = "NORMAL"
    printer_status_info: str = "NORMAL"
    # Capabilities (values outside them are refused with 0106)
    film_sizes: tuple[str, ...] = (
        "8INX10IN", "8_5INX11IN", "10INX12IN", "10INX14IN", "11INX14IN", "11INX17IN",
        "14INX14IN", "14INX17IN", "24CMX24CM", "24CMX30CM", "A4", "A3",
    )  # fmt: skip
    display_format_kinds: tuple[str, ...] = ALL_FORMAT_KINDS
    #: Annotation Display Format IDs offered (defined in layouts/annotation_formats.toml)
    annotation_display_format_ids: tuple[str, ...] = ("LABEL", "ANNOTATION")
    max_image_boxes: int = 100
    medium_types: tuple[str, ...] = ALL_MEDIUM_TYPES
    film_destinations: tuple[str, ...] = ("MAGAZINE", "PROCESSOR")
    bins: int = 4
    magnification_types: tuple[str, ...] = ALL_MAGNIFICATION_TYPES
    smoothing_types: tuple[str, ...] = ("SMOOTH", "MEDIUM", "SHARP")
    #: Smoothing Type -> interpolation kernel used with Magnification CUBIC (a Pillow filter name).
    smoothing_kernels: dict[str, str] = field(
        default_factory=lambda: {"SMOOTH": "BILINEAR", "MEDIUM": "BICUBIC", "SHARP": "LANCZOS"})
    #: Configuration Information values -> curve applied when no Presentation LUT is referenced:
    #: P = top·(v/top)^gamma (CS000 lowest contrast; PS3.3 C.13.5.1 leaves the meaning to the SCP).
    configuration_curves: dict[str, float] = field(
        default_factory=lambda: {"CS000": 0.7, "CS001": 0.85, "CS002": 1.0, "CS003": 1.2, "CS004": 1.45})
    #: Presentation LUT table entries must equal the image's 2^Bits Stored (else 0106); false: rescaled.
    presentation_lut_match_required: bool = False
    min_density_range: tuple[int, int] = (10, 50)  # hundredths of OD
    max_density_range: tuple[int, int] = (150, 400)
    supports_12_bit: bool = True
    #: Offer the Basic Color Print Management Meta class (false: a grayscale-only imager; colour SCUs
    #: then see the colour contexts rejected at negotiation and print in gray).
    supports_color: bool = True
    session_print: bool = True  # film session N-ACTION (collation)
    #: Film boxes with images a film session holds for its Print (Printer Configuration Retrieval's
    #: Maximum Collated Films); beyond it printed ones let go of their images, unprinted ones get 0213.
    max_collated_films: int = 100
    max_copies: int = 99
    max_image_pixels: int = 25_000_000  # Rows x Columns of one image box
    #: MB of image pixels one association may hold (model.memory; beyond: C605 at Image Box N-SET)
    max_held_image_mb: int = 2048
    resolution_dpi: dict[str, int] = field(default_factory=lambda: {"STANDARD": 300, "HIGH": 600})
    # Defaults used when the SCU does not say
    default_film_size: str = "14INX17IN"
    default_orientation: str = "PORTRAIT"
    default_medium_type: str = "BLUE FILM"
    default_film_destination: str = "MAGAZINE"
    default_print_priority: str = "MED"
    default_magnification_type: str = "CUBIC"
    default_smoothing_type: str = ""
    default_border_density: str = "BLACK"
    default_empty_image_density: str = "BLACK"
    default_min_density: int = 20
    default_max_density: int = 300
    default_trim: str = "NO"
    default_resolution_id: str = "STANDARD"
    default_illumination: int = 2000
    default_reflected_ambient_light: int = 10
    # Outputs (plug-ins, printserver/outputs/): the flat keys of the PDF folder and the CUPS queue below, and
    # for every other registered output its own table [printer.<name>] / [[printer.<name>]] (output_tables).
    pdf_dir: str = "films"  # empty: no PDF folder
    pdf_name: str = DEFAULT_PDF_NAME
    pdf_mode: str = "0600"  # octal mode of the PDFs (folders: x where r); never readable by others
    pdf_group: str = ""  # group the PDFs are given (with e.g. pdf_mode "0640" for a QA group)
    #: Page image depth of a grayscale film's PDF: 16 (density-true, ±0.01 OD) or 8 (about 4x smaller,
    #: ~0.14 OD steps near Dmax 3.0; the PDF's grayscale model records the 8-bit encoding).
    pdf_bits: int = 16
    cups_queue: str = ""
    cups_server: str = ""  # host:port or socket path; empty: CUPS_SERVER, else the system default
    #: Film Size ID -> CUPS media keyword, overriding the built-in map (checked against media-supported)
    cups_media: dict[str, str] = field(default_factory=dict)
    #: Medium Type / Film Destination value -> CUPS options "name=value name=value"
    cups_medium_type: dict[str, str] = field(default_factory=dict)
    cups_film_destination: dict[str, str] = field(default_factory=dict)
    cups_options: dict[str, str] = field(default_factory=dict)  # added to every CUPS job
    paper_policy: str = "true-size"  # or "fit"
    #: Output name -> its TOML table or array of tables, untouched; the output's module validates it.
    output_tables: dict[str, Any] = field(default_factory=dict)
    #: A printer-defined value this printer does not know (Smoothing Type, Medium Type, Film Destination,
    #: Configuration Information): "lenient" prints with the printer's default and warns 0116 (the
    #: substitution is recorded in the job); "strict" refuses with 0106, as an imager that is emulated exactly.
    value_policy: str = "lenient"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "0.0.0.0"
    port: int = 11112
    spool_dir: str = "spool"
    workers: int = 2
    max_pdu: int = 65536
    #: Seconds an association may stay silent before it is aborted (idle association).
    network_timeout: float = 60.0
    #: Seconds to wait for the rest of a DIMSE message, or for a peer's answer to our event.
    dimse_timeout: float = 60.0
    #: Seconds for association negotiation (after the request arrived) and release.
    acse_timeout: float = 30.0
    #: Associations served at once: in total, per calling AE title, per source address (beyond:
    #: A-ASSOCIATE-RJ transient, local-limit-exceeded).
    max_associations: int = 32
    max_associations_per_calling_ae: int = 16
    max_associations_per_address: int = 16
    #: Seconds from TCP connect to a complete A-ASSOCIATE-RQ (TLS handshake included); connections
    #: that have not associated are held apart, at most max_pending in all and per address.
    association_request_timeout: float = 10.0
    max_pending: int = 512
    max_pending_per_address: int = 32
    #: MB of image pixels all associations together may hold (model.memory; beyond: C605 at Image Box N-SET)
    max_held_image_mb: int = 4096
    #: DICOM TLS listener beside the plain port (PS3.15 Annex B); on when tls_cert is set.
    tls_port: int = 2762
    tls_cert: str = ""
    tls_key: str = ""
    #: CA certificate(s) (a PEM file or a hashed folder) that client certificates must chain to.
    tls_ca: str = ""
    tls_require_client_cert: bool = False
    layouts_dir: str | None = None
    #: Delivery to CUPS: first retry delay, doubled up to the maximum; a job fails for good after give_up.
    delivery_retry_initial: float = 2.0
    delivery_retry_max: float = 300.0
    delivery_give_up: float = 86400.0
    #: Seconds between checks of the printers' outputs; a change is sent as a Printer N-EVENT-REPORT.
    printer_event_interval: float = 10.0
    #: The QA console of `printserver serve`: "[ADDR:]PORT" ("" = off); any address but loopback needs web_token.
    web: str = "127.0.0.1:8080"
    web_token: str = ""
    #: Console users ([[server.web_user]]: name, password_hash from `printserver web-passwd`, role viewer|admin)
    web_users: tuple[WebUser, ...] = ()
    #: Days a transcript of an association that produced no job is kept (those with a job stay with it).
    transcript_keep_days: float = 7.0
    #: Days a delivered job's file (its accepted pixels, 0600) stays in spool/done/ for a re-print; 0 = none.
    keep_printed_days: float = 3.0
    printers: tuple[PrinterProfile, ...] = (PrinterProfile(),)

    def printer(self, ae_title: str) -> PrinterProfile | None:
        return next((p for p in self.printers if p.ae_title == ae_title), None)


def _check(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {message}")


def _coerce(cls: type, data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Type-check a TOML table against a dataclass's field defaults; unknown keys are errors."""
    known = {f.name: f for f in fields(cls)}
    defaults = cls()
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if cls is PrinterProfile and key not in known and is_output_table(key):
            _check(isinstance(value, dict | list), name, "must be a table or an array of tables")
            out.setdefault("output_tables", {})[key] = value
            continue
        _check(key in known and key != "output_tables", name,
               f"unknown key (known: {', '.join(sorted(k for k in known if k != 'output_tables'))})")
        default = getattr(defaults, key)
        if isinstance(default, bool):
            _check(isinstance(value, bool), name, "must be true or false")
        elif isinstance(default, int):
            _check(isinstance(value, int) and not isinstance(value, bool), name, "must be an integer")
        elif isinstance(default, float):
            _check(isinstance(value, int | float), name, "must be a number")
            value = float(value)
        elif isinstance(default, str) or (default is None and key.endswith("_dir")):
            _check(isinstance(value, str), name, "must be a string")
        elif isinstance(default, tuple):
            _check(isinstance(value, list), name, "must be a list")
            value = tuple(value)
        elif isinstance(default, dict):
            _check(isinstance(value, dict), name, "must be a table")
            if key.startswith("cups_"):
                for k, v in value.items():
                    _check(isinstance(v, str), f"{name}.{k}", "must be a string")
        out[key] = value
    return out


def _validate_printer(p: PrinterProfile, key: str, sizes: dict[str, Any]) -> None:
    _check(bool(_AE_RE.match(p.ae_title)) and p.ae_title.strip() == p.ae_title, f"{key}.ae_title",
           f"'{p.ae_title}' is not a valid AE title (1-16 characters, no backslash, no edge spaces)")
    _check(p.printer_status in PRINTER_STATUSES, f"{key}.printer_status", f"must be one of {PRINTER_STATUSES}")
    for size in p.film_sizes:
        _check(size in sizes, f"{key}.film_sizes", f"'{size}' is not defined in layouts (known: {', '.join(sizes)})")
    _check(p.default_film_size in p.film_sizes, f"{key}.default_film_size", "must be one of film_sizes")
    for kind in p.display_format_kinds:
        _check(kind in ALL_FORMAT_KINDS, f"{key}.display_format_kinds", f"'{kind}' is not one of {ALL_FORMAT_KINDS}")
    for mag in p.magnification_types:
        _check(mag in ALL_MAGNIFICATION_TYPES, f"{key}.magnification_types", f"'{mag}' is not a Magnification Type")
    _check(p.default_magnification_type in p.magnification_types, f"{key}.default_magnification_type",
           "must be one of magnification_types")
    _check(p.default_smoothing_type in ("", *p.smoothing_types), f"{key}.default_smoothing_type",
           "must be empty or one of smoothing_types")
    for name, kernel in p.smoothing_kernels.items():
        _check(kernel in SMOOTHING_KERNELS, f"{key}.smoothing_kernels.{name}",
               f"'{kernel}' is not a kernel (known: {', '.join(SMOOTHING_KERNELS)})")
    for name in p.smoothing_types:
        _check(name in p.smoothing_kernels, f"{key}.smoothing_kernels.{name}", "each smoothing type needs a kernel")
    for name, gamma in p.configuration_curves.items():
        _check(isinstance(gamma, int | float) and 0.2 <= gamma <= 5, f"{key}.configuration_curves.{name}",
               "must be a gamma between 0.2 and 5")
    for medium in p.medium_types:
        _check(medium in ALL_MEDIUM_TYPES, f"{key}.medium_types", f"'{medium}' is not a Medium Type")
    _check(p.default_medium_type in p.medium_types, f"{key}.default_medium_type", "must be one of medium_types")
    _check(p.default_orientation in ("PORTRAIT", "LANDSCAPE"), f"{key}.default_orientation",
           "must be PORTRAIT or LANDSCAPE")
    _check(p.default_print_priority in ("HIGH", "MED", "LOW"), f"{key}.default_print_priority",
           "must be HIGH, MED or LOW")
    for name in ("min_density_range", "max_density_range"):
        rng = getattr(p, name)
        _check(len(rng) == 2 and all(isinstance(v, int) for v in rng) and 0 <= rng[0] <= rng[1],
               f"{key}.{name}", "must be [low, high] in hundredths of OD")
    lo, hi = p.min_density_range
    _check(lo <= p.default_min_density <= hi, f"{key}.default_min_density", "must lie in min_density_range")
    lo, hi = p.max_density_range
    _check(lo <= p.default_max_density <= hi, f"{key}.default_max_density", "must lie in max_density_range")
    _check(p.default_min_density < p.default_max_density, f"{key}.default_min_density",
           "must be below default_max_density")
    for name in ("default_border_density", "default_empty_image_density"):
        value = getattr(p, name)
        _check(value in ("BLACK", "WHITE") or value.isdigit(), f"{key}.{name}",
               "must be BLACK, WHITE or hundredths of OD")
    _check(p.default_trim in ("YES", "NO"), f"{key}.default_trim", "must be YES or NO")
    for rid, dpi in p.resolution_dpi.items():
        _check(rid in ("STANDARD", "HIGH"), f"{key}.resolution_dpi", f"'{rid}' is not STANDARD or HIGH")
        _check(isinstance(dpi, int) and 50 <= dpi <= 1200, f"{key}.resolution_dpi.{rid}", "must be 50..1200 dpi")
    _check(p.default_resolution_id in p.resolution_dpi, f"{key}.default_resolution_id",
           "must be a key of resolution_dpi")
    for name in ("max_image_boxes", "max_copies", "max_image_pixels", "default_illumination", "max_collated_films",
                 "max_held_image_mb"):
        _check(getattr(p, name) > 0, f"{key}.{name}", "must be positive")
    _check(p.bins >= 0, f"{key}.bins", "must not be negative")
    for ae in p.allowed_calling_aes:
        _check(isinstance(ae, str) and bool(_AE_RE.match(ae)), f"{key}.allowed_calling_aes",
               f"'{ae}' is not a valid AE title")
    _check(p.paper_policy in PAPER_POLICIES, f"{key}.paper_policy", f"must be one of {PAPER_POLICIES}")
    _check(p.value_policy in VALUE_POLICIES, f"{key}.value_policy", f"must be one of {VALUE_POLICIES}")
    _check(p.pdf_bits in (16, 8), f"{key}.pdf_bits", "must be 16 or 8")
    outputs = outputs_of(p, key)  # each output checks its own keys (ConfigError names the key)
    _check(bool(outputs), f"{key}.pdf_dir",
           f"a printer needs an output: pdf_dir, cups_queue, or a table of: {', '.join(REGISTRY)}")


def _validate_layout_data(p: PrinterProfile, key: str, layouts: LayoutData) -> None:
    """Data-defined formats a printer offers must exist in the layouts (built-in or the admin's)."""
    defined = set(layouts.display_formats)
    for kind in ("SLIDE", "SUPERSLIDE"):
        _check(kind not in p.display_format_kinds or kind in defined, f"{key}.display_format_kinds",
               f"'{kind}' is offered but not defined in layouts (display_formats.toml)")
    _check("CUSTOM" not in p.display_format_kinds or any(k.startswith("CUSTOM\\") for k in defined),
           f"{key}.display_format_kinds", "'CUSTOM' is offered but no CUSTOM.i is defined in layouts")
    for fid in p.annotation_display_format_ids:
        _check(fid in layouts.annotation_formats, f"{key}.annotation_display_format_ids",
               f"'{fid}' is not defined in layouts (known: {', '.join(layouts.annotation_formats) or 'none'})")


def from_dict(data: dict[str, Any], base: Path | None = None) -> ServerConfig:
    """Build and validate a ServerConfig from parsed TOML; relative folders resolve against `base`."""
    server = dict(data.get("server", {}))
    _check(isinstance(data.get("server", {}), dict), "server", "must be a table")
    unknown = set(data) - {"server", "printer"}
    _check(not unknown, ", ".join(sorted(unknown)), "unknown top-level key (known: server, printer)")
    _check("printers" not in server, "server.printers", "printers are [[printer]] tables, not a server key")
    users = parse_users(server.pop("web_user", []))
    kwargs = _coerce(ServerConfig, server, "server.")
    config = ServerConfig(**({"web_users": users} | kwargs))  # a raw `web_users` key fails in validated()
    raw_printers = data.get("printer", [{}])
    _check(isinstance(raw_printers, list) and len(raw_printers) >= 1, "printer",
           "must be a list of [[printer]] tables with at least one printer")
    printers = []
    for i, raw in enumerate(raw_printers):
        _check(isinstance(raw, dict), f"printer[{i}]", "must be a table")
        fields_ = _coerce(PrinterProfile, raw, f"printer[{i}].")
        for name in ("min_density_range", "max_density_range"):
            if name in fields_:
                fields_[name] = tuple(fields_[name])
        printers.append(PrinterProfile(**fields_))
    if base is not None:  # certificate files are read while validating: resolve them first
        config = replace(config, **{k: str(base / getattr(config, k)) for k in ("tls_cert", "tls_key", "tls_ca")
                                    if getattr(config, k)})
    config = validated(replace(config, printers=tuple(printers)))
    if base is not None:
        printers = [replace(p, pdf_dir=str(base / p.pdf_dir) if p.pdf_dir else "") for p in config.printers]
        layouts = str(base / config.layouts_dir) if config.layouts_dir else None
        config = replace(config, printers=tuple(printers), spool_dir=str(base / config.spool_dir),
                         layouts_dir=layouts)
    return config


def parse_web_address(value: str, key: str = "server.web") -> tuple[str, int]:
    """'[ADDR:]PORT' -> (host, port); ADDR defaults to 127.0.0.1, an IPv6 ADDR is written [::1]:PORT."""
    host, sep, port = value.strip().rpartition(":")
    host = host.strip("[]") if sep else "127.0.0.1"
    _check(port.isdigit() and 0 <= int(port) < 65536, key, f"'{value}' is not [ADDR:]PORT (port 0..65535)")
    return host or "127.0.0.1", int(port)


def validated(config: ServerConfig) -> ServerConfig:
    """Check a whole configuration (also after command-line overrides); errors name the key."""
    _check(0 < config.port < 65536, "server.port", "must be 1..65535")
    _check(1 <= config.workers <= 64, "server.workers", "must be 1..64")
    _check(config.max_pdu == 0 or config.max_pdu >= 4096, "server.max_pdu", "must be 0 (unlimited) or >= 4096")
    layouts = load_layouts(config.layouts_dir)
    for i, profile in enumerate(config.printers):
        _validate_printer(profile, f"printer[{i}]", layouts.film_sizes)
        _validate_layout_data(profile, f"printer[{i}]", layouts)
    titles = [p.ae_title for p in config.printers]
    dupes = sorted({t for t in titles if titles.count(t) > 1})
    _check(not dupes, "printer.ae_title", f"AE titles must be unique, repeated: {', '.join(dupes)}")
    _check(0 < config.delivery_retry_initial <= config.delivery_retry_max, "server.delivery_retry_initial",
           "must be positive and at most delivery_retry_max")
    _check(config.delivery_give_up > 0, "server.delivery_give_up", "must be positive")
    if config.web:
        parse_web_address(config.web)
    _check(config.transcript_keep_days > 0, "server.transcript_keep_days", "must be positive")
    _check(all(isinstance(u, WebUser) for u in config.web_users), "server.web_users",
           "write each user as a [[server.web_user]] table (name, password_hash, role)")
    _check(config.keep_printed_days >= 0, "server.keep_printed_days", "must be 0 (keep none) or more days")
    _check(0 < config.printer_event_interval <= 3600, "server.printer_event_interval", "must be 0..3600 seconds")
    _validate_network(config)
    return config


def _validate_network(config: ServerConfig) -> None:
    for name in ("network_timeout", "dimse_timeout", "acse_timeout", "association_request_timeout"):
        _check(0 < getattr(config, name) <= 3600, f"server.{name}", "must be 0..3600 seconds")
    for name in ("max_associations", "max_associations_per_calling_ae", "max_associations_per_address",
                 "max_pending", "max_pending_per_address", "max_held_image_mb"):
        _check(1 <= getattr(config, name) <= 100_000, f"server.{name}", "must be 1..100000")
    _check(config.max_pending_per_address <= config.max_pending, "server.max_pending_per_address",
           "must not exceed server.max_pending")
    tls_only = [p.ae_title for p in config.printers if p.tls_only]
    if not config.tls_cert:
        _check(not config.tls_key and not config.tls_ca and not config.tls_require_client_cert, "server.tls_cert",
               "the TLS settings need a server certificate (tls_cert and tls_key)")
        _check(not tls_only, "printer.tls_only", f"{', '.join(tls_only)} would be unreachable: no TLS port "
               "(set server.tls_cert, tls_key, tls_port)")
        return
    _check(0 < config.tls_port < 65536, "server.tls_port", "must be 1..65535")
    _check(config.tls_port != config.port, "server.tls_port", "must differ from server.port (2762 is dicom-tls)")
    _check(bool(config.tls_key), "server.tls_key", "the private key of server.tls_cert is needed")
    from printserver.net import tls

    tls.server_context(config.tls_cert, config.tls_key, config.tls_ca, config.tls_require_client_cert)


def load(path: str | Path | None) -> ServerConfig:
    """The config file, or the embedded default when `path` is None."""
    if path is None:
        return from_dict({})
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    return from_dict(data, base=p.resolve().parent)
