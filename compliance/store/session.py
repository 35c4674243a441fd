"""One audit's dealings with the store: skip what is unchanged, record what was judged.

The runner hands pages over a batch at a time (`split`); a page with the
same key, bytes, rulebook, index and engine (and no licence date passed
since) gets its stored findings back instead of a new judgement. Judged
pages are written with their findings and evidence in one transaction each.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..evidence import EvidenceFolder, capture_of
from ..ingest.captures import PageGone
from ..model import Page, PageResult
from .lifecycle import recheck_after
from .lock import StoreError
from .store import AuditRun, EvidenceRef, PageObservation, PageRow, Store

log = logging.getLogger("compliance.store")


JUDGING_CODE = ("audit.py", "attribute.py", "judge.py", "model.py", "detect", "extract", "index",
                "rulebook", "ingest/decode.py")
"""The parts of compliance whose code decides findings (reports, store, CLI do not)."""


@functools.cache
def engine_digest() -> str:
    """A hash of the code that judges pages: new judging code judges unchanged pages again."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if any(name == part or name.startswith(part + "/") for part in JUDGING_CODE):
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def page_key(page: Page | PageGone) -> str:
    """How the store knows a page again: its URL, else the absolute path of its file."""
    if page.url:
        return page.url
    return "path:" + str(Path(page.source).resolve())


@dataclass
class AuditSession:
    store: Store
    run: AuditRun
    rulebook: Any
    evidence: EvidenceFolder | None
    audit_time: dt.datetime
    counts: Counter[str] = field(default_factory=Counter)

    def split(self, batch: list[Page]) -> tuple[list[Page], list[list[dict[str, Any]]]]:
        """Pages that need judging, and the stored findings of those that do not.

        A page needs no new judgement when the store has it with the same key,
        bytes, rulebook, index and engine, and no licence date has passed since.
        One query looks the whole batch up; one transaction records the kept ones.
        """
        keys = [page_key(p) for p in batch]
        known = self.store.pages(keys)
        todo: list[Page] = []
        keep: list[str] = []
        for page, key in zip(batch, keys, strict=True):
            if self._fresh(known.get(key), page) and key not in keep:
                keep.append(key)
            else:
                todo.append(page)
        today = self.audit_time.date()
        kept = self.store.keep(
            self.run, keep, lambda records: _apply_suppressions(records, self.rulebook, today)
        )
        self.counts["unchanged"] += len(keep)
        return todo, [kept[key] for key in keep]

    def _fresh(self, row: PageRow | None, page: Page) -> bool:
        if row is None or row.state != "ok" or row.sha256 != page.sha256:
            return False
        if (row.rulebook_digest, row.index_digest, row.engine_digest) != (
            self.run.rulebook_digest,
            self.run.index_digest,
            self.run.engine_digest,
        ):
            return False  # judged by other rules, another index or other code: judge again
        return not (row.recheck_after and self.audit_time.date().isoformat() >= row.recheck_after)

    def judged(self, result: PageResult, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record a page audited afresh, keeping the evidence of any finding first."""
        page = result.page
        refs: tuple[EvidenceRef, ...] = ()
        if records and self.evidence is not None:
            capture = capture_of(page, self.audit_time)
            try:
                digest = self.evidence.keep(capture)
            except OSError as exc:  # no evidence, no finding worth keeping: stop cleanly
                raise StoreError(
                    f"cannot write evidence to {self.evidence.root}: {exc.strerror or exc} "
                    "(make room there, or fix the folder, and run the audit again)"
                ) from None
            refs = tuple(
                EvidenceRef(r["id"], digest, capture.sha256, capture.url, capture.captured_at)
                for r in records
            )
        url = page.url or result.document.canonical_url
        seen = PageObservation(
            key=page_key(page),
            url=page.url,
            sha256=page.sha256,
            fetched_at=page.fetched_at,
            judged=True,
            records=tuple(records),
            recheck_after=recheck_after(
                url, page.fetched_at, result.document.published, self.rulebook,
                self.audit_time.date(),
            ),
            http_status=getattr(page, "http_status", None),
            evidence=refs,
        )
        self.counts["judged"] += 1
        return self.store.observe(self.run, seen)

    def gone(self, item: PageGone) -> None:
        resolved = self.store.gone(
            self.run, page_key(item), item.url, item.http_status, item.fetched_at
        )
        self.counts["gone"] += 1
        log.info("%s answered %s: %d finding(s) resolved", item.url, item.http_status, resolved)

    def wrap_up(self, resolve_missing: bool, tally: Counter[str]) -> dict[str, Any]:
        """The lifecycle summary for the report header (the audit stays open until
        `complete`, so a run killed while writing reports is resumed, not lost).

        `tally`: this audit's findings per status."""
        if resolve_missing:
            self.store.resolve_unseen(self.run)
        resolved = self.store.resolved_in(self.run.id)
        summary = {
            "new": tally["new"],
            "ongoing": tally["open"] + tally["notice_sent"],
            "resolved": len(resolved),
            "suppressed": tally["suppressed"],
            "notice_sent": tally["notice_sent"],
            "previous_audit": self.run.previous,
            "resumed": self.run.resumed,
            "pages_judged": self.counts["judged"],
            "pages_unchanged": self.counts["unchanged"],
            "pages_gone": self.counts["gone"],
        }
        summary["resolved_findings"] = resolved
        return summary

    def complete(self, summary: dict[str, Any]) -> None:
        """The reports are written: the audit is done."""
        self.store.finish(self.run, summary)


def _apply_suppressions(records: list[dict[str, Any]], rulebook: Any, today: dt.date) -> None:
    """Suppressions can lapse between audits: apply the ledger again to stored findings."""
    try:
        from ..suppress import apply_suppressions
    except ImportError:  # a tree without the suppression ledger
        return
    apply_suppressions(records, rulebook.suppressions, today)
