"""Dispatch records (DESIGN.md §4) and reading them from an agency's archive files.

Every reader yields dispatches and, for records it cannot use, a `RecordError`
naming the file and line, so one bad record never stops an import.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

STATUSES = ("usable", "withheld", "canceled")
_STATUS_ALIASES = {"cancelled": "canceled", "killed": "canceled", "kill": "canceled",
                   "embargoed": "usable"}


@dataclass(frozen=True)
class Dispatch:
    """One dispatch as the agency sent it: text, language, dates, status and rights."""

    id: str
    agency: str
    lang: str | None
    title: str | None
    body: str  # paragraphs separated by blank lines
    published: str | None = None  # ISO 8601
    url: str | None = None
    embargo_until: str | None = None  # ISO 8601
    status: str = "usable"  # usable | withheld | canceled
    rights: str | None = None  # copyright holder / usage terms, as the file states them
    source: str = ""  # file:line it was read from


@dataclass(frozen=True)
class RecordError:
    """A record that was skipped, and why."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class RecordProblem(ValueError):
    """Raised by a reader for one record; turned into a RecordError with its line."""


def read_dispatches(
    paths: Path | str | Iterable[Path | str], agency: str | None = None
) -> Iterator[Dispatch | RecordError]:
    """Dispatches from JSONL, NewsML-G2 or NITF files and folders of .txt/.html/.xml files.

    `agency` fills in records that do not name one; a record naming another
    agency is refused (an archive is imported for one agency at a time).
    """
    from .formats import read_file  # formats imports this module's records

    if isinstance(paths, (str, Path)):
        paths = [paths]
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _archive_file(p))
            for file in files:
                yield from _checked(read_file(file, root=path), agency)
        elif path.is_file():
            yield from _checked(read_file(path, root=None), agency)
        else:
            yield RecordError(str(path), 0, "no such file or folder")


def _archive_file(path: Path) -> bool:
    return path.suffix.lower() in {".jsonl", ".json", ".xml", ".txt", ".html", ".htm", ".nitf"}


def _checked(
    records: Iterator[Dispatch | RecordError], agency: str | None
) -> Iterator[Dispatch | RecordError]:
    for record in records:
        if isinstance(record, RecordError):
            yield record
            continue
        path, _, line = record.source.rpartition(":")
        try:
            yield normalise(record, agency)
        except RecordProblem as exc:
            yield RecordError(path, int(line) if line.isdigit() else 0, str(exc))


def normalise(record: Dispatch, agency: str | None) -> Dispatch:
    """Check a record and bring its fields to canonical form (status, dates, language)."""
    if not record.id or not record.id.strip():
        raise RecordProblem("the dispatch has no id")
    if not record.agency and not agency:
        raise RecordProblem("the dispatch names no agency (give --agency)")
    if agency and record.agency and record.agency.lower() != agency.lower():
        raise RecordProblem(f"the dispatch is from {record.agency!r}, not {agency!r}")
    body = normalise_body(record.body)
    if not body:
        raise RecordProblem(f"dispatch {record.id!r} has no text")
    status = (record.status or "usable").strip().lower()
    status = _STATUS_ALIASES.get(status, status)
    if status not in STATUSES:
        raise RecordProblem(f"unknown status {record.status!r} (usable, withheld or canceled)")
    lang = (record.lang or "").strip().lower().replace("_", "-").split("-")[0] or None
    if lang is None:
        from ..extract.language import detect_language

        lang = detect_language(body)
    return replace(
        record,
        id=record.id.strip(),
        agency=(record.agency or agency or "").lower(),
        lang=lang,
        title=(record.title or "").strip() or None,
        body=body,
        status=status,
        published=iso_datetime(record.published, "published"),
        embargo_until=iso_datetime(record.embargo_until, "embargo_until"),
    )


def normalise_body(text: str) -> str:
    """Paragraphs separated by one blank line, spaces squeezed inside them."""
    paragraphs = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").replace("\r", "\n"))
    cleaned = (re.sub(r"\s+", " ", p).strip() for p in paragraphs)
    return "\n\n".join(p for p in cleaned if p)


_BASIC = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def iso_datetime(value: str | None, field: str) -> str | None:
    """ISO 8601 (extended or NITF's basic form) to extended form; None stays None."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    basic = _BASIC.match(text)
    if basic:
        y, mo, d, h, mi, s, zone = basic.groups()
        text = f"{y}-{mo}-{d}" + (f"T{h}:{mi}:{s or '00'}" if h else "")
        if zone and h:
            text += "Z" if zone == "Z" else f"{zone[:3]}:{zone[-2:]}"
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RecordProblem(f"{field} is not an ISO 8601 date: {value!r}") from None
    return text


def day_number(value: str | None) -> int | None:
    """Days since 1970-01-01 of an ISO date, for the date window of candidate lookup."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10]).toordinal() - dt.date(1970, 1, 1).toordinal()
    except ValueError:
        return None
