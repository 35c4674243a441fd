"""The per-page pipeline and the audit loop around it.

`audit_page` is a pure function of (page, rulebook, audit time): it is what a
process pool or a Spark executor maps over pages. `run_audit` streams pages
through it, turns a failing page into an error record, and hands results to
the report writers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .attribute import attribute
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


def analyse(page: Page, rulebook: Rulebook) -> Analysis:
    """Extract the page and find every agency its article is credited to."""
    document = extract(page)
    compiled = tables(rulebook)
    credits = detect_credits(document, compiled)
    attributions = attribute(credits, rulebook)
    credited = {a.agency for a in attributions}
    mentions = detect_mentions(document, compiled, credited)
    translation = {
        a.agency: translation_evidence(document, a.agency, credits, rulebook) for a in attributions
    }
    attributions = [_with_translation_kind(a, translation[a.agency]) for a in attributions]
    return Analysis(document, tuple(attributions), tuple(credits), tuple(mentions), translation)


def _with_translation_kind(attribution: Attribution, signs: list[Evidence]) -> Attribution:
    return attribution  # the kind stays `marker` until a dispatch is matched (index)


def audit_page(page: Page, rulebook: Rulebook, audit_time: dt.datetime) -> PageResult:
    """Detect, attribute and judge one page."""
    analysis = analyse(page, rulebook)
    commercial = commercial_evidence(analysis.document)
    facts = page_facts(page, analysis.document, audit_time, commercial)
    findings = judge(page, facts, list(analysis.attributions), analysis.translation, rulebook)
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
    pages: Iterable[Page | PageError], rulebook: Rulebook, audit_time: dt.datetime
) -> Iterator[PageResult | PageError]:
    """Stream pages through `audit_page`, one result (or error) per page, in order."""
    for page in pages:
        yield safely(page, lambda p: audit_page(p, rulebook, audit_time))  # type: ignore[misc]
