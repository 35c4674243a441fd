"""Open input files safely: regular files only, never blocking on a FIFO.

`open()` on a FIFO waits for a writer for ever, and a folder, socket or
device given as a page can only fail later in a confusing way. Opening
without blocking and checking the opened descriptor (not the path, which
could be swapped in between) refuses all of them with a clear reason.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotAFile(OSError):
    """A path that names a FIFO, socket, device or folder: never read."""


def open_regular(path: Path) -> tuple[BinaryIO, int]:
    """The file opened for binary reading, and its size; NotAFile for anything else."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(f"not a regular file but {_kind(info.st_mode)}; "
                           "only page files are read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "something else"
