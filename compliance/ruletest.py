"""Rule tests: annotated fixture pages audited against the rulebook, every difference reported.

A fixture is a page (.html, .htm, .txt, optionally .gz) carrying its expectations
in comments, so rule authors can change a marker or a clause and see at once
what else moved:

    <!-- expect: afp-no-redistribution -->     this clause must be found (repeatable,
                                               or several ids separated by commas)
    <!-- expect-none -->                       no violation at all
    <!-- url: https://copycat.example/a -->    the page's address (licences hang on it)
    <!-- fetched: 2026-11-20 -->               capture time (licence validity, retention)

Only violations count; notes below the reporting threshold are listed but never
fail a test. The annotations are removed before the page is audited, so they
can never match a rule themselves.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .audit import audit_page
from .model import Page
from .rulebook import Rulebook

ANNOTATION = re.compile(
    r"<!--\s*(expect-none|expect|url|fetched)\s*(?::\s*(.*?))?\s*-->\s*\n?", re.IGNORECASE
)
SUFFIXES = (".html", ".htm", ".xhtml", ".txt")


@dataclass(frozen=True)
class Expectation:
    clauses: frozenset[str]
    none: bool
    url: str | None
    fetched: str | None


@dataclass(frozen=True)
class CaseResult:
    """One fixture's outcome: what was expected, what was found, and the differences."""

    path: Path
    expected: frozenset[str]
    found: frozenset[str]
    notes: frozenset[str]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def fixtures(folder: Path) -> Iterator[Path]:
    """Fixture pages under `folder`, in a stable order."""
    if folder.is_file():
        yield folder
        return
    for path in sorted(folder.rglob("*")):
        name = path.name.lower().removesuffix(".gz")
        if path.is_file() and name.endswith(SUFFIXES):
            yield path


def read_fixture(path: Path) -> tuple[Expectation, bytes]:
    """The expectations and the page bytes with the annotations taken out."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    clauses: set[str] = set()
    none = False
    url = fetched = None
    for match in ANNOTATION.finditer(text):
        kind, value = match.group(1).lower(), (match.group(2) or "").strip()
        if kind == "expect":
            clauses |= {c.strip() for c in value.split(",") if c.strip()}
        elif kind == "expect-none":
            none = True
        elif kind == "url":
            url = value or None
        else:
            fetched = value or None
    page = ANNOTATION.sub("", text).encode("utf-8")
    return Expectation(frozenset(clauses), none, url, fetched), page


def run_case(path: Path, rulebook: Rulebook, now: dt.datetime) -> CaseResult:
    expect, raw = read_fixture(path)
    problems: list[str] = []
    known = {c.id for a in rulebook.agencies.values() for c in a.clauses}
    if not expect.clauses and not expect.none:
        problems.append("no expectations: add <!-- expect: CLAUSE_ID --> or <!-- expect-none -->")
    if expect.clauses and expect.none:
        problems.append("both 'expect' and 'expect-none'")
    for clause in sorted(expect.clauses - known):
        problems.append(f"expects unknown clause {clause!r}")
    name = path.name.lower().removesuffix(".gz")
    page = Page(
        source=str(path),
        raw=raw,
        url=expect.url,
        fetched_at=expect.fetched,
        content_type="text/plain" if name.endswith(".txt") else "text/html",
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    result = audit_page(page, rulebook, now)
    found = frozenset(f.clause_id for f in result.findings if f.level == "violation")
    notes = frozenset(f.clause_id for f in result.findings if f.level != "violation")
    for clause in sorted((expect.clauses & known) - found):
        extra = " (found only as a note below the threshold)" if clause in notes else ""
        problems.append(f"missing: {clause}{extra}")
    for clause in sorted(found - expect.clauses):
        problems.append(f"unexpected: {clause}")
    return CaseResult(path, expect.clauses, found, notes, tuple(problems))


def run_tests(folder: Path, rulebook: Rulebook, now: dt.datetime | None = None) -> list[CaseResult]:
    """Every fixture under `folder`; a page that cannot be audited is a failed case."""
    moment = now or dt.datetime.now(dt.UTC)
    results = []
    for path in fixtures(folder):
        try:
            results.append(run_case(path, rulebook, moment))
        except Exception as exc:  # one broken fixture must not hide the others
            results.append(
                CaseResult(
                    path,
                    frozenset(),
                    frozenset(),
                    frozenset(),
                    (f"could not be audited: {type(exc).__name__}: {exc}",),
                )
            )
    return results


def untested_agencies(results: list[CaseResult], rulebook: Rulebook) -> list[str]:
    """Agencies none of whose clauses any fixture expects."""
    expected = {c for r in results for c in r.expected}
    return sorted(
        a.id
        for a in rulebook.agencies.values()
        if a.clauses and not expected & {c.id for c in a.clauses}
    )


def default_tests_dir(rules_dir: Path) -> Path:
    """Rule tests live beside the rule files: `<rulebook>/tests`."""
    base = rules_dir if rules_dir.is_dir() else rules_dir.parent
    return base / "tests"
