"""Page sources: files, folders, gzip, manifests, stdin lists.

Sources yield `Page` records or `PageError` records; a page that cannot be
read becomes an error entry and the audit goes on.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..model import Page, PageError
from .captures import PageGone, Skipped
from .files import NotAFile, open_regular
from .warc import WARC_SUFFIXES, is_warc_file, iter_warc

PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".txt", ".text")
GZIP_SUFFIXES = tuple(s + ".gz" for s in PAGE_SUFFIXES)
MAX_PAGE_BYTES = 16 * 1024 * 1024  # news pages are far smaller; bigger ones and gzip bombs: refused


class InputError(Exception):
    """A problem with what the user asked for (not with one page): fatal, exit status 2."""


@dataclass(frozen=True)
class ManifestEntry:
    path: Path | None
    url: str | None
    fetched_at: str | None
    line: int


def is_page_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(PAGE_SUFFIXES + GZIP_SUFFIXES + WARC_SUFFIXES)


def read_manifest(manifest: Path) -> list[ManifestEntry]:
    """Parse a manifest JSONL; a malformed line is a fatal input error naming the line."""
    entries = []
    base = manifest.parent
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{manifest}: cannot read manifest: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{manifest}:{number}: not valid JSON ({exc.msg}); "
                "each line must be an object like "
                '{"path": "page.html", "url": "https://…"}'
            ) from None
        if not isinstance(record, dict) or not (record.get("path") or record.get("url")):
            raise InputError(f"{manifest}:{number}: a manifest line needs 'path' or 'url'")
        path = record.get("path")
        for key in ("path", "url"):
            if not isinstance(record.get(key), str | None):
                raise InputError(f"{manifest}:{number}: '{key}' must be a string")
        if path and "\0" in path:
            raise InputError(f"{manifest}:{number}: 'path' holds a NUL character")
        entries.append(
            ManifestEntry(
                path=(base / path) if path else None,
                url=record.get("url"),
                fetched_at=_iso(record.get("fetched_at")),
                line=number,
            )
        )
    return entries


def _iso(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return text


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as named, and page files found recursively in folders (sorted, stable).

    Anything in a folder with a page's name that is not a folder is yielded,
    so a broken link or a FIFO named `page.html` becomes an error entry
    rather than silently shrinking the audit.
    """
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if not p.is_dir() and is_page_file(p))
        else:
            yield path


def read_page_bytes(path: Path, limit: int = MAX_PAGE_BYTES) -> bytes:
    """Read a page file, gunzipping `.gz` with a size cap (so a gzip bomb is an error).

    The file is opened without blocking and checked to be a regular file
    before any read, so a FIFO given as a page cannot stall the audit.
    """
    too_big = f"file is larger than {limit // (1024 * 1024)} MiB; raise --max-bytes"
    handle, size = open_regular(path)
    with handle:
        if size > limit:  # known before reading a byte
            raise ValueError(too_big)
        raw = handle.read(limit + 1)  # a file still growing is caught here
    if len(raw) > limit:
        raise ValueError(too_big)
    if path.name.lower().endswith(".gz") or raw[:2] == b"\x1f\x8b":
        return _gunzip(raw, limit)
    return raw


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"corrupt gzip data: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ValueError(f"decompresses to more than {limit // (1024 * 1024)} MiB (gzip bomb?)")
    if not inflater.eof:
        raise ValueError("truncated gzip data")
    return out


def content_type_for(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return "text/plain" if name.endswith((".txt", ".text")) else "text/html"


def load_page(
    path: Path, url: str | None = None, fetched_at: str | None = None, limit: int = MAX_PAGE_BYTES
) -> Page | PageError:
    """One file as a Page, or the reason it cannot be read."""
    try:
        raw = read_page_bytes(path, limit)
    except FileNotFoundError:
        if path.is_symlink():
            return PageError(str(path), url, "load",
                             f"broken symbolic link (to {os.readlink(path)}, which does not exist)",
                             "fix or remove the link")
        return PageError(str(path), url, "load", "no such file", "check the path or manifest")
    except PermissionError:
        return PageError(str(path), url, "load", "permission denied", "make the file readable")
    except NotAFile as exc:
        return PageError(str(path), url, "load", str(exc), "give the page file itself")
    except OSError as exc:  # EIO from a failing disk, ENXIO from a socket, …
        return PageError(str(path), url, "load", f"cannot read: {exc.strerror or exc}",
                         "check the disk or the file system the page is on")
    except (ValueError, EOFError, gzip.BadGzipFile) as exc:
        return PageError(str(path), url, "load", str(exc))
    return Page(
        source=str(path),
        raw=raw,
        url=url,
        fetched_at=fetched_at,
        content_type=content_type_for(path),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def iter_pages(
    paths: Iterable[Path] = (),
    *,
    manifest: Path | None = None,
    url: str | None = None,
    limit: int = MAX_PAGE_BYTES,
) -> Iterator[Page | PageError | PageGone | Skipped]:
    """Every page the user named, with URLs from the manifest or `--url`.

    With a manifest and no paths, the manifest's entries are the pages; with
    both, the manifest only lends URLs and capture times to the named files.
    """
    paths = list(paths)
    entries = read_manifest(manifest) if manifest else []
    by_path = {e.path.resolve(): e for e in entries if e.path is not None}
    if manifest and not paths:
        for entry in entries:
            if entry.path is None:
                yield PageError(
                    f"{manifest}:{entry.line}",
                    entry.url,
                    "load",
                    "manifest line has a URL but no local 'path'",
                    "give the saved file's path, or list the URL in a --urls file",
                )
                continue
            yield load_page(entry.path, entry.url, entry.fetched_at, limit)
        return
    files = list(expand_paths(paths))
    if url and len(files) != 1:
        raise InputError(f"--url names one page's address, but {len(files)} pages were given")
    for path in files:
        if is_warc_file(path):  # WARC records carry their own URL and capture time
            yield from iter_warc(path, limit)
            continue
        entry = by_path.get(path.resolve())
        page_url = url or (entry.url if entry else None)
        yield load_page(path, page_url, entry.fetched_at if entry else None, limit)
