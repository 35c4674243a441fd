"""Fuzz target: page files → the page loader (gzip included) → charset decoding.

Invariant: `load_page` returns a Page or a PageError (an unreadable page is an
errors.jsonl entry, never an exception), and `decode_bytes` turns any bytes, under any
Content-Type header, into text without raising.

Input: the first byte picks the file name (.html, .txt, .html.gz …) and the header
charset; the rest is the file's bytes, gzipped first when the selector says so, so the
fuzzer also reaches the gzip reader with valid and damaged streams.
"""

from __future__ import annotations

import gzip

from fuzz.harness import check, instrumented, main, write_input

with instrumented(__name__ == "__main__", "compliance", "bs4.dammit"):
    from compliance.ingest.decode import decode_bytes
    from compliance.ingest.pages import load_page
    from compliance.model import Page, PageError

NAMES = ("page.html", "page.txt", "page.html.gz", "page.txt.gz", "page.xhtml", "page.htm")
HEADERS = (None, "text/html", "text/html; charset=utf-8", "text/html; charset=iso-8859-1",
           "text/plain; charset=shift_jis", "text/html; charset=utf-16", "text/html; charset=x",
           "text/html; charset=\"koi8-r\"")
LIMIT = 64 * 1024  # small, so the size cap and the gzip-bomb guard are reachable


def one_input(data: bytes) -> None:
    """Load and decode one fuzzed page file."""
    if not data:
        return
    selector, body = data[0], data[1:]
    name = NAMES[selector % len(NAMES)]
    if selector & 0x80 and name.endswith(".gz"):
        body = gzip.compress(body, compresslevel=1, mtime=0)
    path = write_input(name, body)
    loaded = load_page(path, url="https://example.test/a", limit=LIMIT)
    check(isinstance(loaded, Page | PageError), f"load_page returned {type(loaded).__name__}")
    if isinstance(loaded, PageError):
        check(bool(loaded.message), "a PageError must say what went wrong")
        return
    check(len(loaded.raw) <= LIMIT, "load_page let a page over its size limit through")
    header = HEADERS[(selector >> 3) % len(HEADERS)]
    decoded = decode_bytes(loaded.raw, header)
    check(isinstance(decoded.text, str) and bool(decoded.encoding), "decoding gave no text")


if __name__ == "__main__":
    main(one_input)
