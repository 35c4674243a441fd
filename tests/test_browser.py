"""The HTML report in real headless Chromium: cards and filters work, the report loads nothing
from anywhere, and nothing from a hostile page runs. Screenshots go to tmp_path, and also to
$COMPLIANCE_SCREENSHOTS when set, for a person to look at.

Skipped when Chromium is absent, except under CI (where .ci/run installs it) so a missing
install step cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from compliance.ingest.pages import iter_pages
from compliance.report.writers import render_html
from compliance.rulebook import Rulebook
from compliance.runner import run_audit

from .browser import Browser, chromium_path
from .conftest import AUDIT_TIME, EXAMPLES, SHARED_DATA, needs_shared, write
from .report_samples import HEADER, hostile_record, records

pytestmark = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("CI"),
    reason="chromium is not installed (apt-get install chromium)",
)

HOSTILE_PAGE = """<html lang="en"><head><meta charset="utf-8">
<title>Glass <script>window.__pwned="title"</script></title>
<link rel="canonical" href="javascript:window.__pwned='canonical'"></head><body><article>
<p>PARIS (AFP) - Workers at the &lt;img src=x onerror="window.__pwned=1"&gt; glassworks voted on
Tuesday to accept a new contract after a strike that lasted nearly three weeks at two plants.</p>
<script>window.__pwned = "inline";</script>
<p>The agreement raises wages by 4.5 percent, the union said. &lt;script&gt;window.__pwned=2&lt;/script&gt;</p>
<p><a href="javascript:window.__pwned=3">More</a> <img src=x onerror="window.__pwned=4">
Management said production restarts on Thursday. © 2026 AFP</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with Browser() as chromium:
        yield chromium


def keep(path: Path) -> None:
    target = os.environ.get("COMPLIANCE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def nothing_ran(browser: Browser) -> None:
    assert browser.eval("typeof window.__pwned") == "undefined"
    assert browser.eval("document.scripts.length") == 1
    assert browser.eval("document.querySelectorAll('img, svg, iframe, object, embed').length") == 0
    assert browser.eval(
        "Array.from(document.querySelectorAll('a[href]')).every("
        r"a => /^https?:\/\//.test(a.getAttribute('href')) || a.getAttribute('href').startsWith('#'))"
    )
    # nothing was even refused: page text never reached the DOM as markup
    assert not [m for m in browser.messages() if "Content Security Policy" in m]
    assert browser.requests() == [browser.eval("location.href")]


def test_hostile_records_execute_nothing(browser: Browser, tmp_path: Path) -> None:
    report = tmp_path / "hostile.html"
    report.write_text(render_html(HEADER, [hostile_record(), *records()], []), encoding="utf-8")
    browser.open(report)
    assert browser.eval("document.documentElement.dataset.ready") == "1"  # our script did run
    nothing_ran(browser)
    title = browser.eval("document.querySelector('#f-ffffffffffffffffffff h3').textContent")
    assert title.startswith("<iframe")  # shown as text
    keep(browser.screenshot(tmp_path / "report-hostile.png"))


def test_audited_hostile_page_executes_nothing(
    browser: Browser, tmp_path: Path, rulebook: Rulebook
) -> None:
    write(tmp_path / "pages" / "hostile.html", HOSTILE_PAGE)
    run_audit(iter_pages([tmp_path / "pages"]), rulebook, tmp_path / "out", now=AUDIT_TIME)
    browser.open(tmp_path / "out" / "report.html")
    assert browser.eval("document.querySelectorAll('article.card').length") >= 1
    nothing_ran(browser)
    text = browser.eval("document.body.innerText")
    assert 'onerror="window.__pwned=1"' in text  # the page's text, quoted as text


def test_filters_and_sorting_work(browser: Browser, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_html(HEADER, records(), []), encoding="utf-8")
    browser.open(report)
    visible = "Array.from(document.querySelectorAll('article.card')).filter(c => !c.hidden).map(c => c.dataset.id)"
    assert len(browser.eval(visible)) == 3
    assert browser.eval("document.getElementById('controls').hidden") is False

    def choose(select: str, value: str) -> None:
        browser.eval(
            f"(() => {{ const s = document.getElementById('{select}'); s.value = '{value}';"
            " s.dispatchEvent(new Event('change')); })()"
        )

    choose("filter-agency", "dpa")
    assert browser.eval(visible) == ["dddddddddddddddddddd"]
    assert browser.eval("document.getElementById('shown-count').textContent") == "1 of 3 findings shown"
    choose("filter-agency", "")
    choose("filter-status", "new")
    assert browser.eval(visible) == ["a1b2c3d4e5f6a7b8c9d0"]
    browser.eval("document.getElementById('filter-reset').click()")
    browser.eval(
        "(() => { const i = document.getElementById('filter-text'); i.value = 'NEWSFLASH';"
        " i.dispatchEvent(new Event('input')); })()"
    )
    assert browser.eval(visible) == ["0f0e0d0c0b0a09080706"]
    browser.eval("document.getElementById('filter-reset').click()")
    # sorting by confidence reorders the list and the cards with it
    browser.eval("document.querySelector('th[data-sort=confidence] button').click()")
    order = "Array.from(document.querySelectorAll('#findings-table tbody tr')).map(r => r.dataset.confidence)"
    assert browser.eval(order) == ["0.97", "0.95", "0.9"]
    browser.eval("document.querySelector('th[data-sort=confidence] button').click()")
    assert browser.eval(order) == ["0.9", "0.95", "0.97"]
    cards = "Array.from(document.querySelectorAll('article.card')).map(c => c.dataset.id)"
    assert browser.eval(cards)[0] == "dddddddddddddddddddd"
    keep(browser.screenshot(tmp_path / "report-samples.png"))


def _audit_and_shoot(browser: Browser, tmp_path: Path, name: str, out: Path) -> None:
    browser.open(out / "report.html")
    nothing_ran(browser)
    shot = browser.screenshot(tmp_path / f"{name}.png")
    printed = browser.screenshot(tmp_path / f"{name}-print.png", media="print", width=794)
    pdf = browser.pdf(tmp_path / f"{name}.pdf")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    for path in (shot, printed, pdf):
        keep(path)


def test_examples_report_renders_and_prints(
    browser: Browser, tmp_path: Path, rulebook: Rulebook
) -> None:
    out = tmp_path / "examples"
    outcome = run_audit(
        iter_pages(manifest=EXAMPLES / "manifest.jsonl"), rulebook, out, now=AUDIT_TIME
    )
    browser.open(out / "report.html")
    cards = browser.eval("document.querySelectorAll('article.card').length")
    assert cards == outcome.stats.findings >= 4
    sites = browser.eval("Array.from(document.querySelectorAll('#filter-site option')).map(o => o.value)")
    assert "newsflash-hub.example" in sites and "nachrichten-ticker.example" in sites
    # printing hides the controls
    browser.send("Emulation.setEmulatedMedia", {"media": "print"})
    assert browser.eval("getComputedStyle(document.getElementById('controls')).display") == "none"
    browser.send("Emulation.setEmulatedMedia", {"media": ""})
    _audit_and_shoot(browser, tmp_path, "report-examples", out)


@needs_shared
def test_seed_page_report_renders(browser: Browser, tmp_path: Path, rulebook: Rulebook) -> None:
    out = tmp_path / "seed"
    run_audit(
        iter_pages([SHARED_DATA / "seed-page.txt"], url="https://zoekmenu.example/x"),
        rulebook,
        out,
        now=AUDIT_TIME,
    )
    browser.open(out / "report.html")
    text = browser.eval("document.body.innerText")
    assert "Alle Rechte der Vervielfältigung und Darstellung vorbehalten" in text
    assert browser.eval("document.querySelectorAll('article.card mark').length") >= 3
    _audit_and_shoot(browser, tmp_path, "report-seed", out)
