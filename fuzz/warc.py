"""Fuzz target: WARC and WARC.gz files → page records (warcio underneath).

Invariant: `iter_warc` yields pages, gone pages, skipped records and PageErrors and
never raises: a damaged file ends in one error entry after the records before the
damage. A page it yields respects the size limit and carries str fields.

Input: the first byte picks `.warc` or `.warc.gz` (and whether to gzip the rest); the
rest is the file.
"""

from __future__ import annotations

import gzip

from fuzz.harness import check, instrumented, main, write_input

with instrumented(__name__ == "__main__", "compliance", "warcio"):
    from compliance.ingest.captures import CapturedPage, PageGone, Skipped
    from compliance.ingest.warc import iter_warc
    from compliance.model import PageError

LIMIT = 32 * 1024


def one_input(data: bytes) -> None:
    """Read every record of one fuzzed WARC file."""
    if not data:
        return
    selector, body = data[0], data[1:]
    if selector & 1:
        body = gzip.compress(body, compresslevel=1, mtime=0)
    path = write_input("crawl.warc.gz" if selector & 2 else "crawl.warc", body)
    for item in iter_warc(path, LIMIT):
        check(isinstance(item, CapturedPage | PageGone | Skipped | PageError),
              f"iter_warc yielded {type(item).__name__}")
        if isinstance(item, CapturedPage):
            check(len(item.raw) <= LIMIT, "a record over the size limit became a page")
            check(item.url is None or isinstance(item.url, str), "URL is not text")
            check(item.fetched_at is None or isinstance(item.fetched_at, str),
                  "capture time is not text")


if __name__ == "__main__":
    main(one_input)
