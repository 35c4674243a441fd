"""Pages from WARC and WARC.gz files, as crawlers and web archives write them.

A `response` (or `resource`) record holding HTML or text is a page: its
target URI is the page's URL and its WARC-Date the capture time, and the
HTTP status and headers travel with it into the evidence. A 404/410
response means the page is gone. Everything else that looks like a page
record (revisits, redirects, images, PDFs, other statuses) is skipped with
a reason; request, metadata and warcinfo records are not pages at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..model import PageError
from .captures import CapturedPage, PageGone, Skipped
from .files import open_regular

WARC_SUFFIXES = (".warc", ".warc.gz")
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
GONE = (404, 410)
WARC_TYPES = ("warcinfo", "response", "resource", "request", "revisit", "metadata",
              "conversion", "continuation")


def is_warc_file(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def iter_warc(
    path: Path, limit: int
) -> Iterator[CapturedPage | PageGone | Skipped | PageError]:
    """Every page record of one WARC file; a damaged file ends in one error entry."""
    try:
        handle, _size = open_regular(path)
    except OSError as exc:
        yield PageError(str(path), None, "load", f"cannot read WARC file: {exc.strerror or exc}")
        return
    with handle:
        records = 0
        try:
            for record in _records(handle):
                if not str(getattr(record, "format", "warc")).startswith("warc"):
                    raise ValueError("not a WARC file (an ARC file or unknown data)")
                if record.rec_type in WARC_TYPES:
                    records += 1
                item = _from_record(path, record, limit)
                if item is not None:
                    yield item
            if not records:
                yield PageError(str(path), None, "load", "no WARC records in this file",
                                "is it a WARC file, and is it complete?")
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            yield PageError(
                str(path), None, "load", f"damaged WARC file: {exc}",
                "the records before the damage were read",
            )


class DamagedRecord(ValueError):
    """warcio failed on a damaged record with an error of its own kind (not a crash)."""


def _records(handle: Any) -> Iterator[Any]:
    """warcio's records of an open WARC file, any failure of warcio's as DamagedRecord.

    On malformed headers warcio raises more than ArchiveLoadFailed (an AttributeError
    for a response record without WARC-Target-URI, for one), so whatever it raises
    while parsing counts as damage; our own handling of each record stays outside.
    """
    records = iter(ArchiveIterator(handle))
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (ArchiveLoadFailed, OSError, EOFError, ValueError):
            raise
        except Exception as exc:
            what = f"{type(exc).__name__}: {exc}"
            raise DamagedRecord(f"a record warcio cannot parse ({what})") from None
        yield record


def _from_record(
    path: Path, record: object, limit: int
) -> CapturedPage | PageGone | Skipped | PageError | None:
    kind = record.rec_type  # type: ignore[attr-defined]
    headers = record.rec_headers  # type: ignore[attr-defined]
    url = headers.get_header("WARC-Target-URI")
    record_id = headers.get_header("WARC-Record-ID") or ""
    source = f"{path}#{record_id}"
    when = _iso(headers.get_header("WARC-Date"))
    if kind == "revisit":
        return Skipped(source, url, "revisit record (the content is stored elsewhere)")
    if kind not in ("response", "resource"):
        return None
    status, http_headers = 200, ()
    content_type = headers.get_header("Content-Type") or ""
    if kind == "response":
        http = record.http_headers  # type: ignore[attr-defined]
        if http is None:
            return Skipped(source, url, "response record without HTTP headers")
        try:
            status = int(http.get_statuscode() or 0)
        except ValueError:
            status = 0
        http_headers = tuple((str(k), str(v)) for k, v in http.headers)
        content_type = http.get_header("Content-Type") or ""
        if status in GONE and url:
            return PageGone(source, url, status, when)
        if 300 <= status < 400:
            return Skipped(source, url, f"HTTP {status} redirect")
        if status != 200:
            return Skipped(source, url, f"HTTP {status}")
    media = content_type.split(";")[0].strip().lower()
    if media not in PAGE_TYPES:
        return Skipped(source, url, f"not a page ({media or 'no content type'})")
    raw = record.content_stream().read(limit + 1)  # type: ignore[attr-defined]
    if len(raw) > limit:
        return PageError(source, url, "load", f"record is larger than {limit} bytes",
                         "raise --max-bytes")
    if getattr(record.raw_stream, "limit", 0):  # type: ignore[attr-defined]
        return PageError(source, url, "load", "truncated WARC record (the file ends inside it)")
    return CapturedPage(
        source=source,
        raw=raw,
        url=url,
        fetched_at=when,
        content_type="text/plain" if media == "text/plain" else "text/html",
        sha256=hashlib.sha256(raw).hexdigest(),
        http_status=status,
        http_headers=http_headers,
    )


def _iso(value: str | None) -> str | None:
    """WARC-Date is already ISO 8601 (`2026-11-20T09:00:00Z`); keep it as written."""
    return value.strip() if value else None
