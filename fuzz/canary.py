"""A target that fails on purpose, so tests can prove `run.py` reports what goes wrong.

Not a parser: $FUZZ_CANARY says how it misbehaves (`crash`: raise, `timeout`: sleep
past any per-input limit, `oom`: allocate without bound) on an input starting with `!`,
a one-byte prefix libFuzzer finds within a few hundred executions.
"""

from __future__ import annotations

import os
import time

from fuzz.harness import main

_HOARD: list[bytes] = []


def one_input(data: bytes) -> None:
    """Misbehave as $FUZZ_CANARY says on inputs starting with `!`, do nothing otherwise."""
    if data[:1] != b"!":
        return
    how = os.environ.get("FUZZ_CANARY", "crash")
    if how == "timeout":
        time.sleep(30)
    while how == "oom":
        _HOARD.append(bytes(64 * 1024 * 1024))
    raise KeyError("the canary crashed, as it should")


if __name__ == "__main__":
    main(one_input)
