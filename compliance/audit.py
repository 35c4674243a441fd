"""The per-page pipeline and the audit loop around it.

`audit_page` is a pure function of (page, rulebook, index, audit time): it is what a
process pool or a Spark executor maps over pages. `run_audit` streams pages
through it, turns a failing page into an error record, and hands results to
the report writers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .attribute import attribute, merge_matches
from .detect.credits import detect_credits, detect_mentions, tables
from .detect.signals import commercial_evidence, translation_evidence
from .extract.html import ExtractionError, extract
from .judge import judge, page_facts
from .model import Attribution, Document, Evidence, Page, PageError, PageResult
from .rulebook import Rulebook


@dataclass(frozen=True)
class Analysis:
    """Detection of one page without policy: what `compliance match` shows."""

    document: Document
    attributions: tuple[Attribution, ...]
    credits: tuple[Evidence, ...]
    mentions: tuple[Evidence, ...]
    translation: dict[str, list[Evidence]]


def analyse(page: Page, rulebook: Rulebook, index: Any = None) -> Analysis:
    """Extract the page and find every agency its article is credited to or copied from.

    `index` is a read-only dispatch index (compliance.index.DispatchIndex) or None.
    """
    document = extract(page)
    compiled = tables(rulebook)
    credits = detect_credits(document, compiled)
    attributions = attribute(credits, rulebook)
    mentions = detect_mentions(document, compiled, {a.agency for a in attributions})
    if index is not None and document.text:
        attributions = merge_matches(attributions, index.match(document), rulebook)
    translation = {
        a.agency: translation_evidence(document, a.agency, credits, rulebook)
        + _dispatch_language(document, a)
        for a in attributions
    }
    return Analysis(document, tuple(attributions), tuple(credits), tuple(mentions), translation)


def _dispatch_language(document: Document, attribution: Attribution) -> list[Evidence]:
    """A translation match is the strongest sign of translation: the dispatch's own language."""
    if attribution.kind != "translation" or not attribution.dispatch_lang:
        return []
    return [Evidence(
        kind="language", text=document.lang or "", zone="main", agency=attribution.agency,
        marker="dispatch_language", translated_from=attribution.dispatch_lang,
        weight=min(0.99, attribution.score or 0.9),
        detail=f"the page ({document.lang}) translates dispatch {attribution.dispatch_id} "
               f"({attribution.dispatch_lang})",
    )]


def audit_page(page: Page, rulebook: Rulebook, audit_time: dt.datetime,
               index: Any = None) -> PageResult:
    """Detect, attribute and judge one page."""
    analysis = analyse(page, rulebook, index)
    commercial = commercial_evidence(analysis.document)
    facts = page_facts(page, analysis.document, audit_time, commercial)
    findings = judge(page, facts, list(analysis.attributions), analysis.translation, rulebook,
                     mentions=analysis.mentions)
    title = analysis.document.title
    findings = [dataclasses.replace(f, page_title=title) for f in findings]
    return PageResult(
        page=page,
        document=analysis.document,
        attributions=analysis.attributions,
        findings=tuple(findings),
        mentions=analysis.mentions,
        signals=tuple(commercial),
    )


def safely(page: Page | PageError, work: object) -> PageResult | PageError | object:
    """Run `work(page)`, turning any failure of one page into a PageError."""
    if isinstance(page, PageError):
        return page
    try:
        return work(page)  # type: ignore[operator]
    except ExtractionError as exc:
        return PageError(
            page.source, page.url, "extract", str(exc), "the page holds no readable text"
        )
    except RecursionError:
        return PageError(page.source, page.url, "extract", "markup nested too deeply")
    except MemoryError:
        return PageError(page.source, page.url, "extract", "out of memory on this page")
    except Exception as exc:  # one bad page must never abort an audit
        return PageError(
            page.source,
            page.url,
            "audit",
            f"{type(exc).__name__}: {exc}",
            "please report this page; the audit went on without it",
        )


def audit_pages(
    pages: Iterable[Page | PageError], rulebook: Rulebook, audit_time: dt.datetime,
    index: Any = None,
) -> Iterator[PageResult | PageError]:
    """Stream pages through `audit_page`, one result (or error) per page, in order."""
    for page in pages:
        yield safely(page, lambda p: audit_page(p, rulebook, audit_time, index))  # type: ignore[misc]
