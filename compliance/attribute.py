"""Turn credit evidence into per-agency attributions, best first."""

from __future__ import annotations

from typing import Any

from .model import Attribution, Evidence
from .rulebook import Rulebook

MAX_CONFIDENCE = 0.99
MIN_CONFIDENCE = 0.6  # weaker evidence alone (a notice in site chrome) is a mention, not a credit


def combine(weights: list[float]) -> float:
    """Noisy-or: independent pieces of evidence each leave less room for doubt."""
    miss = 1.0
    for weight in weights:
        miss *= 1.0 - max(0.0, min(weight, 1.0))
    return round(min(1.0 - miss, MAX_CONFIDENCE), 3)


def attribute(credits: list[Evidence], rulebook: Rulebook) -> list[Attribution]:
    """One attribution per credited agency; an unnamed-agency credit only if no agency is named."""
    by_agency: dict[str, list[Evidence]] = {}
    for item in credits:
        if item.agency and item.weight > 0:
            by_agency.setdefault(item.agency, []).append(item)
    named = {a for a in by_agency if not _generic(a, rulebook)}
    attributions = []
    for agency, evidence in by_agency.items():
        if named and agency not in named:
            continue
        evidence.sort(key=lambda e: -e.weight)
        confidence = combine([e.weight for e in evidence])
        if confidence < MIN_CONFIDENCE:
            continue
        attributions.append(
            Attribution(agency=agency, confidence=confidence, kind="marker",
                        evidence=tuple(evidence))
        )
    attributions.sort(key=lambda a: (-a.confidence, a.agency))
    return attributions


def _generic(agency: str, rulebook: Rulebook) -> bool:
    entry = rulebook.agencies.get(agency)
    return bool(entry and entry.generic)


def reuse_evidence(match: Any) -> Evidence:
    """The strongest aligned passage of a dispatch match, as evidence."""
    passages = list(getattr(match, "passages", ()) or ())
    best = max(passages, key=lambda p: len(p.page_text), default=None)
    detail = (f"{match.kind} of dispatch {match.dispatch_id} ({match.lang}): score "
              f"{match.score:.2f}, {match.coverage:.0%} of the dispatch reproduced")
    return Evidence(
        kind="reuse",
        text=best.page_text if best else "",
        zone="main",
        span=tuple(best.page_span) if best else None,  # type: ignore[arg-type]
        agency=match.agency,
        detail=detail,
        context=best.dispatch_text if best else "",
        lang=match.lang,
        weight=float(match.score),
        marker=match.dispatch_id,
    )


def merge_matches(attributions: list[Attribution], matches: list[Any],
                  rulebook: Rulebook) -> list[Attribution]:
    """Fold dispatch matches into the credit-based attributions, one per (agency, dispatch).

    The best match of an agency takes over that agency's credit evidence; an
    agency found only by its text (credits stripped) gets an attribution of its own.
    """
    by_agency = {a.agency: a for a in attributions}
    merged: list[Attribution] = []
    used: set[str] = set()
    for match in matches:
        if match.agency not in rulebook.agencies:
            continue
        credited = by_agency.get(match.agency)
        credit_evidence = list(credited.evidence) if credited and match.agency not in used else []
        used.add(match.agency)
        evidence = [reuse_evidence(match), *credit_evidence]
        merged.append(Attribution(
            agency=match.agency,
            confidence=combine([e.weight for e in evidence]),
            kind=match.kind,
            evidence=tuple(evidence),
            dispatch_id=match.dispatch_id,
            dispatch_lang=match.lang,
            dispatch_title=match.title,
            score=round(float(match.score), 3),
            coverage=round(float(match.coverage), 3),
            match=match,
        ))
    merged.extend(a for a in attributions if a.agency not in used)
    merged.sort(key=lambda a: (-a.confidence, a.agency, a.dispatch_id or ""))
    return merged
