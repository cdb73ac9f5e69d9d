"""glibc malloc settings for the long-running server process (`printserver serve`), set at its start.

The server receives every image as a ~512 KB buffer (pydicom's Pixel Data value), in whichever
association thread serves the modality. With glibc's defaults such buffers stay in the process
after they are freed: the mmap threshold rises to the largest block freed so far (up to 32 MB), so
later 512 KB buffers come from the per-thread arenas (up to 8 per core), which rarely give memory
back. A fixed 128 KiB threshold (buffers that large are mapped and unmapped whole) and two arenas
keep the server's memory close to what it holds. Measured with four SCUs printing 4x5 films of
512x512 12-bit images: server peak RSS 151-157 MB with the defaults, 127-133 MB with these, at the
same CPU per film (benchmarks/bench_load.py). Only here: render workers are spawned with the
defaults, where reusing freed heap for the next 43 MB film raster is what keeps them fast (the same
settings there doubled their CPU per film).
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024
ARENAS = 2


def tune() -> bool:
    """Apply the settings (before the server starts its threads); False where malloc is not glibc's."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
        gnu = ctypes.CDLL(None).gnu_get_libc_version
    except (OSError, AttributeError):
        return False
    gnu.restype = ctypes.c_char_p
    ok = bool(mallopt(M_ARENA_MAX, ARENAS)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    log.debug("glibc %s malloc: %d arenas, mmap threshold %d bytes: %s", gnu().decode(), ARENAS,
              MMAP_THRESHOLD_BYTES, "set" if ok else "refused")
    return ok
