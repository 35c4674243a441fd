"""Compare two audits' findings by finding id: what is new, what was resolved, what remains.

Finding ids are stable across audits (page URL, clause, dispatch), so a cron
job can diff this month's findings.jsonl against last month's without a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..suppress import is_suppressed


@dataclass(frozen=True)
class Diff:
    new: tuple[dict[str, Any], ...]
    resolved: tuple[dict[str, Any], ...]
    unchanged: tuple[dict[str, Any], ...]

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "resolved": len(self.resolved),
            "unchanged": len(self.unchanged),
        }

    def new_violations(self) -> list[dict[str, Any]]:
        """New findings that count: violations not waived by a suppression."""
        return [r for r in self.new if r.get("level") == "violation" and not is_suppressed(r)]


def diff_findings(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> Diff:
    """Records of NEW that OLD lacks, of OLD that NEW lacks, and of NEW present in both."""
    before = {r["id"]: r for r in old}
    after = {r["id"]: r for r in new}
    return Diff(
        new=tuple(r for i, r in after.items() if i not in before),
        resolved=tuple(r for i, r in before.items() if i not in after),
        unchanged=tuple(r for i, r in after.items() if i in before),
    )


def diff_lines(diff: Diff) -> list[dict[str, Any]]:
    """One JSON-able line per finding, tagged with its change."""
    out = []
    for change, records in (
        ("new", diff.new),
        ("resolved", diff.resolved),
        ("unchanged", diff.unchanged),
    ):
        for r in records:
            out.append(
                {
                    "change": change,
                    "id": r["id"],
                    "severity": r.get("severity"),
                    "level": r.get("level"),
                    "suppressed": bool(r.get("suppressed")),
                    "clause": (r.get("clause") or {}).get("id"),
                    "agency": (r.get("clause") or {}).get("agency"),
                    "url": (r.get("page") or {}).get("url"),
                }
            )
    return out
