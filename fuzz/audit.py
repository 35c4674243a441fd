"""Fuzz target: the whole per-page audit (`audit_page`: extract, detect, match, judge).

Invariant: `audit_page` with the bundled rulebook and an index of the example
dispatches returns a PageResult or raises ExtractionError (an errors.jsonl entry with
stage `extract`). Anything else would reach `safely()`'s catch-all and be reported as
"please report this page": for the fuzzer that is a crash. Findings must name a clause
of the rulebook and carry a known severity and a confidence in [0, 1].

Input: the first byte picks the Content-Type, whether the index is used, and either a
URL and capture time from a list, or (bit 7) both from the first line of the input,
`url|fetched_at` — WARC-Date reaches the audit as written, so it must be survivable.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fuzz.harness import check, instrumented, main, scratch

with instrumented(__name__ == "__main__", "compliance"):
    from compliance.audit import audit_page
    from compliance.extract.html import ExtractionError
    from compliance.index import Dispatch, DispatchIndex, read_dispatches
    from compliance.model import Page, PageResult
    from compliance.rulebook import load_rulebook
    from compliance.rulebook.schema import SEVERITY_ORDER

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = load_rulebook(ROOT / "rules")
AUDIT_TIME = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
CONTENT_TYPES = ("text/html", "text/plain", None, "text/html")
URLS = (None, "https://www.dhnet.be/actu/a.html", "https://www.afp.com/fr/a",
        "https://copycat.example/2026/11/19/story", "http://", "not a url", "https://[::1",
        "https://xn--n3h.example/%ff")
WHEN = (None, "2026-11-19T08:30:00Z", "2019-01-01", "yesterday", "2026-02-30T99:00")
_INDEX: list[DispatchIndex] = []


def index() -> DispatchIndex:
    """A read-only index of the example dispatches, built once per process."""
    if not _INDEX:
        path = scratch() / "dispatches.sqlite"
        with DispatchIndex.open(path, read_only=False) as writable:
            writable.add(d for d in read_dispatches([ROOT / "examples" / "dispatches"])
                         if isinstance(d, Dispatch))
        _INDEX.append(DispatchIndex.open(path, read_only=True))
    return _INDEX[0]


def one_input(data: bytes) -> None:
    """Audit one fuzzed page and check the findings."""
    if not data:
        return
    selector, raw = data[0], data[1:]
    url, fetched_at = URLS[(selector >> 2) % len(URLS)], WHEN[(selector >> 5) % len(WHEN)]
    if selector & 0x80:
        head, _, raw = raw.partition(b"\n")
        left, _, right = head.decode("utf-8", "replace").partition("|")
        url, fetched_at = left or None, right or None
    page = Page(source="fuzz", raw=raw, url=url, fetched_at=fetched_at,
                content_type=CONTENT_TYPES[selector % len(CONTENT_TYPES)])
    try:
        result = audit_page(page, RULEBOOK, AUDIT_TIME, index() if selector & 2 else None)
    except ExtractionError:
        return
    check(isinstance(result, PageResult), "audit_page returned no PageResult")
    clauses = {c.id for a in RULEBOOK.agencies.values() for c in a.clauses}
    for finding in result.findings:
        check(finding.clause_id in clauses, f"finding under unknown clause {finding.clause_id}")
        check(finding.severity in SEVERITY_ORDER, f"unknown severity {finding.severity!r}")
        check(0.0 <= finding.confidence <= 1.0, f"confidence {finding.confidence} out of range")


if __name__ == "__main__":
    index()  # built before fuzzing, so the first input is not charged for it
    one_input(b"\x02<html><body><p>PARIS (AFP) - The council met on Tuesday.</p></body></html>")
    main(one_input)
