"""Property-based tests (hypothesis, fixed seed) of every parser of outside input we own.

Invariants: nothing but the documented error escapes, and what comes out is
consistent (offsets point at the text they claim).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.detect.credits import detect_credits, tables
from compliance.extract.html import ExtractionError, extract
from compliance.index.dispatch import Dispatch, RecordError, read_dispatches
from compliance.ingest.captures import CapturedPage, PageGone, Skipped
from compliance.ingest.decode import decode_bytes
from compliance.ingest.fetch import read_url_list
from compliance.ingest.pages import InputError, read_manifest
from compliance.ingest.warc import iter_warc
from compliance.model import Block, Document, Page, PageError
from compliance.rulebook import Rulebook
from compliance.rulebook.loader import load_yaml

FIXED = settings(max_examples=150, derandomize=True, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

MARKUP = st.lists(st.sampled_from([
    "<p>", "</p>", "<div class='byline'>", "</div>", "<figure><figcaption>", "</figcaption>",
    "<script>", "</script>", "<!--", "-->", "(AFP)", "PARIS (AFP) - ", "Quelle: dpa", "©",
    "Reuters", "<br>", "&amp;", "&#0;", "\x00", "é", "日本", "<meta name=author content=AFP>",
    "The council met on Tuesday to discuss the budget. ", "\n\n", "<html lang='de'>", "<",
]), max_size=60).map("".join)


@FIXED
@given(st.binary(max_size=4096))
def test_decoding_any_bytes_gives_text(raw: bytes) -> None:
    decoded = decode_bytes(raw)
    assert isinstance(decoded.text, str) and decoded.encoding


@FIXED
@given(st.one_of(st.binary(max_size=2048), MARKUP.map(str.encode)),
       st.sampled_from(["text/html", "text/plain", None]))
def test_extraction_fails_only_as_extraction_error(raw: bytes, content_type: str | None) -> None:
    try:
        document = extract(Page(source="p", raw=raw, content_type=content_type))
    except ExtractionError:
        return
    for block in document.main_blocks:
        assert document.text[block.start:block.end] == block.text


@FIXED
@given(MARKUP)
def test_credit_spans_point_at_their_text(rulebook: Rulebook, text: str) -> None:
    try:
        document = extract(Page(source="p", raw=text.encode(), content_type="text/html"))
    except ExtractionError:
        return
    for evidence in detect_credits(document, tables(rulebook)):
        if evidence.zone == "main" and evidence.span:
            assert document.text[evidence.span[0]:evidence.span[1]] == evidence.text


@FIXED
@given(st.lists(st.text(max_size=80), max_size=12))
def test_credits_on_arbitrary_blocks(rulebook: Rulebook, lines: list[str]) -> None:
    blocks, offset = [], 0
    for line in lines:
        blocks.append(Block(line, offset, offset + len(line), "main"))
        offset += len(line) + 1
    document = Document("\n".join(lines), tuple(blocks), None, "en", None, (), None, None, None,
                        (), ())
    for evidence in detect_credits(document, tables(rulebook)):
        assert evidence.agency


@FIXED
@given(st.text(max_size=600))
def test_yaml_loader_reports_never_raises(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        _, _, problems = load_yaml(path)
        for problem in problems:
            assert problem.line >= 1 and problem.col >= 1 and problem.message


@FIXED
@given(st.lists(st.one_of(st.text(max_size=60), st.just('{"path": "a.html", "url": "x"}')),
                max_size=8))
def test_manifest_reader_gives_entries_or_input_error(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.jsonl"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            entries = read_manifest(path)
        except InputError as exc:
            assert "m.jsonl" in str(exc)
            return
        assert all(e.path is not None or e.url for e in entries)


@FIXED
@given(st.binary(max_size=2048), st.booleans())
def test_warc_reader_ends_damage_in_an_error_entry(raw: bytes, prefixed: bool) -> None:
    if prefixed:  # a plausible record start gets the fuzz past the first header line
        raw = b"WARC/1.0\r\nWARC-Type: response\r\n" + raw
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crawl.warc"
        path.write_bytes(raw)
        for item in iter_warc(path, 4096):
            assert isinstance(item, CapturedPage | PageGone | Skipped | PageError)


ARCHIVE_TEXT = st.lists(st.sampled_from([
    "<nitf>", "</nitf>", "<head><docdata><doc-id id-string='n1'/></docdata></head>",
    "<body><body.content>", "</body.content></body>", "<p>Storm hits the coast.</p>",
    "<!-- c -->", "<?pi x?>", '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="g">',
    "</newsItem>", '{"id": "a1", "body": "Storm", "lang": "en"}', '{"id": 1}', "\n", "<",
    '"published": "2026-13-01"', "&amp;", "é",
]), max_size=20).map("".join)


@FIXED
@given(ARCHIVE_TEXT, st.sampled_from([".jsonl", ".xml", ".nitf", ".txt", ".html"]))
def test_archive_readers_give_dispatches_or_record_errors(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"archive{suffix}"
        path.write_text(text, encoding="utf-8")
        for record in read_dispatches([path], "afp"):
            assert isinstance(record, Dispatch | RecordError)
            if isinstance(record, Dispatch):
                assert record.id and record.body and record.agency == "afp"


@FIXED
@given(st.lists(st.text(max_size=40), max_size=10))
def test_url_list_keeps_stripped_non_comment_lines(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "urls.txt"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            urls = read_url_list(path)
        except UnicodeDecodeError:
            return
        assert all(u and u == u.strip() and not u.startswith("#") for u in urls)
