"""The audit store: pages seen, findings with their lifecycle, history and evidence.

Every page's outcome is written in one transaction, so an audit killed at
any point (SIGKILL included) leaves only whole pages behind; the next run
resumes the unfinished audit and skips what it already judged. Only the
audit holding the lock writes; readers need no lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import json
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .lifecycle import CURRENT, STATUSES, is_suppressed, observed, vanished
from .lock import AdvisoryLock, AuditLock, FileLock, StoreError, StoreLocked
from .schema import (
    LATEST,
    MIGRATIONS,
    SCHEMA_VERSION_KEY,
    audits,
    current_version,
    events,
    evidence,
    findings,
    meta,
    pages,
)

PAGE_ROWS = 1000
"""Rows per query when listing findings: big enough to be quick, small enough to hold."""

LIST_COLUMNS = [
    findings.c.id, findings.c.status, findings.c.severity, findings.c.level,
    findings.c.clause_id, findings.c.agency, findings.c.url, findings.c.first_seen,
    findings.c.last_seen, findings.c.first_audit, findings.c.last_audit, findings.c.reason,
]


SECRET_PARAMS = ("password", "sslpassword")
"""Query parameters of a store URL that hold secrets (libpq reads a password from either)."""
MASK = "***"


def secrets_of(target: str) -> tuple[str, ...]:
    """The passwords a store address carries, to be masked wherever the address is shown."""
    found: list[str] = []
    with contextlib.suppress(Exception):  # an address too broken to parse is searched below
        url = make_url(target)
        if url.password:
            found.append(str(url.password))
        for key, value in url.query.items():
            if key.lower() in SECRET_PARAMS:
                found += [value] if isinstance(value, str) else list(value)
    userinfo = re.search(r"://[^:/@]*:(.*)@", target)  # what a parser might have missed
    if userinfo and userinfo.group(1):
        found.append(userinfo.group(1))
    found += re.findall(r"(?i)(?:password|sslpassword)=([^&\s]+)", target)
    variants = {v for s in found for v in (s, quote(s, safe=""), quote_plus(s))}
    return tuple(sorted((v for v in variants if v), key=len, reverse=True))


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every one of `secrets` replaced by ***: for messages, logs and reports."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def default_db_path() -> Path:
    """Per user: $XDG_DATA_HOME/compliance/audits.sqlite (~/.local/share/… by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "compliance" / "audits.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditRun:
    """The audit being written: a new one, or an interrupted one being completed."""

    id: str
    started_at: str
    resumed: bool
    previous: str | None  # the last complete audit before it
    rulebook_digest: str = ""
    index_digest: str = ""
    engine_digest: str = ""


@dataclass(frozen=True)
class PageRow:
    key: str
    url: str | None
    sha256: str
    state: str
    rulebook_digest: str
    index_digest: str
    engine_digest: str
    recheck_after: str | None
    audited_in: str
    seen_in: str


@dataclass(frozen=True)
class EvidenceRef:
    """One stored capture backing a finding."""

    finding_id: str
    warc_sha256: str
    page_sha256: str
    url: str | None
    captured_at: str
    audit_id: str = ""


@dataclass(frozen=True)
class PageObservation:
    """What one audit learnt about one page, written to the store in one transaction.

    `judged` pages were audited afresh and their `records` are complete: any
    finding of the page not among them is resolved. Pages skipped as
    unchanged carry their stored records back (`judged` false).
    """

    key: str
    url: str | None
    sha256: str
    fetched_at: str | None
    judged: bool
    records: tuple[dict[str, Any], ...]
    recheck_after: str | None = None
    http_status: int | None = None
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True)
class FindingRow:
    id: str
    status: str
    severity: str
    level: str
    clause_id: str
    agency: str
    url: str | None
    first_seen: str
    last_seen: str
    first_audit: str
    last_audit: str
    reason: str | None
    record: dict[str, Any] = field(repr=False)


class Store:
    """One audit store (a SQLite file or a PostgreSQL database) behind one interface."""

    def __init__(self, engine: Engine, lock: AuditLock, label: str,
                 secrets: tuple[str, ...] = ()):
        self.engine = engine
        self._lock = lock
        self._secrets = secrets  # the target's passwords, never to be shown
        self.label = redact(label, secrets)  # where it is, passwords hidden: for messages
        self.dialect = engine.dialect.name

    def reason(self, exc: BaseException) -> str:
        """The database driver's own words on one line, without the SQL statement or the
        data it carried, any password masked: for messages."""
        text = str(getattr(exc, "orig", None) or exc)
        return redact(" ".join(text.split("[SQL:")[0].split()), self._secrets)

    def _failed(self, doing: str, exc: BaseException) -> StoreError:
        """The error to raise, naming the store and the driver's reason."""
        return StoreError(f"cannot {doing} the audit store {self.label}: {self.reason(exc)}")

    # --- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path | None = None, *, create: bool = True) -> Store:
        """Open `target` (a path, sqlite:///…, or postgresql://…); None is the per-user file."""
        text = str(target) if target is not None else str(default_db_path())
        secrets = secrets_of(text)
        try:
            if "://" in text:
                url = make_url(text)
                if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
                    url = url.set(drivername="postgresql+psycopg")
                    # No server-side prepared statements: their generic plans, made while the
                    # tables were nearly empty, keep scanning whole tables as they grow.
                    engine = create_engine(url, pool_pre_ping=True,
                                           connect_args={"prepare_threshold": None})
                    return cls(engine, AdvisoryLock(engine), url.render_as_string(False),
                               secrets)
                if url.drivername != "sqlite" or not url.database:
                    raise StoreError(
                        f"unsupported store {text!r}: give a file path, sqlite:///PATH "
                        "or postgresql://USER@HOST/DB"
                    )
                text = url.database
            path = Path(text).expanduser()
            if not path.exists() and not create:
                raise StoreError(f"no audit store at {path}; run an audit with --db {path} first")
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(_sqlite_engine(path), FileLock(Path(str(path) + ".lock")), str(path))
        except StoreError:
            raise
        except (SQLAlchemyError, OSError, ValueError, ImportError) as exc:
            raise StoreError(f"cannot open the audit store {redact(text, secrets)!r}: "
                             f"{redact(str(exc), secrets)}") from None

    def close(self) -> None:
        self._lock.release()
        self.engine.dispose()

    def migrate(self) -> int:
        """Bring the schema to the latest version; returns the version reached."""
        try:
            with self.engine.begin() as conn:
                version = current_version(conn)
            if version > LATEST:
                raise StoreError(
                    f"the store {self.label} has schema version {version}, newer than this "
                    f"compliance ({LATEST}); upgrade compliance"
                )
            for step in range(version, LATEST):
                with self.engine.begin() as conn:
                    MIGRATIONS[step](conn)
                    _set_meta(conn, SCHEMA_VERSION_KEY, str(step + 1))
            return LATEST
        except SQLAlchemyError as exc:
            raise self._failed("prepare", exc) from None

    def check_readable(self) -> None:
        """For readers: the store exists and has a schema this version understands."""
        try:
            with self.engine.connect() as conn:
                version = current_version(conn)
                conn.rollback()
        except SQLAlchemyError as exc:
            raise self._failed("read", exc) from None
        if version == 0:
            raise StoreError(f"the store {self.label} holds no audit yet")
        if version > LATEST:
            raise StoreError(f"the store {self.label} is newer than this compliance; upgrade")

    @contextlib.contextmanager
    def locked(self, wait: float | None = None) -> Iterator[None]:
        """Hold the audit lock; StoreLocked names the holder when it is taken."""
        try:
            self._lock.acquire(wait)
        except StoreLocked:
            raise StoreLocked(self._holder_message()) from None
        except (SQLAlchemyError, OSError) as exc:
            raise self._failed("lock", exc) from None
        try:
            yield
        finally:
            self._lock.release()

    def _holder_message(self) -> str:
        holder = ""
        with contextlib.suppress(SQLAlchemyError):
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(audits.c.id, audits.c.host, audits.c.pid, audits.c.started_at)
                    .where(audits.c.state == "running")
                    .order_by(audits.c.started_at.desc())
                ).first()
            if row:
                holder = f" (audit {row.id}, pid {row.pid} on {row.host}, since {row.started_at})"
        return f"another audit holds the store {self.label}{holder}; nothing was done"

    # --- writing an audit (lock held) --------------------------------------------------

    def begin(
        self, audit_id: str, started_at: str, rulebook_digest: str, index_digest: str,
        tool_version: str, engine_digest: str = "",
    ) -> AuditRun:
        """Start an audit, or resume the unfinished one left by a killed run.

        An unfinished audit with the same rulebook and index is completed
        under its own id (its pages are skipped as unchanged); any other is
        marked interrupted.
        """
        with self._write() as conn:
            previous = conn.execute(
                select(audits.c.id)
                .where(audits.c.state == "complete")
                .order_by(audits.c.started_at.desc(), audits.c.id.desc())
            ).scalar()
            unfinished = conn.execute(
                select(audits).where(audits.c.state == "running").order_by(audits.c.started_at)
            ).all()
            resume = None
            for row in unfinished:
                same = (row.rulebook_digest, row.index_digest, row.engine_digest) == (
                    rulebook_digest, index_digest, engine_digest)
                if same and row is unfinished[-1]:
                    resume = row
                else:
                    conn.execute(
                        update(audits).where(audits.c.id == row.id).values(state="interrupted")
                    )
            if resume is not None:
                conn.execute(
                    update(audits)
                    .where(audits.c.id == resume.id)
                    .values(host=socket.gethostname(), pid=os.getpid())
                )
                return AuditRun(resume.id, resume.started_at, True, previous, rulebook_digest,
                                index_digest, engine_digest)
            conn.execute(
                insert(audits).values(
                    id=audit_id,
                    started_at=started_at,
                    state="running",
                    rulebook_digest=rulebook_digest,
                    index_digest=index_digest,
                    engine_digest=engine_digest,
                    tool_version=tool_version,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
            )
        return AuditRun(audit_id, started_at, False, previous, rulebook_digest, index_digest,
                        engine_digest)

    def pages(self, keys: Sequence[str]) -> dict[str, PageRow]:
        """What the store knows of many pages, in one query."""
        if not keys:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(pages).where(pages.c.key.in_(list(set(keys))))).all()
        return {r.key: _page_row(r) for r in rows}

    def keep(
        self, run: AuditRun, keys: Sequence[str],
        refresh: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Pages seen again unchanged, in one transaction: their findings are seen again.

        Returns each page's current findings with lifecycle keys; `refresh` may
        update the stored records first (suppressions that lapsed since).
        """
        out: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
        if not keys:
            return out
        with self._write() as conn:
            rows = conn.execute(
                select(findings)
                .where(and_(findings.c.page_key.in_(list(out)), findings.c.status.in_(CURRENT)))
                .order_by(findings.c.page_key, findings.c.id)
            ).all()
            touched: list[str] = []  # seen again, status as it was
            moved: dict[tuple[str, str], list[Any]] = {}  # (status, reason) -> rows
            for row in rows:
                record = json.loads(row.record)
                if refresh is not None:
                    refresh([record])
                suppressed = is_suppressed(record)
                move = observed(row.status, row.last_audit == run.id, suppressed)
                if move.changed and (suppressed or row.status == "suppressed"):
                    record_out = _observe_finding(conn, run, row.page_key, record, row)
                else:
                    if move.changed:
                        moved.setdefault((move.status, move.reason), []).append(row)
                    elif row.last_audit != run.id:
                        touched.append(row.id)
                    record_out = dict(record)
                    record_out.update(audit_id=run.id, status=move.status,
                                      first_seen=row.first_seen, last_seen=run.started_at)
                out[row.page_key].append(record_out)
            for start in range(0, len(touched), 500):
                conn.execute(
                    update(findings)
                    .where(findings.c.id.in_(touched[start:start + 500]))
                    .values(last_seen=run.started_at, last_audit=run.id)
                )
            for (status, reason), group in moved.items():
                _move_all(conn, run, group, status, reason)
            conn.execute(
                update(pages)
                .where(and_(pages.c.key.in_(list(out)), pages.c.seen_in != run.id))
                .values(last_seen=run.started_at, seen_in=run.id)
            )
        return out

    def page(self, key: str) -> PageRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(pages).where(pages.c.key == key)).first()
        return _page_row(row) if row is not None else None

    def observe(self, run: AuditRun, seen: PageObservation) -> list[dict[str, Any]]:
        """Write one page's outcome; returns its records with lifecycle keys added."""
        out: list[dict[str, Any]] = []
        with self._write() as conn:
            _upsert_page(conn, run, seen)
            known = {
                row.id: row
                for row in conn.execute(
                    select(findings).where(
                        findings.c.id.in_([r["id"] for r in seen.records])
                        | (findings.c.page_key == seen.key)
                    )
                )
            }
            for record in seen.records:
                out.append(_observe_finding(conn, run, seen.key, record, known.get(record["id"])))
            if seen.judged:
                shown = {r["id"] for r in seen.records}
                for row in known.values():
                    if row.page_key == seen.key and row.id not in shown and row.status in CURRENT:
                        _vanish(conn, run, row, "no longer shown on the page")
            for ref in seen.evidence:
                _add_evidence(conn, run, ref)
        return out

    def gone(
        self, run: AuditRun, key: str, url: str | None, http_status: int, fetched_at: str | None
    ) -> int:
        """The page answered 404/410: every finding it had is resolved. Returns how many."""
        with self._write() as conn:
            row = conn.execute(select(pages.c.key).where(pages.c.key == key)).first()
            if row is None:
                return 0  # never seen before: nothing to resolve, nothing to remember
            conn.execute(
                update(pages)
                .where(pages.c.key == key)
                .values(
                    state="gone", http_status=http_status, fetched_at=fetched_at,
                    last_seen=run.started_at, seen_in=run.id,
                )
            )
            return self._vanish_page(conn, run, key, f"page gone (HTTP {http_status})")

    def resolve_unseen(self, run: AuditRun) -> int:
        """Snapshot audits: findings of pages this audit did not see are resolved."""
        count = 0
        with self._write() as conn:
            keys = conn.execute(
                select(pages.c.key).where(and_(pages.c.seen_in != run.id, pages.c.state == "ok"))
            ).scalars().all()
            for key in keys:
                count += self._vanish_page(conn, run, key, "page not in this audit's input")
        return count

    def _vanish_page(self, conn: Connection, run: AuditRun, key: str, reason: str) -> int:
        rows = conn.execute(
            select(findings).where(
                and_(findings.c.page_key == key, findings.c.status.in_(CURRENT))
            )
        ).all()
        for row in rows:
            _vanish(conn, run, row, reason)
        return len(rows)

    def resolved_in(self, audit_id: str) -> list[dict[str, Any]]:
        """Findings this audit resolved, as records with their lifecycle keys."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(findings)
                .where(and_(findings.c.status == "resolved", findings.c.status_audit == audit_id))
                .order_by(findings.c.id)
            ).all()
        return [_decorated(json.loads(r.record), r, audit_id) for r in rows]

    def finish(self, run: AuditRun, summary: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                update(audits)
                .where(audits.c.id == run.id)
                .values(state="complete", finished_at=_now(), summary=json.dumps(summary))
            )

    # --- reading and triage -------------------------------------------------------------

    def findings(
        self, statuses: Sequence[str] = (), limit: int | None = None
    ) -> list[FindingRow]:
        """Findings newest first (see `iter_findings`), as a list: for small results."""
        return list(self.iter_findings(statuses, limit))

    def iter_findings(
        self, statuses: Sequence[str] = (), limit: int | None = None, *,
        with_record: bool = True, page_size: int = PAGE_ROWS,
    ) -> Iterator[FindingRow]:
        """Findings by last_seen then id, both descending, read a page of rows at a time.

        A store may hold millions: each status is read on its own along the
        (status, last_seen, id) index, a page per query continuing after the
        last row seen (keyset, never OFFSET), and the statuses are merged here.
        Memory stays at a page per status whatever the store holds. Without
        `with_record` the JSON record is not read (listings do not show it).
        """
        wanted = list(dict.fromkeys(statuses or STATUSES))
        size = max(1, min(page_size, limit) if limit else page_size)
        streams = [self._status_pages(status, with_record, size) for status in wanted]
        merged = heapq.merge(*streams, key=lambda r: (r.last_seen, r.id), reverse=True)
        for count, row in enumerate(merged):
            if limit and count >= limit:
                return
            yield row

    def _status_pages(self, status: str, with_record: bool, size: int) -> Iterator[FindingRow]:
        columns = [*LIST_COLUMNS, findings.c.record] if with_record else LIST_COLUMNS
        base = (
            select(*columns)
            .where(findings.c.status == status)
            .order_by(findings.c.last_seen.desc(), findings.c.id.desc())
            .limit(size)
        )
        after: tuple[str, str] | None = None
        while True:
            query = base
            if after is not None:
                query = query.where(tuple_(findings.c.last_seen, findings.c.id) < tuple_(*after))
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(query).all()
            except SQLAlchemyError as exc:
                raise self._failed("read", exc) from None
            for row in rows:
                yield _finding_row(row, with_record)
            if len(rows) < size:
                return
            after = (rows[-1].last_seen, rows[-1].id)

    def findings_of_audit(self, audit_id: str) -> list[FindingRow]:
        """Findings that audit saw, newest first, selected in the database: the audit last
        to see them, or the one that wrote their stored record (a later audit that only
        saw a finding again leaves its record as it was). `report render AUDIT_ID` on a
        store of millions reads only these, never every record."""
        written_by = findings.c.record.contains(f'"audit_id": "{audit_id}"', autoescape=True)
        query = (
            select(findings)
            .where(or_(findings.c.last_audit == audit_id, written_by))
            .order_by(findings.c.last_seen.desc(), findings.c.id.desc())
        )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise self._failed("read", exc) from None
        return [_finding_row(row) for row in rows]

    def finding(self, finding_id: str) -> FindingRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(findings).where(findings.c.id == finding_id)).first()
        return _finding_row(row) if row else None

    def history(self, finding_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events).where(events.c.finding_id == finding_id).order_by(events.c.seq)
            ).all()
        return [
            {"at": r.at, "audit_id": r.audit_id, "status": r.status, "previous": r.previous,
             "reason": r.reason}
            for r in rows
        ]

    def evidence_of(self, finding_id: str) -> list[EvidenceRef]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(evidence)
                .where(evidence.c.finding_id == finding_id)
                .order_by(evidence.c.captured_at)
            ).all()
        return [
            EvidenceRef(r.finding_id, r.warc_sha256, r.page_sha256, r.url, r.captured_at,
                        r.audit_id)
            for r in rows
        ]

    def all_evidence(self) -> list[EvidenceRef]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(evidence).order_by(evidence.c.warc_sha256)).all()
        return [
            EvidenceRef(r.finding_id, r.warc_sha256, r.page_sha256, r.url, r.captured_at,
                        r.audit_id)
            for r in rows
        ]

    def audit(self, audit_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(audits).where(audits.c.id == audit_id)).first()
        return dict(row._mapping) if row else None

    def set_status(self, finding_id: str, status: str, reason: str, by: str = "manual") -> None:
        """A decision made outside an audit, such as `notice_sent`, recorded in the history."""
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        with self._write() as conn:
            row = conn.execute(select(findings).where(findings.c.id == finding_id)).first()
            if row is None:
                raise StoreError(f"no finding {finding_id} in {self.label}")
            if row.status == status:
                return
            conn.execute(
                update(findings)
                .where(findings.c.id == finding_id)
                .values(status=status, reason=reason, status_audit=by)
            )
            _event(conn, finding_id, by, _now(), status, row.status, reason)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(findings.c.status, func.count()).group_by(findings.c.status)
            ).all()
        return {r[0]: r[1] for r in rows}

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise self._failed("write to", exc) from None


# --- helpers ------------------------------------------------------------------------------


SQLITE_BUSY_SECONDS = 60.0
"""How long a write waits for another program's transaction on a SQLite store to end."""


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": SQLITE_BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the audit
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint, never corrupt
        cursor.close()

    return engine


def _page_row(row: Any) -> PageRow:
    return PageRow(
        row.key, row.url, row.sha256, row.state, row.rulebook_digest, row.index_digest,
        row.engine_digest, row.recheck_after, row.audited_in, row.seen_in,
    )


def _set_meta(conn: Connection, key: str, value: str) -> None:
    if conn.execute(select(meta.c.key).where(meta.c.key == key)).first():
        conn.execute(update(meta).where(meta.c.key == key).values(value=value))
    else:
        conn.execute(insert(meta).values(key=key, value=value))


def _upsert_page(conn: Connection, run: AuditRun, seen: PageObservation) -> None:
    values: dict[str, Any] = {"last_seen": run.started_at, "seen_in": run.id, "url": seen.url}
    if seen.judged:
        values.update(
            sha256=seen.sha256,
            fetched_at=seen.fetched_at,
            state="ok",
            http_status=seen.http_status,
            rulebook_digest=run.rulebook_digest,
            index_digest=run.index_digest,
            engine_digest=run.engine_digest,
            recheck_after=seen.recheck_after,
            audited_in=run.id,
        )
    exists = conn.execute(select(pages.c.key).where(pages.c.key == seen.key)).first()
    if exists:
        conn.execute(update(pages).where(pages.c.key == seen.key).values(**values))
    else:
        conn.execute(insert(pages).values(key=seen.key, first_seen=run.started_at, **values))


def _observe_finding(
    conn: Connection, run: AuditRun, key: str, record: dict[str, Any], row: Any
) -> dict[str, Any]:
    previous = row.status if row is not None else None
    seen_before = row is not None and row.last_audit == run.id
    move = observed(previous, seen_before, is_suppressed(record))
    stored = {k: v for k, v in record.items() if k not in ("status", "first_seen", "last_seen")}
    payload = json.dumps(stored, ensure_ascii=False, sort_keys=True)
    values: dict[str, Any] = {
        "page_key": key,
        "status": move.status,
        "severity": str(record["severity"]),
        "level": str(record.get("level", "violation")),
        "clause_id": str(record["clause"]["id"]),
        "agency": str(record["clause"]["agency"]),
        "url": record["page"].get("url"),
        "last_seen": run.started_at,
        "last_audit": run.id,
        "record": payload,
    }
    if move.changed:
        values.update(status_audit=run.id, reason=move.reason)
    if row is None:
        conn.execute(
            insert(findings).values(
                id=record["id"], first_seen=run.started_at, first_audit=run.id, **values
            )
        )
        first_seen = run.started_at
    else:
        conn.execute(update(findings).where(findings.c.id == record["id"]).values(**values))
        first_seen = row.first_seen
    if move.changed:
        _event(conn, record["id"], run.id, run.started_at, move.status, previous, move.reason)
    out = dict(record)
    out.update(
        audit_id=run.id, status=move.status, first_seen=first_seen, last_seen=run.started_at
    )
    return out


def _move_all(conn: Connection, run: AuditRun, rows: list[Any], status: str, reason: str) -> None:
    """One status change for many findings seen again (new -> open after a first audit)."""
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(
            update(findings)
            .where(findings.c.id.in_(chunk))
            .values(status=status, reason=reason, status_audit=run.id,
                    last_seen=run.started_at, last_audit=run.id)
        )
        done = set(conn.execute(
            select(events.c.finding_id).where(
                and_(events.c.audit_id == run.id, events.c.status == status,
                     events.c.finding_id.in_(chunk))
            )
        ).scalars())
        fresh = [
            {"finding_id": row.id, "audit_id": run.id, "at": run.started_at, "status": status,
             "previous": row.status, "reason": reason}
            for row in rows[start:start + 500]
            if row.id not in done
        ]
        if fresh:
            conn.execute(insert(events), fresh)


def _vanish(conn: Connection, run: AuditRun, row: Any, reason: str) -> None:
    move = vanished(row.status, reason)
    if not move.changed:
        return
    conn.execute(
        update(findings)
        .where(findings.c.id == row.id)
        .values(status=move.status, status_audit=run.id, reason=reason)
    )
    _event(conn, row.id, run.id, run.started_at, move.status, row.status, reason)


def _event(
    conn: Connection, finding_id: str, audit_id: str, at: str, status: str,
    previous: str | None, reason: str,
) -> None:
    key = and_(
        events.c.finding_id == finding_id, events.c.audit_id == audit_id, events.c.status == status
    )
    if conn.execute(select(events.c.seq).where(key)).first():
        return  # one event per finding, audit and status: reruns add nothing
    conn.execute(
        insert(events).values(
            finding_id=finding_id, audit_id=audit_id, at=at, status=status,
            previous=previous, reason=reason,
        )
    )


def _add_evidence(conn: Connection, run: AuditRun, ref: EvidenceRef) -> None:
    key = and_(
        evidence.c.finding_id == ref.finding_id, evidence.c.warc_sha256 == ref.warc_sha256
    )
    if conn.execute(select(evidence.c.finding_id).where(key)).first():
        return
    conn.execute(
        insert(evidence).values(
            finding_id=ref.finding_id, warc_sha256=ref.warc_sha256, page_sha256=ref.page_sha256,
            url=ref.url, captured_at=ref.captured_at, audit_id=run.id,
        )
    )


def _decorated(record: dict[str, Any], row: Any, audit_id: str) -> dict[str, Any]:
    out = dict(record)
    out.update(
        audit_id=audit_id, status=row.status, first_seen=row.first_seen, last_seen=row.last_seen
    )
    return out


def _finding_row(row: Any, with_record: bool = True) -> FindingRow:
    return FindingRow(
        row.id, row.status, row.severity, row.level, row.clause_id, row.agency, row.url,
        row.first_seen, row.last_seen, row.first_audit, row.last_audit, row.reason,
        json.loads(row.record) if with_record else {},
    )
