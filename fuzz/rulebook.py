"""Fuzz target: rulebook YAML → the safe loader → schema validation → the detection tables.

Invariant: `load_rulebook` returns a Rulebook or raises RulebookError whose problems each
carry a file, a line and a column; any other exception is a crash. A rulebook that loads
must be usable: its credit tables compile and run over a page (a rulebook error must
surface at `rules validate` time, not as a traceback in every page of an audit).

Input: the whole input is one rule file, `rules.yaml`, in a folder of its own.
"""

from __future__ import annotations

import signal

from fuzz.harness import check, instrumented, main, scratch

with instrumented(__name__ == "__main__", "compliance", "yaml"):
    from compliance.detect.credits import build_tables, detect_credits
    from compliance.extract.html import extract
    from compliance.model import Page
    from compliance.rulebook import Rulebook, RulebookError, load_rulebook

PAGE = extract(Page(source="fuzz", content_type="text/html", raw=(
    "<html lang='en'><body><article><p>PARIS (AFP) - The council met on Tuesday to discuss "
    "the harbour budget, officials said.</p><p>The vote is due next week. (dpa)</p>"
    "<p class='byline'>By Jane Roe | AP</p><p>© 2026 AFP</p></article></body></html>"
).encode()))


def one_input(data: bytes) -> None:
    """Load one fuzzed rule file and, if it loads, detect credits with it."""
    folder = scratch() / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "rules.yaml").write_bytes(data)
    # Marker validation times regexes with SIGALRM and switches the interval timer off
    # afterwards; libFuzzer's per-input timeout runs on the same timer, so re-arm it.
    timer = signal.getitimer(signal.ITIMER_REAL)
    try:
        rulebook = load_rulebook(folder)
    except RulebookError as exc:
        check(bool(exc.problems), "a RulebookError without problems")
        for problem in exc.problems:
            check(problem.line >= 1 and problem.col >= 1 and bool(problem.message),
                  f"problem without a position or message: {problem}")
        return
    finally:
        if timer[0] or timer[1]:
            signal.setitimer(signal.ITIMER_REAL, *timer)
    check(isinstance(rulebook, Rulebook), "load_rulebook returned no Rulebook")
    tables = build_tables(rulebook)  # not tables(): its per-digest cache would grow per input
    for evidence in detect_credits(PAGE, tables):
        check(evidence.agency in rulebook.agencies, f"credit to unknown agency {evidence.agency}")


if __name__ == "__main__":
    main(one_input)
