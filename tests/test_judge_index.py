"""Judgement of dispatch matches: translation, edits, kill notices, embargoes, quotation.

The matches are plain records shaped like compliance.index.DispatchMatch, so these
tests pin the judgement rules independently of how the index finds them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from compliance.audit import audit_page
from compliance.model import Page
from compliance.rulebook import Rulebook

from .conftest import AUDIT_TIME
from .test_judge import ENGLISH, GERMAN, html_page


@dataclass(frozen=True)
class Passage:
    page_span: tuple[int, int]
    page_text: str
    dispatch_span: tuple[int, int]
    dispatch_text: str
    score: float


@dataclass(frozen=True)
class Match:
    dispatch_id: str = "afp-20261118-0001"
    agency: str = "afp"
    lang: str = "en"
    title: str | None = "Glassworks strike ends"
    kind: str = "copy"
    score: float = 0.97
    coverage: float = 0.9
    page_coverage: float = 0.95
    matched_words: int = 120
    status: str = "usable"
    published: str | None = "2026-11-18T10:00:00Z"
    embargo_until: str | None = None
    passages: tuple[Passage, ...] = (Passage((0, 40), "Workers at the Verlaine glassworks voted", (0, 40),
                                            "Workers at the Verlaine glassworks voted", 1.0),)


class FixedIndex:
    """An index that always answers with the given matches (the judgement is under test)."""

    def __init__(self, *matches: Match) -> None:
        self.matches = list(matches)

    def match(self, document: object) -> list[Match]:
        return self.matches


def stripped(paragraphs: list[str]) -> list[str]:
    return [p.replace("PARIS (AFP) - ", "").replace("Paris (AFP) - ", "") for p in paragraphs]


def findings(page: Page, rulebook: Rulebook, *matches: Match):  # type: ignore[no-untyped-def]
    return audit_page(page, rulebook, AUDIT_TIME, FixedIndex(*matches))


def test_uncredited_copy_is_found_by_its_text(rulebook: Rulebook) -> None:
    result = findings(html_page(stripped(ENGLISH), "https://copycat.example/a"), rulebook, Match())
    [attribution] = result.attributions
    assert attribution.kind == "copy" and attribution.dispatch_id == "afp-20261118-0001"
    assert attribution.evidence[0].kind == "reuse"
    [finding] = [f for f in result.findings if f.clause_id == "afp-no-redistribution"]
    assert finding.attribution.dispatch_id == "afp-20261118-0001"


def test_translation_match_means_translate(rulebook: Rulebook) -> None:
    match = Match(kind="translation", lang="fr", score=0.9)
    page = html_page(stripped(GERMAN), "https://lalibre.be/de/artikel", lang="de")
    result = findings(page, rulebook, match)
    # stripped of its credit, the licensee's page also breaks the attribution duty
    assert {f.clause_id for f in result.findings} == {"afp-no-translation", "afp-attribution"}
    finding = next(f for f in result.findings if f.clause_id == "afp-no-translation")
    assert finding.actions == ("translate",)
    assert finding.licence and finding.licence["licensee"] == "ipm"


def test_edited_copy_means_modify(rulebook: Rulebook) -> None:
    page = html_page(stripped(ENGLISH), "https://copycat.example/b")
    result = findings(page, rulebook, Match(kind="edited", score=0.8))
    clauses = {f.clause_id for f in result.findings}
    assert {"afp-no-redistribution", "afp-no-modification"} <= clauses
    licensed = html_page(ENGLISH, "https://harbourview-daily.example/world/edited")
    assert findings(licensed, rulebook, Match(kind="edited", score=0.8)).findings == ()


def test_canceled_dispatch_on_licensed_site_is_a_kill_notice_finding(rulebook: Rulebook) -> None:
    page = html_page(ENGLISH, "https://harbourview-daily.example/world/killed")
    result = findings(page, rulebook, Match(status="canceled"))
    assert {f.clause_id for f in result.findings} == {"afp-kill-notice"}
    assert result.findings[0].actions == ("keep_killed",)


def test_page_published_before_embargo(rulebook: Rulebook) -> None:
    head = '<meta property="article:published_time" content="2026-11-18T09:00:00Z">'
    page = html_page(ENGLISH, "https://harbourview-daily.example/world/early", head=head)
    early = findings(page, rulebook, Match(embargo_until="2026-11-18T12:00:00Z"))
    assert {f.clause_id for f in early.findings} == {"afp-embargo"}
    late = findings(page, rulebook, Match(embargo_until="2026-11-18T06:00:00Z"))
    assert late.findings == ()


def test_short_named_extract_is_a_quotation(rulebook: Rulebook) -> None:
    quote = [*ENGLISH[:1], "The union called it a fair compromise, AFP reported. " * 3]
    page = html_page(stripped(quote), "https://blog.example/post")
    short = Match(matched_words=25, coverage=0.1)
    assert findings(page, rulebook, short).findings == ()
    long = dataclasses.replace(short, matched_words=300)
    assert findings(page, rulebook, long).findings != ()
