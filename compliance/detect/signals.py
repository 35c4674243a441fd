"""Evidence about what a page did with agency content: translated it, put ads around it.

Translation without a dispatch to compare against rests on circumstantial
signs, each weighed: the agency's own notice in a known translation; a
source line pointing at a site that publishes in another language; the
credit sitting in a leftover passage in another language; the page's
language being one the agency does not publish in at all.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..extract.language import MIN_LETTERS, detect_language, identifier, letters
from ..model import Document, Evidence
from ..rulebook import Rulebook

TRANSLATION_WEIGHTS = {
    "translated_notice": 0.9,
    "foreign_source": 0.8,
    "foreign_residue": 0.7,
    "agency_language": 0.6,
    "dispatch_language": 0.95,
}
RESIDUE_MIN_LETTERS = 15
RESIDUE_MIN_CONFIDENCE = 0.75


@lru_cache(maxsize=2048)
def _short_text_language(text: str) -> str | None:
    """A looser guess for short lines; used only to spot leftovers of the original language."""
    if len(re.findall(r"[^\W\d_]", text)) < RESIDUE_MIN_LETTERS:
        return None
    lang, prob = identifier().classify(text)
    return lang if prob >= RESIDUE_MIN_CONFIDENCE else None


def _language_evidence(
    reason: str,
    text: str,
    agency: str,
    detail: str,
    source_lang: str | None,
    zone: str = "main",
    span: tuple[int, int] | None = None,
) -> Evidence:
    return Evidence(
        kind="language",
        text=text,
        zone=zone,
        span=span,  # type: ignore[arg-type]
        agency=agency,
        detail=detail,
        translated_from=source_lang,
        weight=TRANSLATION_WEIGHTS[reason],
        marker=reason,
    )


def translation_evidence(
    document: Document, agency_id: str, credits: list[Evidence], rulebook: Rulebook
) -> list[Evidence]:
    """Signs that the agency's text on this page is a translation from another language."""
    page_lang = document.lang
    if not page_lang:
        return []
    found: list[Evidence] = []
    for item in credits:
        if item.agency == agency_id and item.translated_from and item.translated_from != page_lang:
            found.append(
                _language_evidence(
                    "translated_notice",
                    item.text,
                    agency_id,
                    f"the agency's {item.translated_from} notice, translated into {page_lang}",
                    item.translated_from,
                    item.zone,
                    item.span,
                )
            )
        if item.agency == agency_id and item.kind not in ("metadata",):
            context = item.context
            lang = item.lang or (detect_language(context) if letters(context) >= MIN_LETTERS
                                 else _short_text_language(context))
            if lang and lang != page_lang and lang in _plausible(rulebook, agency_id):
                found.append(
                    _language_evidence(
                        "foreign_residue",
                        item.context,
                        agency_id,
                        f"the credit sits in a {lang} passage left in a {page_lang} page",
                        lang,
                        item.zone,
                        item.span,
                    )
                )
        if item.kind == "licensee_source" and item.licensee in rulebook.licensees:
            licensee = rulebook.licensees[item.licensee]
            langs = _licensee_languages(licensee, agency_id, rulebook)
            if langs and page_lang not in langs:
                found.append(
                    _language_evidence(
                        "foreign_source",
                        item.text,
                        agency_id,
                        f"the named source {licensee.name} publishes in {', '.join(langs)}, "
                        f"this page is in {page_lang}",
                        langs[0],
                        item.zone,
                        item.span,
                    )
                )
    agency = rulebook.agencies.get(agency_id)
    if agency and agency.languages and page_lang not in agency.languages and not agency.generic:
        found.append(
            _language_evidence(
                "agency_language",
                page_lang,
                agency_id,
                f"{agency.name} does not publish in {page_lang} "
                f"({', '.join(agency.languages)} only)",
                None,
            )
        )
    return found


def _plausible(rulebook: Rulebook, agency_id: str) -> set[str]:
    agency = rulebook.agencies.get(agency_id)
    return set(agency.languages) if agency and agency.languages else _ALL


_ALL = {"en", "fr", "de", "es", "it", "pt", "nl", "ru", "zh", "ja", "ar", "tr", "pl"}


def _licensee_languages(licensee: object, agency_id: str, rulebook: Rulebook) -> list[str]:
    lineage = set(rulebook.lineage(agency_id))
    for licence in getattr(licensee, "licences", []):
        if licence.agency in lineage and licence.languages:
            return list(licence.languages)
    return list(getattr(licensee, "languages", []))


def translation_confidence(evidence: list[Evidence]) -> float:
    """Noisy-or of the independent signs."""
    miss = 1.0
    for item in evidence:
        miss *= 1.0 - item.weight
    return round(1.0 - miss, 3)


def commercial_evidence(document: Document) -> list[Evidence]:
    return [
        Evidence(
            kind="commercial",
            text=signal,
            zone="outside",
            detail="the page carries ads",
            weight=0.0,
        )
        for signal in document.ad_signals[:5]
    ]
