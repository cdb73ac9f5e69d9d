"""A real, isolated CUPS for tests: a private dbus-daemon, an ippeveprinter and a cupsd with one queue.

Facts this relies on are in the shared notes (cups-testbed.md): filters run as `lp`, so the base
folder lives under /tmp with mode 755 (never pytest's 0700 tmp_path); ippeveprinter needs a D-Bus
system bus even with `-r off`; lpadmin returns before the PPD exists. Every process is started
here, bounded in time, and stopped by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.dcmtk import free_port

#: What the simulated film printer offers: PWG self-describing name -> size in hundredths of mm.
MEDIA = {
    "oe_14x17_14x17in": (35560, 43180),
    "na_govt-letter_8x10in": (20320, 25400),
    "iso_a4_210x297mm": (21000, 29700),
    "na_letter_8.5x11in": (21590, 27940),
}
MARGIN = 300  # hundredths of mm on every side (IPP Everywhere needs margins > 0)


def printer_attributes() -> str:
    """An ippeveprinter attribute file (-a) for a grayscale PDF film printer with film and paper sizes."""
    def col(name: str, size: tuple[int, int]) -> str:
        margins = " ".join(f"MEMBER integer media-{s}-margin {MARGIN}" for s in ("bottom", "left", "right", "top"))
        return (f"{{MEMBER collection media-size {{MEMBER integer x-dimension {size[0]} MEMBER integer y-dimension "
                f"{size[1]}}} MEMBER keyword media-size-name {name} {margins}}}")
    first = next(iter(MEDIA))
    sizes = ",".join(f"{{MEMBER integer x-dimension {w} MEMBER integer y-dimension {h}}}" for w, h in MEDIA.values())
    return "\n".join([
        'ATTR mimeMediaType document-format-supported "application/pdf","image/pwg-raster"',
        "ATTR keyword media-supported " + ",".join(MEDIA),
        f"ATTR keyword media-default {first}",
        f"ATTR keyword media-ready {first}",
        "ATTR collection media-col-database " + ",".join(col(n, s) for n, s in MEDIA.items()),
        f"ATTR collection media-col-default {col(first, MEDIA[first])}",
        f"ATTR collection media-col-ready {col(first, MEDIA[first])}",
        f"ATTR collection media-size-supported {sizes}",
        *(f"ATTR integer media-{side}-margin-supported {MARGIN}" for side in ("bottom", "left", "right", "top")),
        "ATTR resolution pwg-raster-document-resolution-supported 300dpi",
        "ATTR keyword pwg-raster-document-type-supported sgray_8",
        "ATTR resolution printer-resolution-supported 300dpi",
        "ATTR resolution printer-resolution-default 300dpi",
        "ATTR keyword print-color-mode-supported monochrome",
        "ATTR keyword print-color-mode-default monochrome",
        "ATTR keyword sides-supported one-sided",
        "ATTR keyword sides-default one-sided",
        "ATTR rangeOfInteger copies-supported 1-99",
        "ATTR integer copies-default 1",
        "ATTR integer job-priority-supported 100",
        "ATTR integer job-priority-default 50",
        "",
    ])

RECORD_SCRIPT = """#!/bin/sh
# ippeveprinter print command: keep what the printer received (document + job attributes).
n=$(date +%s%N)
cp "$1" "{out}/$n.doc"
env | grep '^IPP_' > "{out}/.$n.env.tmp" && mv "{out}/.$n.env.tmp" "{out}/$n.env"  # whole, or not there
sleep 0.2
"""


def _wait(cond: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready within {timeout} s")


class CupsBed:
    """cupsd on 127.0.0.1:`port` with queue `queue` whose device is an ippeveprinter."""

    def __init__(self, queue: str = "film") -> None:
        self.queue = queue
        self.base = Path(tempfile.mkdtemp(prefix="printserver-cups-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        self.port = free_port()
        self.printer_port = free_port()
        self.received = self.base / "received"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ)

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- processes ---------------------------------------------------------------------------------

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.base / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def _stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # cupsd calls setsid itself: its group is its PID
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def start(self) -> CupsBed:
        try:
            self._start_dbus()
            self.start_printer()
            self._write_cups_config()
            self.start_cupsd()
            # -m everywhere asks the printer for its attributes at the URI as given: no query part yet
            self._lp("lpadmin", "-p", self.queue, "-E", "-v", self.device_uri.split("?")[0], "-m", "everywhere")
            _wait(lambda: (self.base / "etc" / "ppd" / f"{self.queue}.ppd").exists(), 20, "queue PPD")
            self._lp("lpadmin", "-p", self.queue, "-v", self.device_uri)
            self._lp("cupsenable", self.queue)
            self._lp("cupsaccept", self.queue)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_dbus(self) -> None:
        sock = self.base / "dbus.sock"
        conf = self.base / "dbus.conf"
        conf.write_text(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={sock}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/>
<allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/></policy></busconfig>
""")
        self._spawn("dbus", ["dbus-daemon", "--config-file", str(conf), "--nofork", "--nopidfile"])
        _wait(sock.exists, 10, "dbus-daemon")
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = f"unix:path={sock}"

    @property
    def device_uri(self) -> str:
        return f"ipp://localhost:{self.printer_port}/ipp/print?contimeout=5"

    def start_printer(self) -> None:
        """(Re)start the ippeveprinter that plays the film printer."""
        self.received.mkdir(exist_ok=True, mode=0o777)
        os.chmod(self.received, 0o777)
        script = self.base / "record.sh"
        script.write_text(RECORD_SCRIPT.format(out=self.received))
        script.chmod(0o755)
        attrs = self.base / "printer.attrs"
        attrs.write_text(printer_attributes())
        spool = self.base / "printer-spool"
        spool.mkdir(exist_ok=True)
        self._spawn("printer", ["ippeveprinter", "-r", "off", "-n", "localhost", "-p", str(self.printer_port),
                                "-a", str(attrs), "-d", str(spool), "-k",
                                "-c", str(script), "Film Printer"])

        def up() -> bool:
            if self.procs["printer"].poll() is not None:
                raise RuntimeError((self.base / "printer.log").read_text()[-2000:])
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.printer_port)) == 0
        _wait(up, 20, "ippeveprinter")

    def stop_printer(self) -> None:
        self._stop("printer")

    def _write_cups_config(self) -> None:
        etc = self.base / "etc"
        for sub in ("etc", "etc/ppd", "spool", "spool/tmp", "cache", "state", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(self.base / sub, 0o755)
        os.chmod(self.base / "spool", 0o710)
        shutil.chown(self.base / "spool", group="lp")
        os.chmod(self.base / "spool/tmp", 0o1777)
        (etc / "cups-files.conf").write_text(
            f"ServerRoot {etc}\nRequestRoot {self.base}/spool\nTempDir {self.base}/spool/tmp\n"
            f"CacheDir {self.base}/cache\nStateDir {self.base}/state\nAccessLog {self.base}/log/access_log\n"
            f"ErrorLog {self.base}/log/error_log\nPageLog {self.base}/log/page_log\n"
            f"Printcap {self.base}/printcap\nFileDevice Yes\n")
        (etc / "cupsd.conf").write_text(
            f"Listen 127.0.0.1:{self.port}\nBrowsing No\nBrowseLocalProtocols none\nLogLevel debug\n"
            "PreserveJobFiles Yes\nJobRetryInterval 1\nErrorPolicy retry-job\nDefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")

    def start_cupsd(self) -> None:
        etc = self.base / "etc"
        conf = ["-c", str(etc / "cupsd.conf"), "-s", str(etc / "cups-files.conf")]
        subprocess.run(["cupsd", "-t", *conf], check=True, capture_output=True, timeout=10, env=self.env)
        self._spawn("cupsd", ["cupsd", "-F", *conf])
        _wait(lambda: subprocess.run(["lpstat", "-h", self.server, "-r"], capture_output=True, text=True,
                                     timeout=10, env=self.env).stdout.startswith("scheduler is running"),
              20, "cupsd")

    def stop_cupsd(self) -> None:
        self._stop("cupsd")

    def stop(self) -> None:
        for name in ("cupsd", "printer", "dbus"):
            self._stop(name)
        if not os.environ.get("PRINTSERVER_KEEP_CUPSBED"):  # set it to read the logs of a failed run
            shutil.rmtree(self.base, ignore_errors=True)

    # --- administration and what the printer received -------------------------------------------

    def _lp(self, tool: str, *args: str) -> None:
        subprocess.run([tool, "-h", self.server, *args], check=True, capture_output=True, timeout=30, env=self.env)

    def disable(self) -> None:
        self._lp("cupsdisable", self.queue)

    def enable(self) -> None:
        self._lp("cupsenable", self.queue)

    def reject(self) -> None:
        self._lp("cupsreject", self.queue)

    def accept(self) -> None:
        self._lp("cupsaccept", self.queue)

    def error_policy(self, policy: str) -> None:
        """What CUPS does with a job whose printer cannot be reached: retry-job (the bed's) or abort-job."""
        self._lp("lpadmin", "-p", self.queue, "-o", f"printer-error-policy={policy}")

    def jobs_received(self) -> list[tuple[Path, dict[str, str]]]:
        """(document, IPP job attributes as ippeveprinter passed them) per job the printer printed."""
        out = []
        for env in sorted(self.received.glob("*.env")):
            attrs = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
            out.append((env.with_suffix(".doc"), attrs))
        return out

    def wait_received(self, count: int, timeout: float = 60) -> list[tuple[Path, dict[str, str]]]:
        _wait(lambda: len(self.jobs_received()) >= count, timeout, f"{count} printed job(s)")
        return self.jobs_received()

    def __enter__(self) -> CupsBed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dump(bed: CupsBed) -> str:
    """Logs for a failing test's message."""
    return json.dumps({p.name: p.read_text()[-1500:] for p in bed.base.glob("*.log")}, indent=1) + \
        (bed.base / "log" / "error_log").read_text()[-3000:] if (bed.base / "log" / "error_log").exists() else ""
