"""The life of a finding across audits, as pure functions the store applies.

`new` means the audit saw it and the one before did not (first time, or back
after it was resolved); `open` means seen again; `resolved` means its page
was judged again and no longer shows it, or the page is gone (404/410);
`suppressed` follows a live suppression of the rulebook; `notice_sent` is set
by whoever sends the takedown notice and stays while the page still shows it.
Only status changes become history events, so rerunning an audit adds none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

STATUSES = ("new", "open", "resolved", "suppressed", "notice_sent")
CURRENT = ("new", "open", "suppressed", "notice_sent")  # what a page still shows


@dataclass(frozen=True)
class Transition:
    """The status a finding takes, and the event to record when it changed."""

    status: str
    changed: bool
    reason: str = ""


def observed(previous: str | None, seen_this_audit: bool, suppressed: bool) -> Transition:
    """A finding the current audit sees on its page."""
    if previous is None:
        if suppressed:
            return Transition("suppressed", True, "first seen; suppressed by the rulebook")
        return Transition("new", True, "first seen")
    if seen_this_audit:  # a resumed or repeated audit: what it decided stands
        return Transition(previous, False)
    if suppressed:
        return Transition("suppressed", previous != "suppressed", "suppressed by the rulebook")
    if previous == "resolved":
        return Transition("new", True, "shown again after it was resolved")
    if previous == "suppressed":
        return Transition("open", True, "suppression lifted or expired")
    if previous == "notice_sent":
        return Transition("notice_sent", False)  # still up after the notice: last_seen says so
    return Transition("open", previous != "open", "seen again")


def vanished(previous: str, reason: str) -> Transition:
    """A finding whose page was judged again without it, or is gone."""
    if previous == "resolved":
        return Transition("resolved", False)
    return Transition("resolved", True, reason)


def is_suppressed(record: dict[str, Any]) -> bool:
    """A finding the rulebook's suppressions waive (the `suppressed` block of its record)."""
    return bool(record.get("suppressed"))


def recheck_after(
    url: str | None, fetched_at: str | None, published: str | None, rulebook: Any, today: dt.date
) -> str | None:
    """The first day on which judging the same bytes again could give another answer.

    Judgement depends on time only through licence dates and retention, and
    only when the capture has no date of its own (then the audit day is used).
    An unchanged page is skipped until that day, so a licence that lapses
    still turns into findings without re-auditing every page every night.
    """
    if fetched_at:
        return None
    host = urlsplit(url).hostname if url else None
    if not host:
        return None
    days: list[dt.date] = []
    for licensee in rulebook.licensees_for(host):
        for licence in licensee.licences:
            if licence.valid_from:
                days.append(licence.valid_from)
            if licence.valid_until:
                days.append(licence.valid_until + dt.timedelta(days=1))
            if licence.retention_days and published:
                try:
                    start = dt.date.fromisoformat(published[:10])
                except ValueError:
                    continue
                days.append(start + dt.timedelta(days=licence.retention_days + 1))
    upcoming = [d for d in days if d > today]
    return min(upcoming).isoformat() if upcoming else None
