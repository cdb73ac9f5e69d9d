"""Fixtures: a real printserver SCP on 127.0.0.1 (ephemeral port), stopped by each test."""

from __future__ import annotations

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
