"""Findings, errors and match results as the JSON records of the output contract."""

from __future__ import annotations

from typing import Any

from ..audit import Analysis
from ..model import Attribution, Evidence, Finding, Page, PageError

CONTEXT_CHARS = 400


def evidence_record(item: Evidence) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": item.kind,
        "marker": item.marker,
        "text": item.text,
        "span": list(item.span) if item.span else None,
        "zone": item.zone,
        "detail": item.detail,
    }
    if item.context and item.context != item.text:
        record["context"] = item.context[:CONTEXT_CHARS]
    if item.lang:
        record["lang"] = item.lang
    if item.translated_from:
        record["translated_from"] = item.translated_from
    if item.licensee:
        record["licensee"] = item.licensee
    return record


def finding_record(finding: Finding, audit_id: str) -> dict[str, Any]:
    attribution = finding.attribution
    return {
        "id": finding.id,
        "audit_id": audit_id,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "level": finding.level,
        "clause": {
            "id": finding.clause_id,
            "title": finding.clause_title,
            "agency": finding.agency,
        },
        "actions": list(finding.actions),
        "page": {
            "url": finding.page_url,
            "domain": finding.page_domain,
            "sha256": finding.page_sha256,
            "fetched_at": finding.page_fetched_at,
            "title": finding.page_title,
            "lang": finding.page_lang,
            "source": finding.page_source,
        },
        "dispatch": (
            {
                "id": attribution.dispatch_id,
                "lang": attribution.dispatch_lang,
                "title": attribution.dispatch_title,
            }
            if attribution.dispatch_id
            else None
        ),
        "match": match_fields(attribution),
        "licence": finding.licence,
        "explanation": finding.explanation,
        "evidence": [evidence_record(e) for e in finding.evidence],
    }


def passages(attribution: Attribution) -> list[dict[str, Any]]:
    """Aligned page/dispatch passages of a dispatch match, for side-by-side evidence."""
    found = getattr(attribution.match, "passages", None) or ()
    return [
        {"page_span": list(p.page_span), "page_text": p.page_text,
         "dispatch_span": list(p.dispatch_span), "dispatch_text": p.dispatch_text,
         "score": round(float(p.score), 3)}
        for p in found
    ]


def match_fields(attribution: Attribution) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": attribution.kind, "score": attribution.score,
                              "coverage": attribution.coverage}
    if attribution.match is not None:
        fields["passages"] = passages(attribution)
        fields["dispatch_status"] = getattr(attribution.match, "status", None)
    return fields


def error_record(error: PageError, audit_id: str) -> dict[str, Any]:
    return {
        "audit_id": audit_id,
        "source": error.source,
        "url": error.url,
        "stage": error.stage,
        "error": error.message,
        "hint": error.hint,
    }


def attribution_record(attribution: Attribution) -> dict[str, Any]:
    return {
        "agency": attribution.agency,
        "dispatch_id": attribution.dispatch_id,
        "kind": attribution.kind,
        "score": attribution.score,
        "coverage": attribution.coverage,
        "passages": passages(attribution),
        "dispatch_status": getattr(attribution.match, "status", None),
        "confidence": attribution.confidence,
        "lang": attribution.dispatch_lang,
        "evidence": [evidence_record(e) for e in attribution.evidence],
    }


def match_record(page: Page, analysis: Analysis) -> dict[str, Any]:
    document = analysis.document
    return {
        "page": {
            "path": page.source,
            "url": page.url or document.canonical_url,
            "lang": document.lang,
            "title": document.title,
            "sha256": page.sha256,
        },
        "attributions": [attribution_record(a) for a in analysis.attributions],
        "translation": {
            agency: [evidence_record(e) for e in signs]
            for agency, signs in analysis.translation.items()
            if signs
        },
        "mentions": [evidence_record(m) for m in analysis.mentions],
    }


def match_error_record(error: PageError) -> dict[str, Any]:
    return {
        "page": {"path": error.source, "url": error.url},
        "attributions": [],
        "error": {"stage": error.stage, "message": error.message, "hint": error.hint},
    }
