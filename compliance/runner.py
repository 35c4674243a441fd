"""Run a whole audit: pages in, reports out, an exit status that cron can act on."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .audit import audit_pages
from .evidence import EvidenceFolder
from .ingest.captures import PageGone, Skipped
from .model import Page, PageError, PageResult
from .report.records import error_record, finding_record
from .report.writers import AuditStats, ReportWriter, clause_links
from .rulebook import Rulebook
from .rulebook.schema import SEVERITY_ORDER
from .suppress import apply_suppressions

EXIT_OK, EXIT_FINDINGS, EXIT_FATAL, EXIT_INCOMPLETE, EXIT_LOCKED = 0, 1, 2, 3, 4
FAIL_ON_CHOICES = ("info", "low", "medium", "high", "critical", "new", "none")
"""`new`: exit 1 only for violations the store has not seen before (any severity)."""

Input = Page | PageError | PageGone | Skipped
Engine = Callable[[Iterable[Page | PageError]], Iterator[PageResult | PageError]]
log = logging.getLogger("compliance.audit")
BATCH_PAGES, BATCH_BYTES = 256, 32 * 1024 * 1024  # store look-ups are made a batch at a time


@dataclass(frozen=True)
class AuditOutcome:
    audit_id: str
    stats: AuditStats
    written: list[Path]
    exit_status: int
    lifecycle: dict[str, Any] | None = None  # new/ongoing/resolved counts, with a store


def new_audit_id(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def exit_status(
    stats: AuditStats, findings: list[dict[str, object]], fail_on: str, max_error_ratio: float
) -> int:
    """Most severe wins: incomplete (3) over findings (1) over clean (0)."""
    if stats.pages + stats.errors and stats.errors / (stats.pages + stats.errors) > max_error_ratio:
        return EXIT_INCOMPLETE
    if fail_on != "none":
        floor = SEVERITY_ORDER.get(fail_on, 0)
        for record in findings:
            if record.get("suppressed") or record.get("status") == "suppressed":
                continue  # a reviewed waiver never changes the exit status
            if record["level"] != "violation":
                continue
            if fail_on == "new":
                if record.get("status", "new") == "new":  # without a store, all are new
                    return EXIT_FINDINGS
            elif SEVERITY_ORDER[str(record["severity"])] >= floor:
                return EXIT_FINDINGS
    return EXIT_OK


def run_audit(
    pages: Iterable[Input],
    rulebook: Rulebook,
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("jsonl", "html", "csv"),
    fail_on: str = "low",
    max_error_ratio: float = 0.0,
    now: dt.datetime | None = None,
    on_result: Callable[[PageResult | PageError], None] | None = None,
    store: Any = None,
    wait: float | None = None,
    evidence_dir: Path | None = None,
    index: Any = None,
    index_digest: str = "",
    resolve_missing: bool = False,
    progress: Callable[[str], None] | None = None,
    engine: Engine | None = None,
) -> AuditOutcome:
    """Audit every page, write the reports atomically, and work out the exit status.

    With a `store` (compliance.store.Store) the audit holds the store's lock
    (waiting up to `wait` seconds; StoreLocked otherwise), skips pages it has
    judged before with the same bytes, rulebook and index, records each
    page's findings and lifecycle as it goes, keeps evidence WARCs in
    `evidence_dir`, and completes an audit a killed run left unfinished.

    `engine` maps the pages to be judged to results in order (the local process
    pool, Spark); by default they are audited one by one in this process.
    """
    started = now or dt.datetime.now(dt.UTC)
    if engine is None:
        def engine(todo: Iterable[Page | PageError]) -> Iterator[PageResult | PageError]:
            return audit_pages(todo, rulebook, started, index)
    if store is None:
        return _run(pages, rulebook, out_dir, started, new_audit_id(started), None, formats,
                    fail_on, max_error_ratio, on_result, engine, progress)
    from sqlalchemy.exc import SQLAlchemyError

    from .store.lock import StoreError
    from .store.session import AuditSession, engine_digest

    try:
        with store.locked(wait):
            store.migrate()
            run = store.begin(new_audit_id(started), started.isoformat(timespec="seconds"),
                              rulebook.digest, index_digest, __version__, engine_digest())
            folder = EvidenceFolder(evidence_dir) if evidence_dir is not None else None
            session = AuditSession(store, run, rulebook, folder, started)
            try:
                return _run(pages, rulebook, out_dir, started, run.id, session, formats,
                            fail_on, max_error_ratio, on_result, engine, progress,
                            resolve_missing)
            except StoreError as exc:
                raise StoreError(f"{exc}; {RESUMES}") from None
    except SQLAlchemyError as exc:  # a read that failed (the server went away mid-audit)
        raise StoreError(
            f"lost the audit store {store.label} during the audit: {store.reason(exc)[:300]}; "
            + RESUMES
        ) from None


RESUMES = "every page recorded so far is kept, and the next run resumes this audit"


def _run(
    pages: Iterable[Input],
    rulebook: Rulebook,
    out_dir: Path,
    started: dt.datetime,
    audit_id: str,
    session: Any,
    formats: tuple[str, ...],
    fail_on: str,
    max_error_ratio: float,
    on_result: Callable[[PageResult | PageError], None] | None,
    engine: Engine,
    progress: Callable[[str], None] | None,
    resolve_missing: bool = False,
) -> AuditOutcome:
    header: dict[str, Any] = {
        "audit_id": audit_id,
        "started": started.isoformat(timespec="seconds"),
        "tool": "compliance",
        "version": __version__,
        "rulebook_digest": rulebook.digest,
        "rulebook_files": len(rulebook.files),
        "terms": clause_links(rulebook),
    }
    writer = ReportWriter(out_dir, formats, header)
    skipped: Counter[str] = Counter()
    tick = progress or (lambda _kind: None)

    def to_audit() -> Iterator[Page | PageError]:
        """Inputs that need judging; the others are dealt with on the way."""
        batch: list[Page] = []
        size = 0
        for item in pages:
            if session is not None and isinstance(item, Page):
                batch.append(item)
                size += len(item.raw)
                if len(batch) >= BATCH_PAGES or size >= BATCH_BYTES:
                    yield from unchanged_left_out(batch)
                    batch, size = [], 0
                continue
            yield from unchanged_left_out(batch)
            batch, size = [], 0
            if isinstance(item, Skipped | PageGone):
                aside(item)
            else:
                yield item
        yield from unchanged_left_out(batch)

    def aside(item: Skipped | PageGone) -> None:
        """Records that are no page to judge: skipped with a reason, or gone (404/410)."""
        if isinstance(item, Skipped):
            skipped[item.reason] += 1
            log.debug("skipped %s: %s", item.url or item.source, item.reason)
            tick("skipped")
        else:
            if session is not None:
                session.gone(item)
            tick("gone")

    def unchanged_left_out(batch: list[Page]) -> Iterator[Page]:
        """Pages the store has judged before as they are: their findings, not a new look."""
        if not batch:
            return
        todo, kept = session.split(batch)
        for records in kept:
            writer.add_page(records)
            tick("unchanged")
        yield from todo

    try:
        for result in engine(to_audit()):
            if isinstance(result, Skipped | PageGone):  # engines that read inputs themselves
                aside(result)
                continue
            if on_result:
                on_result(result)
            if isinstance(result, PageError):
                writer.add_error(error_record(result, audit_id))
                tick("error")
                continue
            records = [finding_record(f, audit_id) for f in result.findings]
            waived = apply_suppressions(records, rulebook.suppressions, started.date())
            if session is not None:
                records = session.judged(result, records)
            writer.add_page(records, warnings=waived.warnings)
            tick("audited")
        if skipped:
            header["skipped"] = dict(skipped)
        resolved: list[dict[str, Any]] = []
        if session is not None:
            summary = session.wrap_up(resolve_missing, writer.status_counts())
            resolved = summary.pop("resolved_findings")
            counts = ("new", "ongoing", "resolved", "suppressed")
            header["lifecycle"] = {k: summary[k] for k in counts}  # since the previous audit
            header["store"] = {"location": session.store.label,
                               **{k: v for k, v in summary.items() if k not in counts}}
            header["resolved_findings"] = resolved
    except BaseException:
        writer.abort()
        raise
    extra: dict[str, str | None] = {}
    if session is not None and "jsonl" in formats:
        # what this audit resolved, when anything was (never a stale list from an older audit)
        extra["resolved.jsonl"] = "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in resolved) or None
    written = writer.close(extra)
    if session is not None:
        session.complete({**header["lifecycle"], **header["store"]})
    status = exit_status(writer.stats, writer.verdict_records(), fail_on, max_error_ratio)
    return AuditOutcome(audit_id, writer.stats, written, status, header.get("lifecycle"))
