"""Judgement: licences, own sites, translation, lapsed licences, attribution duty, retention."""

from __future__ import annotations

from pathlib import Path

from compliance.audit import audit_page
from compliance.model import Page
from compliance.rulebook import Rulebook, load_rulebook

from .conftest import AUDIT_TIME, write

ENGLISH = [
    "PARIS (AFP) - Workers at the Verlaine glassworks voted on Tuesday to accept a new contract "
    "after a strike that lasted nearly three weeks and halted production at two plants.",
    "The agreement raises wages by 4.5 percent this year and adds two days of paid leave, the "
    "union said in a statement, calling it a fair compromise for both sides.",
    "Management said production would restart on Thursday and that all delayed orders would be "
    "delivered before the end of the month.",
]
GERMAN = [
    "Paris (AFP) - Die Beschäftigten der Glashütte Verlaine haben am Dienstag einem neuen Vertrag "
    "zugestimmt, nachdem ein fast dreiwöchiger Streik die Produktion in zwei Werken gestoppt hatte.",
    "Die Vereinbarung erhöht die Löhne in diesem Jahr um 4,5 Prozent und bringt zwei zusätzliche "
    "Urlaubstage, teilte die Gewerkschaft in einer Erklärung mit.",
    "Die Geschäftsführung erklärte, die Produktion werde am Donnerstag wieder anlaufen und alle "
    "Aufträge würden bis Monatsende ausgeliefert.",
]


def html_page(
    paragraphs: list[str],
    url: str,
    lang: str = "en",
    head: str = "",
    fetched_at: str | None = "2026-11-20T10:00:00Z",
) -> Page:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>Glassworks</title>{head}'
        f"</head><body><article><h1>Glassworks deal</h1>{body}</article></body></html>"
    )
    raw = html.encode()
    return Page(
        source=url,
        raw=raw,
        url=url,
        fetched_at=fetched_at,
        content_type="text/html",
        sha256=str(abs(hash(raw))),
    )


def clauses(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.clause_id for f in result.findings if f.level == "violation"}


def test_unlicensed_site_reproducing_afp(rulebook: Rulebook) -> None:
    result = audit_page(html_page(ENGLISH, "https://copycat.example/a"), rulebook, AUDIT_TIME)
    assert [a.agency for a in result.attributions] == ["afp"]
    assert clauses(result) == {"afp-no-redistribution"}
    [finding] = result.findings
    assert finding.actions == ("reproduce",)
    assert finding.licence is None
    assert finding.page_domain == "copycat.example"
    assert finding.evidence[0].text == "PARIS (AFP) -"


def test_licensed_site_within_its_licence_gets_nothing(rulebook: Rulebook) -> None:
    page = html_page(ENGLISH, "https://www.harbourview-daily.example/world/glass")
    result = audit_page(page, rulebook, AUDIT_TIME)
    assert [a.agency for a in result.attributions] == ["afp"]
    assert result.findings == ()


def test_agency_own_site_is_never_a_violation(rulebook: Rulebook) -> None:
    result = audit_page(
        html_page(ENGLISH, "https://www.afp.com/en/news/glass"), rulebook, AUDIT_TIME
    )
    assert result.attributions and result.findings == ()


def test_licensee_publishing_outside_its_languages_translates(rulebook: Rulebook) -> None:
    page = html_page(GERMAN, "https://harbourview-daily.example/de/glas", lang="de")
    result = audit_page(page, rulebook, AUDIT_TIME)
    assert clauses(result) == {"afp-no-translation"}
    [finding] = result.findings
    assert finding.actions == ("translate",)
    assert finding.licence and finding.licence["status"] == "current"


def test_lapsed_licence(rulebook: Rulebook) -> None:
    paragraphs = [p.replace("PARIS (AFP)", "LONDON (Reuters)") for p in ENGLISH]
    page = html_page(paragraphs, "https://harbourview-daily.example/biz/glass")
    result = audit_page(page, rulebook, AUDIT_TIME)
    assert "reuters-no-redistribution" in clauses(result)
    finding = next(f for f in result.findings if f.clause_id == "reuters-no-redistribution")
    assert finding.licence and finding.licence["status"] == "expired"
    assert "expired" in finding.explanation
    # the same page seen while the licence was current is fine
    earlier = html_page(
        paragraphs, "https://harbourview-daily.example/biz/glass", fetched_at="2024-06-01T00:00:00Z"
    )
    assert audit_page(earlier, rulebook, AUDIT_TIME).findings == ()


def test_licensed_copy_without_visible_credit_breaks_attribution_duty(rulebook: Rulebook) -> None:
    paragraphs = [p.replace("PARIS (AFP) - ", "") for p in ENGLISH]
    head = '<meta name="author" content="AFP">'
    page = html_page(paragraphs, "https://harbourview-daily.example/world/glass2", head=head)
    result = audit_page(page, rulebook, AUDIT_TIME)
    assert [a.agency for a in result.attributions] == ["afp"]
    assert clauses(result) == {"afp-attribution"}
    assert result.findings[0].actions == ("attribute",)


def test_finding_ids_are_stable(rulebook: Rulebook) -> None:
    page = html_page(ENGLISH, "https://copycat.example/a")
    first = audit_page(page, rulebook, AUDIT_TIME).findings[0].id
    again = audit_page(page, rulebook, AUDIT_TIME).findings[0].id
    other = audit_page(html_page(ENGLISH, "https://copycat.example/b"), rulebook, AUDIT_TIME)
    assert first == again != other.findings[0].id


def test_retention_beyond_licence(tmp_path: Path) -> None:
    write(
        tmp_path / "rules.yaml",
        """\
agencies:
  - id: wire
    name: Wire Service
    credits: [WIRE]
    clauses:
      - {id: wire-retention, prohibits: [archive], severity: medium}
licensees:
  - id: site
    name: Site
    domains: [site.example]
    licences:
      - {agency: wire, permits: [reproduce], retention_days: 30}
""",
    )
    rules = load_rulebook(tmp_path)
    paragraphs = [p.replace("PARIS (AFP)", "PARIS (WIRE)") for p in ENGLISH]
    head = '<meta property="article:published_time" content="2026-01-05T08:00:00Z">'
    page = html_page(paragraphs, "https://site.example/old", head=head)
    result = audit_page(page, rules, AUDIT_TIME)
    assert clauses(result) == {"wire-retention"}
    assert result.findings[0].actions == ("archive",)
