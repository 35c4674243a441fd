"""One audit at a time per store, with a lock the operating system or server releases.

A lock row in a table would outlive a process killed with SIGKILL and need
stale-lock guessing. Instead: for SQLite an `flock` on a file beside the
database (the kernel drops it when the process dies), for PostgreSQL a
session advisory lock on a connection of its own (the server drops it when
the connection does). Readers (`history`, `evidence`) never take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text

ADVISORY_KEY = 0x636F6D706C69  # "compli": one audit lock per PostgreSQL database
POLL_SECONDS = 0.25


class StoreError(Exception):
    """The store cannot be opened, migrated or written: fatal, exit status 2."""


class StoreLocked(StoreError):
    """Another audit holds the store; nothing was done."""


class AuditLock:
    """Held for the whole audit; `release()` (or process death) frees it."""

    def acquire(self, wait: float | None) -> None:
        """Take the lock, waiting up to `wait` seconds (None: not at all, inf: for ever)."""
        deadline = None if wait is None else time.monotonic() + wait
        while not self._try():
            if deadline is None or time.monotonic() >= deadline:
                raise StoreLocked("another audit holds the store")
            time.sleep(POLL_SECONDS)

    def _try(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class FileLock(AuditLock):
    """An exclusive `flock` on `<database>.lock`."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: IO[str] | None = None

    def _try(self) -> bool:
        handle = self._handle or self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle = handle
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class AdvisoryLock(AuditLock):
    """A PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn: Connection | None = None

    def _try(self) -> bool:
        if self._conn is None:
            self._conn = self.engine.connect()
        got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        held = bool(got.scalar())
        self._conn.commit()
        return held

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            self._conn.close()
            self._conn = None
