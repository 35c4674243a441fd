"""Fuzz target: page bytes → text/HTML extraction (decoding, lxml, trafilatura, metadata).

Invariant: `extract` returns a Document or raises ExtractionError ("the page holds no
readable text", which the audit reports as an error entry); any other exception is a
crash. A Document must be self-consistent: every main block's offsets point at its text
inside `document.text`, since evidence spans are built on them.

Input: the first byte picks the Content-Type (HTML, text, unknown) and the page URL;
the rest is the page.
"""

from __future__ import annotations

from fuzz.harness import check, instrumented, main

with instrumented(__name__ == "__main__", "compliance", "trafilatura"):
    from compliance.extract.html import ExtractionError, extract
    from compliance.model import Document, Page

CONTENT_TYPES = ("text/html", "text/plain", None, "application/xhtml+xml")
URLS = (None, "https://www.example.test/2026/11/story.html", "not a url", "https://[::1")


def one_input(data: bytes) -> None:
    """Extract one fuzzed page and check the document's offsets."""
    if not data:
        return
    selector, raw = data[0], data[1:]
    page = Page(source="fuzz", raw=raw, url=URLS[(selector >> 2) % len(URLS)],
                content_type=CONTENT_TYPES[selector % len(CONTENT_TYPES)])
    try:
        document = extract(page)
    except ExtractionError as exc:
        check(bool(str(exc)), "an ExtractionError must say why")
        return
    check(isinstance(document, Document), "extract returned no Document")
    for block in document.main_blocks:
        check(document.text[block.start:block.end] == block.text,
              f"main block offsets {block.start}:{block.end} miss their text")
    check(document.title is None or isinstance(document.title, str), "title is not text")
    check(document.published is None or isinstance(document.published, str),
          "published is not text")


if __name__ == "__main__":
    main(one_input)
