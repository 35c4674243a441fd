"""Page inputs: decoding, gzip, folders, manifests; bad pages become errors, not crashes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from compliance.ingest.decode import declared_charset, decode_bytes
from compliance.ingest.pages import InputError, iter_pages, load_page, read_manifest
from compliance.model import Page, PageError

from .conftest import write

GERMAN = "Die Bürgermeisterin eröffnete den Brunnen am Marktplatz; Grüße aus Köln."


def test_utf8_and_bom() -> None:
    assert decode_bytes(GERMAN.encode()).text == GERMAN
    decoded = decode_bytes(b"\xef\xbb\xbf" + GERMAN.encode())
    assert decoded.text == GERMAN and decoded.how == "bom"


def test_latin1_without_declaration_is_guessed() -> None:
    html = f"<html><body><p>{GERMAN}</p></body></html>".encode("latin-1")
    decoded = decode_bytes(html)
    assert GERMAN in decoded.text


def test_wrong_declaration_loses_to_valid_utf8() -> None:
    html = f'<html><head><meta charset="iso-8859-1"></head><body>{GERMAN}</body></html>'
    decoded = decode_bytes(html.encode("utf-8"))
    assert GERMAN in decoded.text and decoded.encoding == "utf-8"


def test_declared_windows_1252_is_used() -> None:
    text = "Il a dit « l’été » — voilà."
    html = (
        f'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>{text}</p>'
    )
    assert declared_charset(html.encode("cp1252")) == "windows-1252"
    assert text in decode_bytes(html.encode("cp1252")).text


def test_utf16_without_bom() -> None:
    decoded = decode_bytes(f"<p>{GERMAN}</p>".encode("utf-16-le"))
    assert GERMAN in decoded.text and decoded.how == "utf-16-sniffed"


def test_undecodable_bytes_never_raise() -> None:
    decoded = decode_bytes(bytes(range(256)) * 4)
    assert isinstance(decoded.text, str) and decoded.text


def test_gzip_pages_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.html.gz").write_bytes(gzip.compress(b"<p>one</p>"))
    write(tmp_path / "a" / "b" / "two.txt", "two")
    write(tmp_path / "a" / "notes.md", "not a page")
    pages = list(iter_pages([tmp_path / "a"]))
    assert [Path(p.source).name for p in pages] == ["two.txt", "one.html.gz"]  # path order
    assert isinstance(pages[1], Page) and pages[1].raw == b"<p>one</p>"
    assert pages[0].content_type == "text/plain"


def test_gzip_bomb_and_corrupt_gzip_become_errors(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (3 * 1024 * 1024)))
    result = load_page(bomb, limit=1024 * 1024)
    assert isinstance(result, PageError) and "gzip bomb" in result.message
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(gzip.compress(b"<p>hello world</p>" * 100)[:40])
    result = load_page(broken)
    assert isinstance(result, PageError) and "gzip" in result.message


def test_missing_file_is_an_error_entry(tmp_path: Path) -> None:
    result = load_page(tmp_path / "nope.html")
    assert isinstance(result, PageError)
    assert result.stage == "load" and result.message == "no such file"


def test_manifest_gives_urls_and_capture_times(tmp_path: Path) -> None:
    write(tmp_path / "p" / "a.html", "<p>a</p>")
    manifest = write(
        tmp_path / "m.jsonl",
        '{"path": "p/a.html", "url": "https://x.example/a", '
        '"fetched_at": "2026-01-02T03:04:05Z"}\n\n',
    )
    [page] = list(iter_pages(manifest=manifest))
    assert page.url == "https://x.example/a" and page.fetched_at == "2026-01-02T03:04:05Z"
    [again] = list(iter_pages([tmp_path / "p"], manifest=manifest))
    assert again.url == "https://x.example/a"


def test_bad_manifest_line_names_the_line(tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.jsonl", '{"path": "a.html"}\n{oops\n')
    with pytest.raises(InputError, match=r"m\.jsonl:2: not valid JSON"):
        read_manifest(manifest)


def test_manifest_url_without_file_is_an_error_entry(tmp_path: Path) -> None:
    manifest = write(tmp_path / "m.jsonl", '{"url": "https://x.example/a"}\n')
    [entry] = list(iter_pages(manifest=manifest))
    assert isinstance(entry, PageError) and "no local 'path'" in entry.message


def test_url_option_needs_exactly_one_page(tmp_path: Path) -> None:
    write(tmp_path / "a.html", "a")
    write(tmp_path / "b.html", "b")
    with pytest.raises(InputError, match="one page"):
        list(iter_pages([tmp_path], url="https://x.example/"))
    [page] = list(iter_pages([tmp_path / "a.html"], url="https://x.example/"))
    assert page.url == "https://x.example/"
