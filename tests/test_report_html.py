"""The HTML report: self-contained, hash-pinned CSP, escaped page text, side-by-side evidence,
lifecycle and suppression marks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from compliance.report.view import csp_hash, quote_in_context, segments, shared_spans
from compliance.report.writers import render_html

from .report_samples import HEADER, hostile_record, records


class Tags(HTMLParser):
    """Collects every start tag and its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.style_text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.script_text.append(data)
        elif self._in == "style":
            self.style_text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_csp_pins_the_one_script_and_style_by_hash() -> None:
    html = render_html(HEADER, records(), [])
    tags = parse(html)
    [meta] = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    csp = meta["content"] or ""
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    [script] = tags.script_text
    [style] = tags.style_text
    assert f"script-src {csp_hash(script)}" in csp
    assert f"style-src {csp_hash(style)}" in csp
    assert [t for t, _ in tags.tags].count("script") == 1
    # self-contained: nothing is loaded from anywhere
    for tag, attrs in tags.tags:
        assert "src" not in attrs, tag
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
    assert not any(a.get("style") for _, a in tags.tags)  # inline style attributes would be blocked


def test_hostile_page_text_never_becomes_markup() -> None:
    html = render_html(HEADER, [hostile_record()], [])
    tags = parse(html)
    names = [t for t, _ in tags.tags]
    assert names.count("script") == 1 and "img" not in names and "svg" not in names and "iframe" not in names
    for _, attrs in tags.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert (value or "").startswith(("https://", "#")), (name, value)
    assert "&lt;script&gt;window.__pwned=&#34;passage&#34;&lt;/script&gt;" in html
    # a javascript: page address is shown as text, never as a link
    assert "<code>javascript:window.__pwned=&#39;url&#39;</code>" in html


def test_cards_show_capture_licence_dispatch_and_side_by_side_passages() -> None:
    html = render_html(HEADER, records(), [])
    card = html[html.index('id="f-a1b2c3d4e5f6a7b8c9d0"') :]
    card = card[: card.index("</article>")]
    assert "afp-20261117-0044" in card and "(fr)" in card
    assert "translation" in card and "85% of the dispatch" in card
    assert "2018cb6c212427d8973cf4397649fb4ffedf1f42813a7473f4dc64401a47d77a" in card
    assert "fetched 2026-11-20T08:17:40Z" in card and "examples/pages/03-translation.html" in card
    assert "first 2026-11-20T12:00:00Z" in card
    assert 'href="https://www.afp.com/en/terms-use"' in card  # the clause's terms link
    assert "none held by this site for AFP content" in card
    # the side-by-side table: page passage left, dispatch passage right, shared anchors marked
    sbs = card[card.index('class="sbs"') :]
    left, right = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", sbs, re.S)[0]
    assert "<mark>312</mark>" in left and "<mark>312</mark>" in right
    assert "<mark>Saint-Aubin-sur-Orne</mark> (<mark>AFP</mark>)" in left  # names as anchors
    copy_card = html[html.index('id="f-0f0e0d0c0b0a09080706"') :]
    copy_left = re.findall(r"<tr><td>(.*?)</td><td>", copy_card[copy_card.index('class="sbs"') :], re.S)[0]
    assert copy_left.startswith("<mark>LODWAR, Kenya, Nov 19, 2026 (AFP) - Fishermen on the western shore")  # a copied run
    # the notice quoted in its paragraph, the quote highlighted
    assert "© 2026 AFP. <mark>Alle Rechte der Vervielfältigung und Darstellung vorbehalten</mark>." in card


def test_summary_lifecycle_and_suppressed_findings() -> None:
    html = render_html(HEADER, records(), [])
    summary = html[html.index('id="summary"') : html.index('id="list"')]
    assert re.search(r"<strong>2</strong> violations on <strong>2</strong> sites", summary)
    assert "<b>1</b> new since the last audit" in summary
    assert "<b>2</b> resolved" in summary  # from the store's header counts
    assert "<b>1</b> suppressed" in summary
    card = html[html.rindex("<article", 0, html.index('id="f-dddddddddddddddddddd"')) :]
    card = card[: card.index("</article>")]
    assert "waived" in card.split(">", 1)[0]
    assert "until 2027-01-31 — approved by J. Counsel: licence being negotiated (LEGAL-12)" in card
    # the list carries what the filters read
    row = re.search(r'<tr data-id="dddddddddddddddddddd"[^>]*>', html)
    assert row and 'data-status="suppressed"' in row.group() and 'data-agency="dpa"' in row.group()


def test_new_since_previous_findings_file() -> None:
    current = records()
    html = render_html(HEADER | {"lifecycle": None}, [{**r, "status": None} for r in current], [],
                       previous=[current[1]])
    assert 'data-status="new"' in html and 'data-status="ongoing"' in html


def test_expired_suppression_is_flagged_on_the_card() -> None:
    record = records()[1]
    record["suppression_expired"] = {"reason": "press review", "approver": "A. Lawyer", "until": "2026-01-01"}
    html = render_html(HEADER, [record], [], warnings=["suppression of finding x expired"])
    assert "Suppression expired</strong> on 2026-01-01" in html
    assert "suppression of finding x expired" in html


def test_highlighting_helpers() -> None:
    assert segments("abcdef", [(1, 3), (2, 4)]) == [("a", False), ("bcd", True), ("ef", False)]
    assert quote_in_context("x (dpa) y", "(dpa)") == [("x ", False), ("(dpa)", True), (" y", False)]
    assert quote_in_context("no quote here", "absent") == [("no quote here", False)]
    page, dispatch = shared_spans("one two three four", "zero one two three")
    assert page == [(0, 13)] and dispatch == [(5, 18)]
    page, dispatch = shared_spans("Die 1.150 Einwohner von Brévilly-sur-Orne", "Les 1.150 habitants de Brévilly-sur-Orne")
    assert page == [(4, 9), (24, 41)] and dispatch == [(4, 9), (23, 40)]
