"""glibc heap tuning around the large, short-lived arrays of loading and profiling. Each call is a no-op where glibc
is absent (macOS, Windows, musl).

glibc maps arrays over 32 MB straight from the OS and unmaps them when freed, so every such array pays a page fault
per 4 KB page when first written; on a virtual machine that was a third of profiling time (measured on a 532 MB CSV).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from collections.abc import Iterator
from functools import cache

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
REUSE_BELOW = 512 << 20  # while profiling, arrays up to this size come from (and go back to) the heap
MMAP_AFTER, TRIM_AFTER = 32 << 20, 64 << 20  # afterwards: the values glibc's own dynamic thresholds grow to


@cache
def _libc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    return None


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise: ~1 GB after parsing a 500 MB CSV)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """Keep freed arrays in the heap, so the next column's arrays reuse their pages instead of faulting in new ones;
    on leaving, give the heap's free pages back to the OS."""
    libc = _libc()
    if libc is None:
        yield
        return
    libc.mallopt(M_MMAP_THRESHOLD, REUSE_BELOW)
    libc.mallopt(M_TRIM_THRESHOLD, 2 * REUSE_BELOW)
    try:
        yield
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_AFTER)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_AFTER)
        libc.malloc_trim(0)
