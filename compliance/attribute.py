"""Turn credit evidence into per-agency attributions, best first."""

from __future__ import annotations

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
