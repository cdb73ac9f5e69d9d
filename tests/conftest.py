"""Fixtures: a real printserver SCP on 127.0.0.1 (ephemeral port), stopped by each test."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from printserver import config
from printserver.net.scp import PrintServer


class RunningServer:
    def __init__(self, server: PrintServer, pdf_dir: Path) -> None:
        self.server = server
        self.port = server.port
        self.pdf_dir = pdf_dir

    def pdfs(self) -> list[Path]:
        return sorted(self.pdf_dir.rglob("*.pdf"))

    def wait_pdfs(self, count: int, timeout: float = 60) -> list[Path]:
        """Wait (bounded) until the worker has written `count` PDFs and the spool is empty."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.pdfs()) >= count and not self.server.spool.pending():
                return self.pdfs()
            time.sleep(0.05)
        raise TimeoutError(f"expected {count} PDFs, found {len(self.pdfs())}")


def make_server(tmp_path: Path, **printer: object) -> PrintServer:
    base = config.load(None)
    profile = replace(base.printers[0], pdf_dir=str(tmp_path / "films"), **printer)
    cfg = config.validated(replace(base, host="127.0.0.1", port=1, spool_dir=str(tmp_path / "spool"),
                                   printers=(profile,)))
    cfg = replace(cfg, port=0)  # ephemeral, after validation
    return PrintServer(cfg)


@pytest.fixture
def scp(tmp_path: Path) -> Iterator[RunningServer]:
    server = make_server(tmp_path)
    server.start()
    try:
        yield RunningServer(server, tmp_path / "films")
    finally:
        server.stop()


@pytest.fixture
def scp_factory(tmp_path: Path) -> Iterator[object]:
    """Start servers with printer profile overrides: scp_factory(session_print=False)."""
    started: list[PrintServer] = []

    def start(**printer: object) -> RunningServer:
        server = make_server(tmp_path / f"s{len(started)}", **printer)
        server.start()
        started.append(server)
        return RunningServer(server, tmp_path / f"s{len(started) - 1}" / "films")

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def bed() -> Iterator[object]:
    """A private cupsd with an ippeveprinter queue (tests/cupsbed.py), one per test module, stopped after it."""
    from tests.cupsbed import CupsBed

    with CupsBed() as b:
        yield b


# --- backstops: a stuck test or a thread left behind must not hold the run (CI stops at 90 minutes) -----

#: pytest-timeout (180 s, pyproject) interrupts the main thread; a test still going after this long was
#: not interruptible (or hung again in its teardown): every thread's stack goes to stderr and the run ends
HARD_TEST_SECONDS = float(os.environ.get("PRINTSERVER_TEST_HARD_SECONDS", "600"))
#: After the last test: threads a test left running (non-daemon) would keep the interpreter from exiting;
#: they are reported with their stacks and the run ends with the tests' verdict
EXIT_GRACE_SECONDS = float(os.environ.get("PRINTSERVER_TEST_EXIT_GRACE", "60"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    def give_up() -> None:  # as pytest-timeout's thread method: output uncaptured, every stack, then out
        capman = item.config.pluginmanager.getplugin("capturemanager")
        if capman is not None:
            capman.suspend_global_capture(in_=True)
        print(f"\n!!! {item.nodeid} still runs after {HARD_TEST_SECONDS} s: the run stops here", file=sys.stderr,
              flush=True)
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(1)

    watchdog = threading.Timer(HARD_TEST_SECONDS, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    def leave() -> None:
        print(f"\n!!! the run did not end {EXIT_GRACE_SECONDS} s after its last test: threads left running",
              file=sys.__stderr__, flush=True)
        faulthandler.dump_traceback(file=sys.__stderr__, all_threads=True)
        os._exit(int(exitstatus))  # the tests' own verdict; the leak is reported above

    timer = threading.Timer(EXIT_GRACE_SECONDS, leave)
    timer.daemon = True
    timer.start()
