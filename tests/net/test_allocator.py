"""The server process's malloc settings (net/allocator.py): their effect is a benchmark figure
(benchmarks/bench_load.py, server peak RSS); here only that glibc takes them."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest


def _glibc() -> bool:
    try:
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018
    except AttributeError:
        return False
    return True


@pytest.mark.skipif(not _glibc(), reason="not glibc's malloc")
def test_glibc_takes_the_server_settings() -> None:
    code = "from printserver.net import allocator; print(allocator.tune())"  # a fresh process: no threads yet
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True"
