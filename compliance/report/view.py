"""What a reader sees of a finding: the record turned into display pieces for the HTML and
Markdown reports.

Nothing here produces markup. Text is cut into (text, highlighted) segments
and the templates escape every piece, so page-derived strings can never become
markup. Links are offered only for http(s) addresses: a `javascript:` URL from
a hostile page stays inert text.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..rulebook.schema import SEVERITY_ORDER

Segment = tuple[str, bool]  # a piece of text and whether it is highlighted
STATUSES = ("new", "open", "ongoing", "notice_sent", "suppressed", "resolved")
_WORD = re.compile(r"\w+(?:[-.,'’]\w+)*", re.UNICODE)  # "Brévilly-sur-Orne", "1.150" are one
MIN_RUN_WORDS = 3  # a shared run of this many words is highlighted as copied


def safe_link(url: object) -> str | None:
    """The URL if a browser may follow it from a report; None for any other scheme."""
    if isinstance(url, str) and re.match(r"^https?://[^\s]+$", url, re.IGNORECASE):
        return url
    return None


def segments(text: str, spans: Iterable[tuple[int, int]]) -> list[Segment]:
    """`text` cut at `spans` (merged, clipped), highlighted pieces flagged True."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[Segment] = []
    at = 0
    for start, end in merged:
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out


def quote_in_context(context: str, quote: str) -> list[Segment]:
    """The paragraph with the quoted evidence highlighted where it occurs."""
    return segments(context, _spans_of(context, quote))


def shared_spans(page: str, dispatch: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character spans of the text the two passages share.

    Same-language copies share runs of words; translations share anchors —
    numbers and names — which are highlighted one by one.
    """
    a = [(m.group().casefold(), m.start(), m.end()) for m in _WORD.finditer(page)]
    b = [(m.group().casefold(), m.start(), m.end()) for m in _WORD.finditer(dispatch)]
    spans_a: list[tuple[int, int]] = []
    spans_b: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(None, [t for t, *_ in a], [t for t, *_ in b], autojunk=False)
    for i, j, size in matcher.get_matching_blocks():
        if size >= MIN_RUN_WORDS:
            spans_a.append((a[i][1], a[i + size - 1][2]))
            spans_b.append((b[j][1], b[j + size - 1][2]))
    anchors = {t for t, s, e in a if _is_anchor(page[s:e])} & {
        t for t, s, e in b if _is_anchor(dispatch[s:e])
    }
    spans_a += [(s, e) for t, s, e in a if t in anchors]
    spans_b += [(s, e) for t, s, e in b if t in anchors]
    return spans_a, spans_b


def _is_anchor(token: str) -> bool:
    return any(c.isdigit() for c in token) or (len(token) >= 3 and token[:1].isupper())


CUT_CONTEXT = 400  # records cut a paragraph of context at this many characters


def evidence_groups(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence quoted in context, one quotation per paragraph: items that sit in the same
    paragraph share it, with every quote highlighted, instead of repeating it."""
    groups: list[dict[str, Any]] = []
    by_context: dict[str, dict[str, Any]] = {}
    for item in items:
        text = str(item.get("text") or "")
        context = str(item.get("context") or "")
        if not context:
            groups.append({"items": [item], "segments": [(text, True)], "cut": False})
            continue
        group = by_context.get(context)
        if group is None:
            group = {
                "items": [],
                "context": context,
                "spans": [],
                "cut": len(context) >= CUT_CONTEXT,
            }
            by_context[context] = group
            groups.append(group)
        group["items"].append(item)
        group["spans"] += _spans_of(context, text)
    for group in groups:
        if "context" in group:
            group["segments"] = segments(group["context"], group["spans"])
    return groups


def _spans_of(context: str, quote: str) -> list[tuple[int, int]]:
    at = context.find(quote) if quote else -1
    if at < 0 and quote:
        at = context.casefold().find(quote.casefold())
    return [(at, at + len(quote))] if at >= 0 else []


@dataclass(frozen=True)
class Passage:
    """One page passage next to the dispatch passage it copies or translates."""

    page: list[Segment]
    dispatch: list[Segment]
    page_span: Any
    dispatch_span: Any
    score: float | None


def passages(record: dict[str, Any]) -> list[Passage]:
    """Aligned passages from `match.passages`, highlighted by their own marks when the index
    gives them (`page_marks`/`dispatch_marks`, offsets into each passage), else by the words
    and anchors the two texts share."""
    out = []
    for item in (record.get("match") or {}).get("passages") or []:
        page_text = str(item.get("page_text") or "")
        dispatch_text = str(item.get("dispatch_text") or "")
        if "page_marks" in item or "dispatch_marks" in item:
            marks_a = [tuple(x) for x in item.get("page_marks") or []]
            marks_b = [tuple(x) for x in item.get("dispatch_marks") or []]
        else:
            marks_a, marks_b = shared_spans(page_text, dispatch_text)
        out.append(
            Passage(
                page=segments(page_text, marks_a),  # type: ignore[arg-type]
                dispatch=segments(dispatch_text, marks_b),  # type: ignore[arg-type]
                page_span=item.get("page_span"),
                dispatch_span=item.get("dispatch_span"),
                score=item.get("score"),
            )
        )
    return out


def effective_status(record: dict[str, Any], new_ids: set[str] | None) -> str | None:
    """Suppressed wins; then the store's lifecycle status; else new/ongoing against a
    previous findings file when one was given."""
    if record.get("suppressed"):
        return "suppressed"
    if record.get("status"):
        return str(record["status"])
    if new_ids is not None:
        return "new" if record.get("id") in new_ids else "ongoing"
    return None


def finding_view(
    record: dict[str, Any], terms: dict[str, str], new_ids: set[str] | None
) -> dict[str, Any]:
    """Everything a card shows, precomputed so the template holds no logic that could fail."""
    clause = record.get("clause") or {}
    page = record.get("page") or {}
    aligned = passages(record)
    items = record.get("evidence") or []
    if aligned:  # the side-by-side table shows the reused text better than a quotation
        items = [e for e in items if e.get("kind") != "reuse"]
    evidence = evidence_groups(items)
    status = effective_status(record, new_ids)
    return {
        "r": record,
        "id": str(record.get("id", "")),
        "severity": str(record.get("severity", "info")),
        "rank": SEVERITY_ORDER.get(str(record.get("severity")), 0),
        "level": record.get("level", "violation"),
        "status": status,
        "agency": clause.get("agency") or "",
        "clause_id": clause.get("id") or "",
        "clause_title": clause.get("title") or clause.get("id") or "",
        "terms_link": safe_link(terms.get(clause.get("id") or "")),
        "url": page.get("url"),
        "url_link": safe_link(page.get("url")),
        "domain": page.get("domain") or "(unknown)",
        "evidence": evidence,
        "passages": aligned,
        "suppressed": record.get("suppressed"),
        "expired": record.get("suppression_expired"),
        "evidence_file": page.get("evidence_file") or page.get("source"),
    }


@dataclass
class Summary:
    """Tallies over the findings shown: counted violations apart from notes and waivers."""

    total: int = 0
    violations: int = 0
    notes: int = 0
    suppressed: int = 0
    new: int = 0
    sites: int = 0
    by: dict[str, Counter[str]] = field(default_factory=dict)


def summarise(views: list[dict[str, Any]]) -> Summary:
    summary = Summary(total=len(views))
    tallies = {k: Counter[str]() for k in ("severity", "agency", "site", "clause", "status")}
    for view in views:
        tallies["status"][view["status"] or "—"] += 1
        if view["suppressed"]:
            summary.suppressed += 1
            continue
        if view["level"] != "violation":
            summary.notes += 1
            continue
        summary.violations += 1
        summary.new += view["status"] == "new"
        tallies["severity"][view["severity"]] += 1
        tallies["agency"][view["agency"]] += 1
        tallies["site"][view["domain"]] += 1
        tallies["clause"][view["clause_id"]] += 1
    summary.sites = len(tallies["site"])
    summary.by = tallies
    return summary


def order(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counted violations first, most severe first, then by site and page."""
    return sorted(
        views,
        key=lambda v: (
            bool(v["suppressed"]),
            v["level"] != "violation",
            -v["rank"],
            v["domain"],
            str(v["url"] or ""),
            v["clause_id"],
        ),
    )


def lifecycle(header: dict[str, Any]) -> dict[str, Any] | None:
    """The store's new/ongoing/resolved counts, when the header carries them."""
    block = header.get("lifecycle")
    if isinstance(block, dict):
        return block
    found = {k: header[k] for k in ("new", "ongoing", "resolved") if k in header}
    return found or None


def new_ids_against(previous: list[dict[str, Any]] | None, current: list[dict[str, Any]]):
    if previous is None:
        return None
    before = {r.get("id") for r in previous}
    return {r.get("id") for r in current if r.get("id") not in before}


# --- HTML ------------------------------------------------------------------------------------

_ENV = Environment(
    loader=PackageLoader("compliance.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _asset(name: str) -> str:
    return resources.files("compliance.report").joinpath("templates", name).read_text("utf-8")


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def render_report(
    header: dict[str, Any],
    findings: list[dict[str, Any]],
    errors: list[dict[str, Any]],
    *,
    stats: Any = None,
    warnings: Iterable[str] = (),
    previous: list[dict[str, Any]] | None = None,
) -> str:
    new_ids = new_ids_against(previous, findings)
    terms = header.get("terms") or {}
    views = order([finding_view(r, terms, new_ids) for r in findings])
    script = _asset("report.js")
    style = _asset("report.css")
    csp = (
        "default-src 'none'; "
        f"script-src {csp_hash(script)}; style-src {csp_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    statuses = sorted({v["status"] for v in views if v["status"]}, key=_status_rank)
    return _ENV.get_template("report.html.j2").render(
        header=header,
        stats=stats,
        findings=views,
        errors=errors,
        warnings=list(warnings),
        summary=summarise(views),
        lifecycle=lifecycle(header),
        statuses=statuses,
        csp=csp,
        script=script,
        style=style,
        facets={
            "severity": sorted({v["severity"] for v in views}, key=lambda s: -SEVERITY_ORDER[s]),
            "agency": sorted({v["agency"] for v in views}),
            "site": sorted({v["domain"] for v in views}),
            "clause": sorted({v["clause_id"] for v in views}),
        },
    )


def _status_rank(status: str) -> int:
    return STATUSES.index(status) if status in STATUSES else len(STATUSES)
