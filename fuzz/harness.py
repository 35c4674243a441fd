"""What every fuzz target shares: instrumentation, the invariant check, run statistics.

libFuzzer ends the process with C `exit()`, so Python's atexit never runs: the number
of executions and of distinct inputs is written to a stats file as the run goes (and
right before a crash), and the input being tried is kept in a file so that a hang the
Python-level timeout cannot interrupt (a C loop) still leaves its reproducer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

STATS_ENV = "COMPLIANCE_FUZZ_STATS"  # where to write {"executions", "distinct"}
CURRENT_ENV = "COMPLIANCE_FUZZ_CURRENT"  # where to keep the input being tried


class InvariantBroken(AssertionError):
    """A target's output contradicts what the library promises (not an exception it raised)."""


def check(condition: bool, message: str) -> None:
    """Fail the input when `condition` is false; `assert` would vanish under `python -O`."""
    if not condition:
        raise InvariantBroken(message)


@contextlib.contextmanager
def instrumented(active: bool, *include: str) -> Iterator[None]:
    """Instrument the modules imported inside the block (when fuzzing), so coverage counts."""
    if not active:
        yield
        return
    import atheris

    with atheris.instrument_imports(include=list(include)):
        yield


_SCRATCH: list[Path] = []


def scratch() -> Path:
    """A private folder for the files a target writes (under $TMPDIR, which run.py cleans)."""
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="compliance-fuzz-")))
    return _SCRATCH[0]


def write_input(name: str, data: bytes) -> Path:
    """`data` as a file called `name` in the scratch folder (parsers under test read paths)."""
    path = scratch() / name
    path.write_bytes(data)
    return path


def _flag(argv: list[str], name: str) -> int | None:
    for arg in argv:
        if arg.startswith(f"-{name}="):
            with contextlib.suppress(ValueError):
                return int(arg.split("=", 1)[1])
    return None


class _Tally:
    """Executions and distinct inputs (an 8-byte hash each), flushed to the stats file."""

    def __init__(self, path: str | None, runs: int | None) -> None:
        self.path = path
        self.runs = runs
        self.executions = 0
        self.seen: set[int] = set()
        self.flushed = time.monotonic()

    def count(self, data: bytes) -> None:
        self.executions += 1
        self.seen.add(int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little"))
        if self.executions == self.runs or time.monotonic() - self.flushed > 1.0:
            self.flush()

    def flush(self) -> None:
        if not self.path:
            return
        temporary = f"{self.path}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"executions": self.executions, "distinct": len(self.seen)}, handle)
        os.replace(temporary, self.path)
        self.flushed = time.monotonic()


def main(one_input: Callable[[bytes], None]) -> None:
    """Run `one_input` under libFuzzer with the flags and corpus folders of `sys.argv`."""
    import atheris

    tally = _Tally(os.environ.get(STATS_ENV), _flag(sys.argv, "runs"))
    current = os.environ.get(CURRENT_ENV)
    descriptor = os.open(current, os.O_RDWR | os.O_CREAT, 0o600) if current else None

    def test_one_input(data: bytes) -> None:
        tally.count(data)
        if descriptor is not None:
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, data, 0)
        try:
            one_input(data)
        except BaseException:
            tally.flush()
            raise

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
