"""Run a whole audit: pages in, reports out, an exit status that cron can act on."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .audit import audit_pages
from .model import Page, PageError, PageResult
from .report.records import error_record, finding_record
from .report.writers import AuditStats, ReportWriter
from .rulebook import Rulebook
from .rulebook.schema import SEVERITY_ORDER

EXIT_OK, EXIT_FINDINGS, EXIT_FATAL, EXIT_INCOMPLETE = 0, 1, 2, 3
FAIL_ON_CHOICES = ("info", "low", "medium", "high", "critical", "none")


@dataclass(frozen=True)
class AuditOutcome:
    audit_id: str
    stats: AuditStats
    written: list[Path]
    exit_status: int


def new_audit_id(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def exit_status(
    stats: AuditStats, findings: list[dict[str, object]], fail_on: str, max_error_ratio: float
) -> int:
    """Most severe wins: incomplete (3) over findings (1) over clean (0)."""
    if stats.pages + stats.errors and stats.errors / (stats.pages + stats.errors) > max_error_ratio:
        return EXIT_INCOMPLETE
    if fail_on != "none":
        floor = SEVERITY_ORDER[fail_on]
        for record in findings:
            if record["level"] == "violation" and SEVERITY_ORDER[str(record["severity"])] >= floor:
                return EXIT_FINDINGS
    return EXIT_OK


def run_audit(
    pages: Iterable[Page | PageError],
    rulebook: Rulebook,
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("jsonl", "html", "csv"),
    fail_on: str = "low",
    max_error_ratio: float = 0.0,
    now: dt.datetime | None = None,
    on_result: Callable[[PageResult | PageError], None] | None = None,
) -> AuditOutcome:
    """Audit every page, write the reports atomically, and work out the exit status."""
    started = now or dt.datetime.now(dt.UTC)
    audit_id = new_audit_id(started)
    header = {
        "audit_id": audit_id,
        "started": started.isoformat(timespec="seconds"),
        "tool": "compliance",
        "version": __version__,
        "rulebook_digest": rulebook.digest,
        "rulebook_files": len(rulebook.files),
    }
    writer = ReportWriter(out_dir, formats, header)
    try:
        for result in audit_pages(pages, rulebook, started):
            if on_result:
                on_result(result)
            if isinstance(result, PageError):
                writer.add_error(error_record(result, audit_id))
            else:
                writer.add_page([finding_record(f, audit_id) for f in result.findings])
    except BaseException:
        writer.abort()
        raise
    written = writer.close()
    status = exit_status(writer.stats, writer.findings, fail_on, max_error_ratio)
    return AuditOutcome(audit_id, writer.stats, written, status)
