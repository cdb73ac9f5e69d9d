"""Drive DCMTK's print tools (dcmpsprt + dcmprscu as SCU, dcmprscp as SCP) from tests and benchmarks.

DCMTK is the independent peer we check printserver against, so this module only wraps the command line
tools: it writes their `dcmpstat.cfg`-style configuration, runs them with timeouts and reports what they
said.  It has no pytest dependency so benchmarks and ad-hoc scripts can import it too.

Facts this module relies on (DCMTK 3.6.7, checked by `tests/dcmtk_selfcheck.py`):

- dcmpsprt renders every image into a 12-bit Hardcopy Grayscale (HG) object.  A 12-bit image
  (BitsStored 12) with WindowCenter 2048 / WindowWidth 4096, or with no window at all, arrives unchanged:
  P-value == stored value.  An 8-bit image with WindowCenter 128 / WindowWidth 256 becomes
  ``floor(v * 4095 / 255)``; without a window it becomes ``v * 16``.
- With ``supports_12bit=False`` dcmprscu down-samples the 12-bit HG to 8 bits (``v >> 4``) and sends
  8-bit pixels.
- dcmprscu exits 0 even when printing failed; the ``E:`` lines in its output are the real verdict.
- DCMTK leaves Nagle's algorithm on unless the environment has ``TCP_NODELAY=1`` (both the requesting
  and the accepting side read it).
- dcmprscp cannot be told which interface to bind: it listens on all of them.  Everything here connects
  to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

LOCALHOST = "127.0.0.1"
DCMTK_TOOLS = ("dcmpsprt", "dcmprscu", "dcmprscp")
# Portrait STANDARD\C,R formats (every C,R in 1..6, so 4,5 and 1,3 too); DCMTK derives landscape by swapping.
DEFAULT_DISPLAY_FORMATS: tuple[tuple[int, int], ...] = tuple((c, r) for c in range(1, 7) for r in range(1, 7))
_MESSAGE_RE = re.compile(r"^[EW]: ", re.MULTILINE)


class DcmtkError(RuntimeError):
    """A DCMTK tool could not do its job at all (no output file, server did not come up)."""


def dcmtk_available() -> bool:
    """True when all three DCMTK print tools are on PATH, so callers can skip instead of failing."""
    return all(shutil.which(tool) for tool in DCMTK_TOOLS)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (the kernel picks it; a small race remains until it is bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return int(s.getsockname()[1])


def write_test_image(
    path: str | os.PathLike[str],
    rows: int,
    cols: int,
    value_or_array: int | npt.ArrayLike,
    bits: int = 12,
    *,
    window: bool = True,
) -> Path:
    """Write a MONOCHROME2 Secondary Capture image whose printed P-values are predictable.

    ``bits=12`` stores BitsAllocated 16 / BitsStored 12, ``bits=8`` stores 8/8.  With ``window`` the file
    carries WindowCenter 2**(bits-1) / WindowWidth 2**bits, the full range; for 12 bits dcmpsprt then
    passes values through unchanged (see the module docstring for the 8-bit mapping).
    """
    if bits not in (8, 12):
        raise ValueError(f"bits must be 8 or 12, not {bits}")
    dtype = np.uint16 if bits == 12 else np.uint8
    top = (1 << bits) - 1
    if np.isscalar(value_or_array):
        value = int(value_or_array)  # type: ignore[arg-type]
        if not 0 <= value <= top:
            raise ValueError(f"value {value} outside 0..{top}")
        pixels = np.full((rows, cols), value, dtype=dtype)
    else:
        raw = np.asarray(value_or_array)
        if raw.shape != (rows, cols):
            raise ValueError(f"array shape {raw.shape} is not ({rows}, {cols})")
        if raw.size and (raw.min() < 0 or raw.max() > top):
            raise ValueError(f"array values outside 0..{top}")
        pixels = raw.astype(dtype)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = "Test^Print"
    ds.PatientID = "PRINTTEST"
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyDate = "20240101"
    ds.StudyTime = "120000"
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16 if bits == 12 else 8
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if window:
        ds.WindowCenter = 1 << (bits - 1)
        ds.WindowWidth = 1 << bits
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out


def dcmtk_messages(text: str) -> list[str]:
    """The ``E:`` and ``W:`` lines of DCMTK output: its exit code does not tell failures apart."""
    return [line for line in text.splitlines() if _MESSAGE_RE.match(line)]


def _cfg_line(key: str, value: str | int | bool) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{key} = {value}"


@dataclass(frozen=True)
class DcmtkTls:
    """TLS for one DCMTK print peer: its files live in ``directory`` (GENERAL/TLS/TLSDirectory), the CAs it
    trusts in ``ca_directory`` (hash-named files); ``peer_authentication`` REQUIRE, VERIFY or IGNORE."""

    directory: Path
    certificate: str
    private_key: str
    ca_directory: Path
    peer_authentication: str = "REQUIRE"
    profile: str = "BCP195"

    def general(self) -> list[str]:
        return ["[TLS]", f"TLSDirectory = {self.directory}", f"CACertificateDirectory = {self.ca_directory}",
                "UsePEMFormat = true"]

    def printer(self) -> list[str]:
        return ["UseTLS = true", f"Certificate = {self.certificate}", f"PrivateKey = {self.private_key}",
                f"TLSProfile = {self.profile}", f"PeerAuthentication = {self.peer_authentication}"]


def _general_section(root: Path, aetitle: str, tls: DcmtkTls | None = None) -> list[str]:
    """The ``[[GENERAL]]`` part: every folder DCMTK writes to lives under ``root``."""
    for sub in ("spool", "database", "lut", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return [
        "[[GENERAL]]",
        "[APPLICATION]",
        f"LogDirectory = {root / 'log'}",
        "[PRINT]",
        f"Directory = {root / 'spool'}",
        "DetailedLog = false",
        "BinaryLog = false",
        "[DATABASE]",
        f"Directory = {root / 'database'}",
        "[LUT]",
        f"Directory = {root / 'lut'}",
        "[NETWORK]",
        f"aetitle = {aetitle}",
        *(tls.general() if tls else []),
        "[[COMMUNICATION]]",
    ]


def _display_formats(formats: Iterable[tuple[int, int]]) -> str:
    return "\\".join(f"{c},{r}" for c, r in formats)


def _env(tcp_nodelay: bool) -> dict[str, str]:
    """Environment for a DCMTK tool: TCP_NODELAY=1 or DCMTK's default (Nagle on), never inherited."""
    env = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
    if tcp_nodelay:
        env["TCP_NODELAY"] = "1"
    return env


@dataclass(frozen=True)
class PrintOptions:
    """What DcmtkPrintScu asks for; ``None`` means "leave it out, use the printer default"."""

    columns: int = 1
    rows: int = 1
    film_size: str | None = "14INX17IN"
    orientation: str | None = None  # "PORTRAIT" or "LANDSCAPE"
    supports_12bit: bool = True
    magnification: str | None = None
    border_density: str | None = None
    presentation_lut: bool = False  # False: SupportsPresentationLUT = false, no P-LUT context proposed
    session_print: bool = False  # N-ACTION on the film session instead of the film box
    max_pdu: int = 32768
    implicit_only: bool = False
    annotation: str | None = None  # Annotation config value "position\\FORMAT_ID", e.g. "1\\ANNOTATION"
    display_formats: tuple[tuple[int, int], ...] = DEFAULT_DISPLAY_FORMATS
    extra_config: Mapping[str, str] = field(default_factory=dict)  # more PRINTER-section keys
    dcmpsprt_args: tuple[str, ...] = ()
    dcmprscu_args: tuple[str, ...] = ()
    tcp_nodelay: bool = False  # False keeps DCMTK's default: Nagle's algorithm on


@dataclass(frozen=True)
class ScuResult:
    """Outcome of one dcmprscu run; ``elapsed`` times dcmprscu alone, not the rendering."""

    returncode: int
    stdout: str
    stderr: str
    messages: list[str]
    elapsed: float
    stored_print: tuple[Path, ...] = ()

    @property
    def errors(self) -> list[str]:
        """The ``E:`` lines: dcmprscu's only reliable failure signal."""
        return [m for m in self.messages if m.startswith("E:")]

    @property
    def warnings(self) -> list[str]:
        return [m for m in self.messages if m.startswith("W:")]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.errors


class DcmtkPrintScu:
    """DCMTK's print SCU: dcmpsprt renders a film into Stored Print objects, dcmprscu sends them.

    One instance owns ``workdir`` (its config, database and spool).  Use ``render`` once and ``send``
    many times when only the network step should be timed.
    """

    TARGET = "TARGET"

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        port: int,
        *,
        host: str = LOCALHOST,
        called_ae: str = "PRINTSCP",
        calling_ae: str = "DCMTKSCU",
        options: PrintOptions | None = None,
        timeout: float = 60.0,
        tls: DcmtkTls | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.tls = tls
        self.host = host
        self.port = port
        self.called_ae = called_ae
        self.calling_ae = calling_ae
        self.options = options or PrintOptions()
        self.timeout = timeout
        self.config_path = self.workdir / "dcmpstat-scu.cfg"
        self.database = self.workdir / "database"

    def write_config(self) -> Path:
        """Write the dcmpstat-style config with one ``Type = PRINTER`` section named TARGET."""
        o = self.options
        formats = list(o.display_formats)
        if (o.columns, o.rows) not in formats:
            formats.append((o.columns, o.rows))
        lines = _general_section(self.workdir, self.calling_ae, self.tls)
        lines += [
            f"[{self.TARGET}]",
            "Type = PRINTER",
            f"Hostname = {self.host}",
            _cfg_line("Port", self.port),
            f"Aetitle = {self.called_ae}",
            "Description = printserver test target",
            _cfg_line("MaxPDU", o.max_pdu),
            _cfg_line("Timeout", max(1, round(self.timeout))),
            _cfg_line("ImplicitOnly", o.implicit_only),
            "DisableNewVRs = false",
            _cfg_line("Supports12Bit", o.supports_12bit),
            _cfg_line("SupportsPresentationLUT", o.presentation_lut),
            "PresentationLUTMatchRequired = false",
            "PresentationLUTinFilmSession = false",
            f"DisplayFormat = {_display_formats(formats)}",
        ]
        if o.film_size:
            lines.append(f"FilmSizeID = {o.film_size}")
        if o.annotation:
            lines.append(f"Annotation = {o.annotation}")
        lines += self.tls.printer() if self.tls else []
        lines += [f"{k} = {v}" for k, v in o.extra_config.items()]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join(lines) + "\n")
        return self.config_path

    def _dcmpsprt_args(self) -> list[str]:
        o = self.options
        args = ["--layout", str(o.columns), str(o.rows)]
        if o.film_size:
            args += ["--filmsize", o.film_size]
        if o.orientation:
            args.append("--" + o.orientation.lower())
        if o.magnification:
            args += ["--magnification", o.magnification]
        if o.border_density:
            args += ["--border", o.border_density]
        return args + list(o.dcmpsprt_args)

    def render(self, images: Sequence[str | os.PathLike[str]]) -> Path:
        """Run dcmpsprt once: one film of ``images`` becomes a new Stored Print file (returned)."""
        self.write_config()
        before = set(self.database.glob("SP_*.dcm"))
        cmd = ["dcmpsprt", "-c", str(self.config_path), "-p", self.TARGET]
        cmd += self._dcmpsprt_args() + [str(p) for p in images]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=self.timeout, env=_env(self.options.tcp_nodelay)
        )
        new = sorted(set(self.database.glob("SP_*.dcm")) - before)
        if proc.returncode != 0 or len(new) != 1:
            raise DcmtkError(
                f"dcmpsprt made {len(new)} stored print files (rc={proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        return new[0]

    def send(self, stored_print: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> ScuResult:
        """Run dcmprscu on Stored Print file(s): one association per film; time only this step."""
        self.write_config()
        files = [stored_print] if isinstance(stored_print, str | os.PathLike) else list(stored_print)
        cmd = ["dcmprscu", "-c", str(self.config_path), "-p", self.TARGET]
        if self.options.session_print:
            cmd.append("--session-print")
        cmd += list(self.options.dcmprscu_args) + [str(f) for f in files]
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=self.timeout, env=_env(self.options.tcp_nodelay)
        )
        elapsed = time.perf_counter() - start
        return ScuResult(
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            messages=dcmtk_messages(proc.stdout + "\n" + proc.stderr),
            elapsed=elapsed,
            stored_print=tuple(Path(f) for f in files),
        )

    def print_film(self, images: Sequence[str | os.PathLike[str]]) -> ScuResult:
        """Render one film of ``images`` (columns x rows from the options) and send it."""
        return self.send(self.render(images))


# A permissive 12-bit printer for dcmprscp: every value our tests send must be in these lists, because
# dcmprscp answers 0106 for anything it was not configured with.
DCMPRSCP_PROFILE: dict[str, str] = {
    "MaxPDU": "32768",
    "ImplicitOnly": "false",
    "DisableNewVRs": "false",
    "Supports12Bit": "true",
    "SupportsPresentationLUT": "true",
    "PresentationLUTMatchRequired": "false",
    "PresentationLUTinFilmSession": "false",
    "SupportsImageSize": "true",
    "SupportsDecimateCrop": "true",
    "SupportsTrim": "true",
    "DisplayFormat": _display_formats(DEFAULT_DISPLAY_FORMATS),
    "FilmSizeID": "14INX17IN\\8INX10IN\\10INX12IN\\10INX14IN\\11INX14IN\\14INX14IN\\24CMX24CM\\24CMX30CM",
    "MediumType": "PAPER\\CLEAR FILM\\BLUE FILM",
    "FilmDestination": "MAGAZINE\\PROCESSOR\\BIN_1\\BIN_2",
    "MagnificationType": "REPLICATE\\BILINEAR\\CUBIC\\NONE",
    "SmoothingType": "NONE",
    "ResolutionID": "STANDARD\\HIGH",
    "BorderDensity": "BLACK\\WHITE\\150",
    "EmptyImageDensity": "BLACK\\WHITE\\150",
    "MaxDensity": "320",
    "MinDensity": "20",
    "OmitSOPClassUIDFromCreateResponse": "false",
}


@dataclass(frozen=True)
class StoredFilm:
    """One film dcmprscp stored: its Stored Print file and the HG files in image box position order."""

    stored_print: Path
    image_display_format: str
    film_size: str
    images: tuple[Path | None, ...]  # None: box left empty


@dataclass(frozen=True)
class DcmprscpFiles:
    stored_print: list[Path]  # SP_*.dcm
    hardcopy: list[Path]  # HG_*.dcm


class DcmprscpServer:
    """dcmprscp as a LOCALPRINTER on 127.0.0.1:``port``; a context manager that stops it by PID.

    dcmprscp serves one association at a time and never renders: image boxes become HG files, printed
    films SP files in ``database``.  ``lifetime`` bounds the process even if this object is leaked.
    """

    PRINTER = "LOCALPRINTER"

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        port: int | None = None,
        *,
        aetitle: str = "DCMPRSCP",
        profile: Mapping[str, str] | None = None,
        tcp_nodelay: bool = False,
        dump: bool = False,
        startup_timeout: float = 10.0,
        lifetime: float = 600.0,
        tls: DcmtkTls | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.tls = tls
        self.port = port if port is not None else free_port()
        self.aetitle = aetitle
        self.profile = {**DCMPRSCP_PROFILE, **(profile or {})}
        self.tcp_nodelay = tcp_nodelay
        self.dump = dump
        self.startup_timeout = startup_timeout
        self.lifetime = lifetime
        self.config_path = self.workdir / "dcmpstat-scp.cfg"
        self.database = self.workdir / "database"
        self.log_path = self.workdir / "dcmprscp.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def write_config(self) -> Path:
        lines = _general_section(self.workdir, self.aetitle, self.tls)
        lines += [
            f"[{self.PRINTER}]",
            "Type = LOCALPRINTER",
            "Hostname = localhost",
            _cfg_line("Port", self.port),
            f"Aetitle = {self.aetitle}",
            "Description = printserver test peer",
        ]
        lines += [f"{k} = {v}" for k, v in self.profile.items()]
        lines += self.tls.printer() if self.tls else []
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text("\n".join(lines) + "\n")
        return self.config_path

    def start(self) -> None:
        """Start dcmprscp and wait (bounded) until its port accepts connections."""
        if self._proc is not None:
            raise DcmtkError("dcmprscp already started")
        self.write_config()
        # `timeout` bounds the server's life; it forwards our SIGTERM to dcmprscp.
        cmd = ["timeout", "-k", "5", str(round(self.lifetime)), "dcmprscp", "-c", str(self.config_path)]
        cmd += ["-p", self.PRINTER, "-v"] + (["--dump"] if self.dump else [])
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=_env(self.tcp_nodelay),
            )  # fmt: skip
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise DcmtkError(f"dcmprscp exited with {self._proc.returncode}:\n{self.log()}")
            if _listening(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise DcmtkError(f"dcmprscp did not listen on port {self.port} within {self.startup_timeout}s")

    def stop(self) -> int | None:
        """Stop the server by its PID (SIGTERM, then SIGKILL after 5 s); returns its exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        return proc.returncode

    def __enter__(self) -> DcmprscpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self) -> str:
        """dcmprscp's own output so far (verbose; with ``dump`` also every DIMSE message)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def files(self) -> DcmprscpFiles:
        """The Stored Print (SP_*) and Hardcopy Grayscale (HG_*) files in the database, sorted by name."""
        return DcmprscpFiles(
            stored_print=sorted(self.database.glob("SP_*.dcm")),
            hardcopy=sorted(self.database.glob("HG_*.dcm")),
        )

    def films(self) -> list[StoredFilm]:
        """Each stored film with its HG files in image box position order (matched by SOP Instance UID)."""
        by_uid = {str(dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in self.files().hardcopy}
        films = []
        for sp_path in self.files().stored_print:
            sp = dcmread(sp_path)
            box = sp.FilmBoxContentSequence[0]
            slots: dict[int, Path | None] = {}
            for item in sp.get("ImageBoxContentSequence", []):
                refs = item.get("ReferencedImageSequence", [])
                uid = str(refs[0].ReferencedSOPInstanceUID) if refs else None
                slots[int(item.ImageBoxPosition)] = by_uid.get(uid) if uid else None
            images = tuple(slots.get(pos) for pos in range(1, max(slots, default=0) + 1))
            films.append(StoredFilm(sp_path, str(box.ImageDisplayFormat), str(box.get("FilmSizeID", "")), images))
        return films


def _listening(port: int) -> bool:
    """Whether a socket listens on ``port``, read from /proc so no probe association disturbs dcmprscp."""
    needle = f":{port:04X}"
    tables = [Path(t) for t in ("/proc/net/tcp", "/proc/net/tcp6") if Path(t).exists()]
    if not tables:  # not Linux: fall back to a plain connect, which dcmprscp survives
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            return s.connect_ex((LOCALHOST, port)) == 0
    for table in tables:
        for row in table.read_text().splitlines()[1:]:
            cols = row.split()
            if len(cols) > 3 and cols[1].endswith(needle) and cols[3] == "0A":  # 0A = LISTEN
                return True
    return False
