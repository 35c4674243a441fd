"""Extraction: main text with offsets, zones outside it, metadata, language, ad signals."""

from __future__ import annotations

import pytest

from compliance.extract.html import ExtractionError, extract, extract_html, extract_text
from compliance.extract.language import detect_language
from compliance.model import Page

PARAGRAPHS = [
    "Berlin (dpa) - Die Stadt Neustadt am Fluss hat am Montag ihre neue Brücke eröffnet, "
    "nachdem die Bauarbeiten fast drei Jahre gedauert hatten und viel teurer wurden als geplant.",
    "Die Bürgermeisterin sagte bei der Eröffnung, die Verbindung werde den Verkehr in der "
    "Innenstadt spürbar entlasten. Rund 12.500 Fahrzeuge sollen die Brücke täglich nutzen.",
    "Kritiker bemängeln dagegen die Kosten von 48,3 Millionen Euro und fordern eine Prüfung "
    "durch den Landesrechnungshof, der sich bisher nicht geäußert hat.",
]

PAGE = f"""<!DOCTYPE html>
<html lang="de-DE"><head><meta charset="utf-8">
<title>Neue Brücke eröffnet | Beispielblatt</title>
<meta name="author" content="Anna Beispiel">
<link rel="canonical" href="https://beispielblatt.example/lokales/bruecke">
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Neue Brücke",
  "datePublished": "2026-11-03T10:00:00+01:00",
  "sourceOrganization": {{"@type": "Organization", "name": "dpa"}},
  "author": [{{"@type": "Person", "name": "Anna Beispiel"}}]}}
</script>
<script src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js"></script>
</head><body>
<nav><ul><li><a href="/">Start</a></li><li><a href="/lokales">Lokales</a></li></ul></nav>
<div class="ad-slot">Anzeige</div>
<article>
<h1>Neue Brücke eröffnet</h1>
<div class="article-byline">Von Anna Beispiel, dpa</div>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
<figure><img src="x.jpg" alt=""><figcaption>Die neue Brücke. Foto: Max Muster/dpa</figcaption></figure>
</article>
<footer><p>© 2026 Beispielblatt. Alle Rechte vorbehalten.</p></footer>
</body></html>"""


@pytest.fixture(scope="module")
def document():  # type: ignore[no-untyped-def]
    return extract(Page(source="t.html", raw=PAGE.encode(), content_type="text/html"))


def test_main_text_has_paragraph_offsets(document) -> None:  # type: ignore[no-untyped-def]
    main = document.main_blocks
    assert [b.text for b in main if b.text in PARAGRAPHS] == PARAGRAPHS
    for block in main:
        assert document.text[block.start : block.end] == block.text


def test_zones_outside_main(document) -> None:  # type: ignore[no-untyped-def]
    zones = {b.text: b.zone for b in document.blocks if b.zone != "main"}
    assert zones.get("Die neue Brücke. Foto: Max Muster/dpa") == "caption"
    byline = [b for b in document.blocks if "Anna Beispiel, dpa" in b.text]
    assert byline and byline[0].zone in ("byline", "main")
    assert "© 2026 Beispielblatt. Alle Rechte vorbehalten." in zones


def test_metadata(document) -> None:  # type: ignore[no-untyped-def]
    meta = {(m.name, m.value) for m in document.meta}
    assert ("author", "Anna Beispiel") in meta
    assert ("jsonld:sourceOrganization", "dpa") in meta
    assert ("jsonld:author", "Anna Beispiel") in meta
    assert document.canonical_url == "https://beispielblatt.example/lokales/bruecke"
    assert document.published and document.published.startswith("2026-11-03")


def test_language_and_ads(document) -> None:  # type: ignore[no-untyped-def]
    assert document.lang == "de" and document.declared_lang == "de"
    assert set(document.paragraph_langs()) == {"de"}
    assert any("googlesyndication" in s for s in document.ad_signals)
    assert any(s.startswith("ad slot") for s in document.ad_signals)
    assert any("Anzeige" in s for s in document.ad_signals)


def test_script_text_is_never_visible_text() -> None:
    html = (
        "<html><body><script>var credit='(AFP)';</script><p>"
        + "Hello there. " * 20
        + "</p></body></html>"
    )
    document = extract_html(html)
    assert all("(AFP)" not in b.text for b in document.blocks)


def test_mixed_language_paragraphs() -> None:
    text = (
        "Der Stadtrat hat am Dienstag beschlossen, das alte Schwimmbad bis zum Sommer zu sanieren.\n\n"
        "Le conseil municipal a décidé mardi de rénover la vieille piscine avant l'été prochain.\n\n"
        "Die Arbeiten sollen im Januar beginnen und rund zwei Millionen Euro kosten."
    )
    document = extract_text(text)
    assert document.lang == "de"
    assert [detect_language(b.text) for b in document.main_blocks] == ["de", "fr", "de"]
    assert set(document.paragraph_langs()) == {"de", "fr"}


def test_text_pages_keep_short_lines_apart() -> None:
    document = extract_text("Suche\nWerbung\n\nA long paragraph of prose that goes on.\n")
    assert [b.text for b in document.main_blocks][:2] == ["Suche", "Werbung"]
    assert document.ad_signals == ("ad label: 'Werbung'",)


def test_empty_page_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError):
        extract(Page(source="e.txt", raw=b"  \n ", content_type="text/plain"))
