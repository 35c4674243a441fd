"""Fuzz target: dispatch archives → dispatch records (JSONL, NewsML-G2, NITF, .txt, .html).

Invariant: `read_dispatches` yields Dispatch records and RecordErrors (`file:line:
message`, the record skipped) and never raises, whatever the file holds. A Dispatch it
yields is normalised: an id, an agency, a known status, non-empty text.

Input: the first byte picks the file's extension (which picks the reader) and whether
the agency is given; the rest is the file.
"""

from __future__ import annotations

from fuzz.harness import check, instrumented, main, write_input

with instrumented(__name__ == "__main__", "compliance"):
    from compliance.extract import language  # noqa: F401  (imported lazily by the reader)
    from compliance.index import formats  # noqa: F401  (imported lazily by read_dispatches)
    from compliance.index.dispatch import STATUSES, Dispatch, RecordError, read_dispatches

NAMES = ("archive.jsonl", "archive.xml", "archive.nitf", "dispatch.txt", "dispatch.html",
         "archive.json")


def one_input(data: bytes) -> None:
    """Read one fuzzed archive file."""
    if not data:
        return
    selector, body = data[0], data[1:]
    path = write_input(NAMES[selector % len(NAMES)], body)
    agency = "afp" if selector & 0x80 else None
    for record in read_dispatches([path], agency):
        check(isinstance(record, Dispatch | RecordError),
              f"read_dispatches yielded {type(record).__name__}")
        if isinstance(record, RecordError):
            check(bool(record.message) and record.line >= 0, "a RecordError must say why")
            continue
        check(bool(record.id) and bool(record.agency), "a dispatch without id or agency")
        check(record.status in STATUSES, f"unknown status {record.status!r} got through")
        check(bool(record.body), "a dispatch without text got through")


if __name__ == "__main__":
    main(one_input)
