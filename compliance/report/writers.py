"""Write an audit's outputs atomically: findings.jsonl, errors.jsonl, findings.csv, report.html.

Each file is written to a temporary name in the output folder and renamed
into place only when the audit completes, so a crash or a full disk leaves
the previous report intact, never half a report.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

FORMATS = ("jsonl", "html", "csv")
CSV_COLUMNS = [
    "id",
    "severity",
    "confidence",
    "level",
    "agency",
    "clause",
    "actions",
    "url",
    "domain",
    "page_lang",
    "title",
    "licence",
    "licence_status",
    "dispatch",
    "match_kind",
    "evidence",
    "fetched_at",
    "sha256",
    "source",
    "explanation",
]
CSV_CELL_LIMIT = 32_000  # spreadsheet programs cut cells near 32,767 characters


class AtomicFile:
    """A text file that appears under its name only on `publish()`, after `finish()`.

    Write failures (a full disk) are raised as OSError naming the file
    being written, and `abort()` removes the temporary file even then.
    """

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(path.parent, f".{path.name}.*.tmp")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)  # "being written": held until closed, or the writer dies
        self.tmp = Path(tmp)
        self.handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def write(self, text: str) -> None:
        try:
            self.handle.write(text)
        except OSError as exc:
            raise self._failed(exc) from None

    def finish(self) -> None:
        """Everything on disk under the temporary name (where a full disk shows)."""
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
        except OSError as exc:
            raise self._failed(exc) from None

    def publish(self) -> None:
        """The finished file under its own name, in one rename."""
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            raise self._failed(exc) from None

    def abort(self) -> None:
        if not self.handle.closed:
            # closing flushes what is buffered, which fails again on a full disk; the
            # descriptor is closed all the same
            with contextlib.suppress(OSError):
                self.handle.close()
        self.tmp.unlink(missing_ok=True)

    def _failed(self, exc: OSError) -> OSError:
        return OSError(exc.errno, exc.strerror or str(exc), str(self.path))


def sweep_stale(folder: Path, pattern: str) -> None:
    """Remove temporary files matching `pattern` left by writers that were killed.

    A live writer holds an `flock` on its temporary file and the kernel drops
    it when the writer dies (SIGKILL, power cut), so a file whose lock can be
    taken is an orphan.
    """
    for stale in folder.glob(pattern):
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # still being written
        else:
            stale.unlink(missing_ok=True)
        finally:
            os.close(fd)


def finished_file(path: Path, text: str) -> AtomicFile:
    """`text` written and on disk under a temporary name, ready to `publish()`."""
    target = AtomicFile(path)
    try:
        target.write(text)
        target.finish()
    except BaseException:
        target.abort()
        raise
    return target


def write_atomic(path: Path, text: str) -> None:
    target = finished_file(path, text)
    try:
        target.publish()
    except BaseException:
        target.abort()
        raise


@dataclass
class AuditStats:
    """Tallies for the terminal summary; waived (suppressed) findings are counted apart."""

    pages: int = 0
    errors: int = 0
    pages_with_findings: int = 0
    findings: int = 0
    violations: int = 0
    notes: int = 0
    suppressed: int = 0
    by_severity: Counter[str] = field(default_factory=Counter)
    by_agency: Counter[str] = field(default_factory=Counter)
    by_domain: Counter[str] = field(default_factory=Counter)
    by_clause: Counter[str] = field(default_factory=Counter)

    def add_findings(self, records: list[dict[str, Any]]) -> None:
        self.pages += 1
        if records:
            self.pages_with_findings += 1
        for record in records:
            self.findings += 1
            if record.get("suppressed"):
                self.suppressed += 1
            elif record["level"] == "violation":
                self.violations += 1
                self.by_severity[record["severity"]] += 1
                self.by_agency[record["clause"]["agency"]] += 1
                self.by_domain[record["page"]["domain"] or "(unknown)"] += 1
                self.by_clause[record["clause"]["id"]] += 1
            else:
                self.notes += 1


VERDICT_KEYS = ("level", "severity", "status", "suppressed")


class ReportWriter:
    """Streams findings and errors to temporary files; `close()` publishes them all at once."""

    def __init__(self, out_dir: Path, formats: tuple[str, ...], header: dict[str, Any]):
        self.out_dir = out_dir
        self.formats = formats
        self.header = header
        self.stats = AuditStats()
        # Whole records are kept only for the CSV and HTML reports, made at close: with
        # `jsonl` alone memory stays flat however many pages the audit has.
        self._keep = bool({"csv", "html"} & set(formats))
        self.findings: list[dict[str, Any]] = []
        # What the exit status and the lifecycle tally read of each record, counted.
        self.verdicts: Counter[tuple[tuple[str, Any], ...]] = Counter()
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self._jsonl = AtomicFile(out_dir / "findings.jsonl") if "jsonl" in formats else None
        self._errors = AtomicFile(out_dir / "errors.jsonl")

    def add_page(self, records: list[dict[str, Any]], warnings: tuple[str, ...] = ()) -> None:
        self.stats.add_findings(records)
        self.warnings.extend(warnings)
        for record in records:
            self.verdicts[tuple(
                (key, bool(record[key]) if key == "suppressed" else record[key])
                for key in VERDICT_KEYS if key in record)] += 1
            if self._keep:
                self.findings.append(record)
            if self._jsonl:
                self._jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")

    def verdict_records(self) -> list[dict[str, Any]]:
        """One record per distinct verdict, holding only VERDICT_KEYS (for `exit_status`)."""
        return [dict(verdict) for verdict in self.verdicts]

    def status_counts(self) -> Counter[str]:
        """Findings per lifecycle status ("None" for records without one)."""
        counts: Counter[str] = Counter()
        for verdict, count in self.verdicts.items():
            counts[str(dict(verdict).get("status"))] += count
        return counts

    def add_error(self, record: dict[str, Any]) -> None:
        self.stats.errors += 1
        self.errors.append(record)
        self._errors.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self, extra: Mapping[str, str | None] | None = None) -> list[Path]:
        """Finish every file, then rename them all: a failure on the way (a full disk)
        leaves the whole previous report in place, never a mix of old and new files.

        `extra`: more files of this report by name, published with the others; None
        removes a file an older report left (its content would be stale)."""
        extra = extra or {}
        targets = [t for t in (self._jsonl, self._errors) if t]
        try:
            for target in targets:
                target.finish()
            if "csv" in self.formats:
                csv_text = findings_csv(self.findings)
                targets.append(finished_file(self.out_dir / "findings.csv", csv_text))
            if "html" in self.formats:
                html = render_html(
                    self.header, self.findings, self.errors, stats=self.stats,
                    warnings=self.warnings,
                )
                targets.append(finished_file(self.out_dir / "report.html", html))
            for name, text in extra.items():
                if text is not None:
                    targets.append(finished_file(self.out_dir / name, text))
            for target in targets:
                target.publish()
        except BaseException:
            for target in targets:
                target.abort()
            raise
        for name, text in extra.items():
            if text is None:
                (self.out_dir / name).unlink(missing_ok=True)
        return [t.path for t in targets]

    def abort(self) -> None:
        for target in (self._jsonl, self._errors):
            if target:
                target.abort()


def findings_csv(findings: list[dict[str, Any]]) -> str:
    """One row per finding; lists joined with ' | ', long cells cut for spreadsheet programs."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for record in findings:
        licence = record["licence"] or {}
        row = {
            "id": record["id"],
            "severity": record["severity"],
            "confidence": record["confidence"],
            "level": record["level"],
            "agency": record["clause"]["agency"],
            "clause": record["clause"]["id"],
            "actions": " | ".join(record["actions"]),
            "url": record["page"]["url"] or "",
            "domain": record["page"]["domain"] or "",
            "page_lang": record["page"]["lang"] or "",
            "title": record["page"]["title"] or "",
            "licence": licence.get("licensee", ""),
            "licence_status": licence.get("status", "none"),
            "dispatch": (record["dispatch"] or {}).get("id", ""),
            "match_kind": record["match"]["kind"],
            "evidence": " | ".join(f"{e['kind']}: {e['text']}" for e in record["evidence"]),
            "fetched_at": record["page"]["fetched_at"] or "",
            "sha256": record["page"]["sha256"],
            "source": record["page"]["source"],
            "explanation": record["explanation"],
        }
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    if text[:1] in ("=", "+", "-", "@"):  # keep page text from running as a spreadsheet formula
        text = "'" + text
    return text if len(text) <= CSV_CELL_LIMIT else text[:CSV_CELL_LIMIT] + "…"


def render_html(
    header: dict[str, Any],
    findings: list[dict[str, Any]],
    errors: list[dict[str, Any]] | None = None,
    *,
    stats: AuditStats | None = None,
    warnings: list[str] | tuple[str, ...] = (),
    previous: list[dict[str, Any]] | None = None,
) -> str:
    """A self-contained page: no external requests, every page string escaped, its one
    script and one style sheet allowed by hash in the Content-Security-Policy."""
    from .view import render_report

    return render_report(
        header, findings, errors or [], stats=stats, warnings=warnings, previous=previous
    )


def clause_links(rulebook: Any) -> dict[str, str]:
    """Clause id → the terms page it comes from (the clause's own, else the agency's)."""
    links: dict[str, str] = {}
    for agency in rulebook.agencies.values():
        for clause in agency.clauses:
            url = clause.terms_url or agency.terms_url
            if url:
                links[clause.id] = url
    return links


def load_findings(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Findings (and errors, when beside them) from a findings.jsonl file or a report folder.

    Raises ValueError naming the file and line of a record that is not JSON.
    """
    file = path / "findings.jsonl" if path.is_dir() else path
    findings = _read_jsonl(file)
    errors_file = file.parent / "errors.jsonl"
    errors = _read_jsonl(errors_file) if errors_file.exists() else []
    return findings, errors


def _read_jsonl(file: Path) -> list[dict[str, Any]]:
    records = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}:{number}: not a JSON record: {exc.msg}") from None
            if not isinstance(record, dict):
                raise ValueError(f"{file}:{number}: not a JSON object")
            records.append(record)
    return records
