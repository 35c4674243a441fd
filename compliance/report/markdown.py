"""Findings as a Markdown report, for tickets, e-mail and wikis.

Page-derived text is escaped so that a hostile title cannot become a link,
an image or raw HTML wherever the Markdown is rendered.
"""

from __future__ import annotations

import re
from typing import Any

from .view import finding_view, lifecycle, new_ids_against, order, summarise

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def esc(value: object) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(str(value if value is not None else "").split()))


def render_markdown(
    header: dict[str, Any],
    findings: list[dict[str, Any]],
    errors: list[dict[str, Any]] | None = None,
    *,
    previous: list[dict[str, Any]] | None = None,
) -> str:
    views = order(
        [
            finding_view(r, header.get("terms") or {}, new_ids_against(previous, findings))
            for r in findings
        ]
    )
    s = summarise(views)
    out = [
        f"# Syndication compliance audit {esc(header.get('audit_id'))}",
        "",
        f"{s.violations} violation(s) on {s.sites} site(s); {s.new} new; {s.suppressed} suppressed "
        f"(shown, not counted); {s.notes} note(s) below the reporting threshold"
        + (f"; {len(errors)} page(s) not audited." if errors else "."),
    ]
    counts = lifecycle(header)
    if counts:
        out.append(
            "Since the last audit: " + ", ".join(f"{v} {esc(k)}" for k, v in counts.items()) + "."
        )
    out += [
        "",
        "| severity | status | agency | clause | site | page |",
        "|---|---|---|---|---|---|",
    ]
    for v in views:
        note = " (note)" if v["level"] != "violation" else ""
        cells = [
            esc(v["severity"]) + note,
            esc(v["status"] or ""),
            esc(v["agency"]),
            esc(v["clause_id"]),
            esc(v["domain"]),
            esc(v["url"] or "URL unknown"),
        ]
        out.append("| " + " | ".join(cells) + " |")
    for v in views:
        r = v["r"]
        page = r.get("page") or {}
        licence = r.get("licence")
        dispatch = r.get("dispatch")
        waiver, expired = v["suppressed"], v["expired"]
        status = f" · {esc(v['status'])}" if v["status"] else ""
        title = f" — {esc(page.get('title'))}" if page.get("title") else ""
        actions = esc(", ".join(r.get("actions") or []))
        out += ["", f"## {esc(v['clause_title'])}", ""]
        out.append(
            f"- **Finding** `{esc(v['id'])}` · {esc(v['severity'])}"
            f" · confidence {r.get('confidence')}{status}"
        )
        out.append(f"- **Page** {esc(v['url'] or 'URL unknown')}{title}")
        out.append(f"- **What was done** {actions}: {esc(r.get('explanation'))}")
        out.append(
            "- **Licence** "
            + (f"{esc(licence.get('name'))}, {esc(licence.get('status'))}" if licence else "none")
        )
        if dispatch:
            out.append(
                f"- **Dispatch** {esc(dispatch.get('id'))} ({esc(dispatch.get('lang'))})"
                f" {esc(dispatch.get('title') or '')}"
            )
        out.append(
            f"- **Capture** {esc(page.get('fetched_at') or 'time unknown')},"
            f" sha256 {esc(page.get('sha256'))}"
        )
        if waiver:
            out.append(
                f"- **Suppressed** until {esc(waiver.get('until'))} by"
                f" {esc(waiver.get('approver'))}: {esc(waiver.get('reason'))}"
            )
        if expired:
            out.append(f"- **Suppression expired** on {esc(expired.get('until'))}; counted again")
        for p in v["passages"]:
            page_text = "".join(f"**{esc(t)}**" if m else esc(t) for t, m in p.page)
            dispatch_text = "".join(f"**{esc(t)}**" if m else esc(t) for t, m in p.dispatch)
            out += ["", f"> page: {page_text}", ">", f"> dispatch: {dispatch_text}"]
        for e in r.get("evidence") or []:
            out.append(f"- {esc(e.get('kind'))} in {esc(e.get('zone'))}: “{esc(e.get('text'))}”")
    out.append("")
    return "\n".join(out)
