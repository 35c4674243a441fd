"""Rulebook clauses + licences + attributions → findings.

For each agency the page's article is credited to, we work out what the page
did with the content (reproduced it; translated it; modified it; kept it past
retention; put ads around it), subtract what a current licence of the page's
site permits, and report every clause that prohibits what is left. The
agency's own sites never get findings; a licensed site within its licence
gets none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

import tldextract

from .model import Attribution, Document, Evidence, Finding, Page
from .rulebook import Licence, Licensee, Rulebook
from .rulebook.schema import SEVERITY_ORDER

ACTION_ORDER = [
    "reproduce",
    "translate",
    "modify",
    "archive",
    "commercialize",
    "publish_before_embargo",
    "keep_killed",
]
VISIBLE_CREDIT = {"dateline", "credit", "byline", "source", "notice"}


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot only: never fetch the list at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = _extractor()(url)
    host = ".".join(p for p in (parts.subdomain, parts.domain, parts.suffix) if p)
    return host.lower() or None


def registered_domain(url: str | None) -> str | None:
    """'news.bbc.co.uk' → 'bbc.co.uk'; hosts under unknown suffixes keep their last two labels."""
    if not url:
        return None
    parts = _extractor()(url)
    if parts.top_domain_under_public_suffix:
        return parts.top_domain_under_public_suffix.lower()
    host = host_of(url)
    if not host:
        return None
    return host if parts.ipv4 or parts.ipv6 else ".".join(host.split(".")[-2:])


@dataclass(frozen=True)
class PageFacts:
    """What judgement needs to know about the page beyond its attributions."""

    url: str | None
    host: str | None
    domain: str | None
    when: dt.date  # the day the page was seen showing the content
    lang: str | None
    published: dt.date | None
    commercial: tuple[Evidence, ...]
    published_at: str | None = None  # the page's own publication time, as it says


def page_facts(
    page: Page, document: Document, audit_time: dt.datetime, commercial: list[Evidence]
) -> PageFacts:
    url = page.url or document.canonical_url
    return PageFacts(
        url=url,
        host=host_of(url),
        domain=registered_domain(url),
        when=_date(page.fetched_at) or audit_time.date(),
        lang=document.lang,
        published=_date(document.published),
        commercial=tuple(commercial),
        published_at=document.published,
    )


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None


def _current(licence: Licence, day: dt.date) -> bool:
    if licence.valid_from and day < licence.valid_from:
        return False
    return not (licence.valid_until and day > licence.valid_until)


def _licence_record(licensee: Licensee, licence: Licence, status: str) -> dict[str, object]:
    return {
        "licensee": licensee.id,
        "name": licensee.name,
        "agency": licence.agency,
        "status": status,
        "permits": list(licence.permits),
        "languages": list(licence.languages),
        "valid_from": licence.valid_from.isoformat() if licence.valid_from else None,
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "example": licensee.example,
    }


def judge(
    page: Page,
    facts: PageFacts,
    attributions: list[Attribution],
    translation: dict[str, list[Evidence]],
    rulebook: Rulebook,
    mentions: tuple[Evidence, ...] = (),
) -> list[Finding]:
    """Findings for one page; `translation` maps agency → evidence it was translated."""
    findings: list[Finding] = []
    owner = rulebook.agency_owning(facts.host)
    named = {m.agency for m in mentions if m.agency}
    for attribution in attributions:
        agency = rulebook.agencies.get(attribution.agency)
        if agency is None:
            continue
        if owner is not None and owner.id in rulebook.lineage(agency.id):
            continue  # the agency's own site
        if _is_quotation(attribution, named, rulebook):
            continue  # a short extract naming its source: the right of quotation
        findings.extend(
            _judge_one(page, facts, attribution, translation.get(agency.id, []), rulebook)
        )
    findings.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], -f.confidence, f.clause_id))
    return findings


def _judge_one(
    page: Page,
    facts: PageFacts,
    attribution: Attribution,
    translated: list[Evidence],
    rulebook: Rulebook,
) -> list[Finding]:
    agency = rulebook.agencies[attribution.agency]
    held = rulebook.licences_for(facts.host, agency.id)
    current = [(ls, lc) for ls, lc in held if _current(lc, facts.when)]
    lapsed = [(ls, lc) for ls, lc in held if not _current(lc, facts.when)]
    licence_pair = max(current, key=lambda pair: len(pair[1].permits), default=None)

    performed: dict[str, list[Evidence]] = {"reproduce": list(attribution.evidence)}
    translate_confidence = _noisy_or([e.weight for e in translated])
    if translated:
        performed["translate"] = translated
    if attribution.kind == "edited":
        performed["modify"] = list(attribution.evidence)
    if facts.commercial:
        performed["commercialize"] = list(facts.commercial)
    match = attribution.match
    if match is not None and getattr(match, "status", "usable") == "canceled":
        performed["keep_killed"] = [_note(agency.id, "status", f"dispatch {match.dispatch_id} "
                                          "was canceled (kill notice) and is still online")]
    embargo = _when(getattr(match, "embargo_until", None)) if match is not None else None
    shown = _when(facts.published_at) or _when(page.fetched_at)
    if embargo and shown and shown < embargo:
        performed["publish_before_embargo"] = [_note(
            agency.id, "embargo", f"page dated {shown.isoformat()} shows dispatch "
            f"{match.dispatch_id} embargoed until {embargo.isoformat()}")]

    permitted: set[str] = set()
    notes: list[str] = []
    licence_record: dict[str, object] | None = None
    if licence_pair:
        licensee, licence = licence_pair
        permitted = set(licence.permits)
        licence_record = _licence_record(licensee, licence, "current")
        if licence.languages and facts.lang and facts.lang not in licence.languages:
            permitted.discard("translate")
            if "translate" not in performed:
                performed["translate"] = [
                    Evidence(
                        kind="language",
                        text=facts.lang,
                        zone="main",
                        agency=agency.id,
                        detail=f"licensed in {', '.join(licence.languages)} only; page is in "
                        f"{facts.lang}",
                        weight=0.8,
                        marker="licence_language",
                    )
                ]
                translate_confidence = 0.8
            notes.append(f"the licence covers {', '.join(licence.languages)} only")
        if licence.retention_days and facts.published:
            age = (facts.when - facts.published).days
            if age > licence.retention_days:
                performed["archive"] = [
                    Evidence(
                        kind="metadata",
                        text=facts.published.isoformat(),
                        zone="meta",
                        agency=agency.id,
                        weight=0.9,
                        marker="retention",
                        detail=f"published {age} days before capture; licence allows "
                        f"{licence.retention_days}",
                    )
                ]
    elif lapsed:
        licensee, licence = max(lapsed, key=lambda pair: pair[1].valid_until or dt.date.min)
        licence_record = _licence_record(
            licensee,
            licence,
            "expired"
            if licence.valid_until and facts.when > licence.valid_until
            else "not yet valid",
        )
        notes.append(
            f"{licensee.name}'s licence for {agency.name} is {licence_record['status']}"
            f" (valid {licence.valid_from or '…'} to {licence.valid_until or '…'})"
        )

    unpermitted = [a for a in ACTION_ORDER if a in performed and a not in permitted]
    findings: list[Finding] = []
    for clause in agency.clauses:
        hits = [a for a in clause.prohibits if a in unpermitted]
        if hits:
            confidence = attribution.confidence
            if "translate" in hits and hits == ["translate"]:
                confidence = round(confidence * translate_confidence, 3)
            evidence = [*attribution.evidence]
            for action in hits:
                if action != "reproduce":
                    evidence.extend(performed[action])
            findings.append(
                _finding(
                    page,
                    facts,
                    attribution,
                    clause.id,
                    clause.title,
                    clause.severity,
                    confidence,
                    unpermitted,
                    licence_record,
                    evidence,
                    rulebook,
                    _explain(agency.name, hits, notes),
                )
            )
        if "attribute" in clause.requires and licence_pair:
            licensee, licence = licence_pair
            visible = [
                e for e in attribution.evidence if e.kind in VISIBLE_CREDIT and e.zone != "meta"
            ]
            if licence.attribution == "required" and not visible:
                findings.append(
                    _finding(
                        page,
                        facts,
                        attribution,
                        clause.id,
                        clause.title,
                        clause.severity,
                        round(attribution.confidence * 0.8, 3),
                        ["attribute"],
                        licence_record,
                        list(attribution.evidence),
                        rulebook,
                        f"{agency.name} content without a visible credit; the licence requires one",
                    )
                )
    return findings


def _note(agency: str, marker: str, detail: str) -> Evidence:
    return Evidence(kind="metadata", text=detail, zone="meta", agency=agency, marker=marker,
                    detail=detail, weight=0.95)


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _is_quotation(attribution: Attribution, named: set[str], rulebook: Rulebook) -> bool:
    """A matched extract of at most `quotation_max_words` whose source the page names."""
    match = attribution.match
    if match is None:
        return False
    words = getattr(match, "matched_words", None)
    if words is None or words > rulebook.policy.quotation_max_words:
        return False
    credited = any(e.kind != "reuse" for e in attribution.evidence)
    return credited or attribution.agency in named


def _explain(agency: str, actions: list[str], notes: list[str]) -> str:
    text = f"{agency} content: {', '.join(actions)} not permitted for this site"
    return text + ("; " + "; ".join(notes) if notes else "")


def _noisy_or(weights: list[float]) -> float:
    miss = 1.0
    for weight in weights:
        miss *= 1.0 - weight
    return 1.0 - miss


def finding_id(url: str | None, sha256: str, clause_id: str, dispatch_id: str | None) -> str:
    """Stable across audits: the same page, clause and dispatch give the same id."""
    key = f"{url or 'sha256:' + sha256}|{clause_id}|{dispatch_id or ''}"
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def _finding(
    page: Page,
    facts: PageFacts,
    attribution: Attribution,
    clause_id: str,
    title: str | None,
    severity: str,
    confidence: float,
    actions: list[str],
    licence: dict[str, object] | None,
    evidence: list[Evidence],
    rulebook: Rulebook,
    explanation: str,
) -> Finding:
    level = "violation" if confidence >= rulebook.policy.report_threshold else "note"
    return Finding(
        id=finding_id(facts.url, page.sha256, clause_id, attribution.dispatch_id),
        severity=severity,
        confidence=confidence,
        clause_id=clause_id,
        clause_title=title or clause_id,
        agency=attribution.agency,
        actions=tuple(actions),
        page_url=facts.url,
        page_domain=facts.domain,
        page_sha256=page.sha256,
        page_fetched_at=page.fetched_at,
        page_title=None,
        page_lang=facts.lang,
        page_source=page.source,
        attribution=attribution,
        licence=licence,
        evidence=tuple(evidence),
        level=level,
        explanation=explanation,
    )
