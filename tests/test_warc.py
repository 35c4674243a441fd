"""WARC input: response records are pages with their URL and capture time; the rest is
skipped with a reason; 404/410 resolve findings. The WARC files are written here with warcio."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from compliance.evidence import EvidenceFolder, read_capture
from compliance.ingest.captures import CapturedPage, PageGone, Skipped
from compliance.ingest.pages import iter_pages
from compliance.model import PageError
from compliance.rulebook import Rulebook
from compliance.runner import run_audit
from compliance.store import Store

from .test_store import DAY1, DAY2, article


def response(writer: WARCWriter, url: str, body: bytes, status: str = "200 OK",
             content_type: str = "text/html; charset=utf-8",
             date: str = "2026-11-19T08:30:00Z") -> None:
    headers = StatusAndHeaders(status, [("Content-Type", content_type),
                                        ("Server", "test-server")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=headers,
        warc_headers_dict={"WARC-Date": date}))


def crawl(path: Path, records: list[tuple[str, ...]], gzip: bool = True) -> Path:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=gzip)
        for kind, url, *rest in records:
            if kind == "response":
                response(writer, url, *[r.encode() if i == 0 else r for i, r in enumerate(rest)])  # type: ignore[arg-type]
            elif kind == "revisit":
                writer.write_record(writer.create_revisit_record(
                    url, digest="sha1:AAAA", refers_to_uri=url, refers_to_date="2026-11-01T00:00:00Z"))
            elif kind == "request":
                writer.write_record(writer.create_warc_record(
                    url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"), length=18))
            elif kind == "resource":
                body = rest[0].encode()
                writer.write_record(writer.create_warc_record(
                    url, "resource", payload=io.BytesIO(body), length=len(body),
                    warc_content_type="text/plain",
                    warc_headers_dict={"WARC-Date": "2026-11-18T10:00:00Z"}))
    return path


def test_warc_records_become_pages_gone_or_skipped(tmp_path: Path) -> None:
    warc = crawl(tmp_path / "crawl.warc.gz", [
        ("request", "https://copycat.example/a"),
        ("response", "https://copycat.example/a", article(1)),
        ("response", "https://copycat.example/old", "gone", "410 Gone"),
        ("response", "https://copycat.example/moved", "", "301 Moved Permanently"),
        ("response", "https://copycat.example/logo.png", "\x89PNG", "200 OK", "image/png"),
        ("response", "https://copycat.example/err", "oops", "500 Internal Server Error"),
        ("revisit", "https://copycat.example/a"),
        ("resource", "https://copycat.example/plain.txt", "PARIS (AFP) - Plain text capture."),
    ])
    items = list(iter_pages([tmp_path]))
    pages = [i for i in items if isinstance(i, CapturedPage)]
    assert [(p.url, p.fetched_at, p.content_type) for p in pages] == [
        ("https://copycat.example/a", "2026-11-19T08:30:00Z", "text/html"),
        ("https://copycat.example/plain.txt", "2026-11-18T10:00:00Z", "text/plain"),
    ]
    assert pages[0].raw == article(1).encode() and pages[0].http_status == 200
    assert ("Server", "test-server") in pages[0].http_headers
    assert pages[0].source.startswith(f"{warc}#<urn:uuid:")
    (gone,) = [i for i in items if isinstance(i, PageGone)]
    assert (gone.url, gone.http_status) == ("https://copycat.example/old", 410)
    reasons = sorted(i.reason for i in items if isinstance(i, Skipped))
    assert reasons == ["HTTP 301 redirect", "HTTP 500", "not a page (image/png)",
                       "revisit record (the content is stored elsewhere)"]
    assert not [i for i in items if isinstance(i, PageError)]


def test_uncompressed_and_damaged_warc_files(tmp_path: Path) -> None:
    plain = crawl(tmp_path / "a.warc", [("response", "https://x.example/", article(2))],
                  gzip=False)
    assert [p.url for p in iter_pages([plain])] == ["https://x.example/"]  # type: ignore[union-attr]
    data = plain.read_bytes()
    cut = tmp_path / "cut.warc"
    cut.write_bytes(data[: len(data) - 100])  # the file ends inside the record
    (item,) = list(iter_pages([cut]))
    assert isinstance(item, PageError) and "truncated" in item.message
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"this is not an archive\r\n\r\n")
    (item,) = list(iter_pages([junk]))
    assert isinstance(item, PageError) and "WARC" in item.message


def test_oversized_record_is_an_error(tmp_path: Path) -> None:
    warc = crawl(tmp_path / "a.warc.gz", [("response", "https://x.example/", article(3))])
    (item,) = list(iter_pages([warc], limit=100))
    assert isinstance(item, PageError) and "larger than 100 bytes" in item.message


def test_auditing_warcs_across_two_crawls(tmp_path: Path, rulebook: Rulebook) -> None:
    (tmp_path / "c1").mkdir()
    first = crawl(tmp_path / "c1" / "crawl.warc.gz", [
        ("response", "https://copycat.example/a", article(1)),
        ("response", "https://copycat.example/b", article(2)),
        ("response", "https://copycat.example/logo.png", "\x89PNG", "200 OK", "image/png"),
    ])
    store = Store.open(tmp_path / "s.sqlite")
    try:
        one = run_audit(iter_pages([first]), rulebook, tmp_path / "r1", store=store,
                        evidence_dir=tmp_path / "ev", now=DAY1)
        assert one.stats.pages == 2 and one.stats.errors == 0 and one.exit_status == 1
        records = [json.loads(x) for x in (tmp_path / "r1" / "findings.jsonl").read_text().splitlines()]
        assert {r["page"]["fetched_at"] for r in records} == {"2026-11-19T08:30:00Z"}
        # the evidence keeps the HTTP response as it was archived
        (finding,) = [f for f in store.findings() if f.url == "https://copycat.example/a"]
        (ref,) = store.evidence_of(finding.id)
        warc, payload, http = read_capture(EvidenceFolder(tmp_path / "ev").path_for(ref.warc_sha256))
        assert warc["WARC-Type"] == "response" and warc["WARC-Date"] == "2026-11-19T08:30:00Z"
        assert payload == article(1).encode() and http["Server"] == "test-server"

        (tmp_path / "c2").mkdir()
        second = crawl(tmp_path / "c2" / "crawl.warc.gz", [
            ("response", "https://copycat.example/a", article(1)),
            ("response", "https://copycat.example/b", "", "404 Not Found",
             "text/html", "2026-11-20T08:00:00Z"),
        ])
        two = run_audit(iter_pages([second]), rulebook, tmp_path / "r2", store=store,
                        now=DAY2 + dt.timedelta(hours=1))
        assert two.stats.pages == 1 and two.stats.errors == 0
        statuses = {f.url.rsplit("/", 1)[1]: f.status for f in store.findings()}  # type: ignore[union-attr]
        assert statuses == {"a": "open", "b": "resolved"}
        report = (tmp_path / "r2" / "report.html").read_text()
        assert "<b>1</b> resolved" in report
    finally:
        store.close()
