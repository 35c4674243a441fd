"""Fuzz target: manifests (JSONL) and `--urls` lists, the two lists of pages a user hands in.

Invariants: `read_manifest` returns entries whose fields have the types they promise
(path a Path or None, url and fetched_at text or None) or raises InputError naming the
manifest; `iter_pages` with that manifest lending URLs to a named file raises nothing but
InputError; `read_url_list` raises only what its caller reports (OSError,
UnicodeDecodeError) and returns stripped, non-comment lines.

Input: the first byte picks the reader; the rest is the file. Manifest paths are never
opened here except the one scratch page, so the fuzzer cannot read the machine's files.
"""

from __future__ import annotations

from pathlib import Path

from fuzz.harness import check, instrumented, main, scratch, write_input

with instrumented(__name__ == "__main__", "compliance"):
    from compliance.ingest.fetch import read_url_list
    from compliance.ingest.pages import InputError, iter_pages, read_manifest
    from compliance.model import Page, PageError


def _manifest(path: Path) -> None:
    try:
        entries = read_manifest(path)
    except InputError as exc:
        check(str(path) in str(exc), "a manifest error must name the manifest")
        return
    for entry in entries:
        check(entry.path is None or isinstance(entry.path, Path), "entry path is not a path")
        check(entry.url is None or isinstance(entry.url, str), "entry URL is not text")
        check(entry.fetched_at is None or isinstance(entry.fetched_at, str),
              "entry capture time is not text")
        check(entry.path is not None or bool(entry.url), "entry with neither path nor URL")
    page = scratch() / "page.html"
    page.write_bytes(b"<p>The council met on Tuesday.</p>")
    try:
        results = list(iter_pages([page], manifest=path))
    except InputError:
        return
    check(len(results) == 1 and isinstance(results[0], Page | PageError),
          "one named page must give one page or error")
    if isinstance(results[0], Page):
        check(results[0].url is None or isinstance(results[0].url, str), "page URL is not text")


def _url_list(path: Path) -> None:
    try:
        urls = read_url_list(path)
    except (OSError, UnicodeDecodeError):
        return
    for url in urls:
        check(isinstance(url, str) and url == url.strip() and bool(url), "URL not stripped")
        check(not url.startswith("#"), "a comment line became a URL")


def one_input(data: bytes) -> None:
    """Read one fuzzed manifest or URL list."""
    if not data:
        return
    if data[0] & 1:
        _url_list(write_input("urls.txt", data[1:]))
    else:
        _manifest(write_input("manifest.jsonl", data[1:]))


if __name__ == "__main__":
    main(one_input)
