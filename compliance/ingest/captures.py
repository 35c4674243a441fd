"""What WARC files and the fetcher yield besides plain pages.

A fetched or archived page keeps its HTTP status and headers (the evidence
WARC repeats them); a page that answered 404/410 is `PageGone`, which
resolves its findings; a record that is not a page to audit (a revisit, an
image, a redirect) is `Skipped` with the reason, and counts as no error.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Page


@dataclass(frozen=True)
class CapturedPage(Page):
    """A page with the HTTP response it came in (from a WARC record or a fetch)."""

    http_status: int = 200
    http_headers: tuple[tuple[str, str], ...] = ()
    redirects: tuple[str, ...] = ()  # every URL before the final one, in order


@dataclass(frozen=True)
class PageGone:
    """The page answered 404 or 410: whatever it showed has been taken down."""

    source: str
    url: str
    http_status: int
    fetched_at: str | None = None


@dataclass(frozen=True)
class Skipped:
    """An input record that is not a page to audit, and why."""

    source: str
    url: str | None
    reason: str
