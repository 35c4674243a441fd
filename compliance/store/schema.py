"""Tables of the audit store and the migrations that build them.

One schema, written with SQLAlchemy Core, serves SQLite and PostgreSQL alike.
Times are ISO 8601 strings in UTC (they sort as text and read the same in
both databases); record payloads are JSON text, so a finding can be shown
later exactly as it was reported.

Migrations are numbered steps applied in order inside one transaction each;
the `meta` table holds the version reached. A store written by a newer tool
is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.schema import CreateIndex

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

audits = Table(
    "audits",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("state", String(16), nullable=False),  # running | complete | interrupted
    Column("rulebook_digest", String(64), nullable=False),
    Column("index_digest", String(64), nullable=False, default=""),
    Column("engine_digest", String(64), nullable=False, default=""),
    Column("tool_version", String(32), nullable=False),
    Column("host", String(255), nullable=False, default=""),
    Column("pid", Integer, nullable=False, default=0),
    Column("summary", Text),  # JSON: counts by lifecycle status, pages, errors
)

pages = Table(
    "pages",
    metadata,
    Column("key", Text, primary_key=True),  # the URL, or "path:" + absolute file path
    Column("url", Text),
    Column("sha256", String(64), nullable=False),
    Column("fetched_at", String(32)),
    Column("state", String(16), nullable=False),  # ok | gone
    Column("http_status", Integer),
    Column("rulebook_digest", String(64), nullable=False),
    Column("index_digest", String(64), nullable=False, default=""),
    Column("engine_digest", String(64), nullable=False, default=""),  # the code that judged it
    Column("recheck_after", String(10)),  # a licence date that may change the judgement
    Column("first_seen", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Column("audited_in", String(48), nullable=False),  # the audit that last judged it
    Column("seen_in", String(48), nullable=False),  # the audit that last saw it
)

findings = Table(
    "findings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("page_key", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("level", String(16), nullable=False),
    Column("clause_id", String(128), nullable=False),
    Column("agency", String(64), nullable=False),
    Column("url", Text),
    Column("first_seen", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Column("first_audit", String(48), nullable=False),
    Column("last_audit", String(48), nullable=False),  # the audit that last saw it
    Column("status_audit", String(48), nullable=False),  # the audit that set its status
    Column("reason", Text),  # why the status was last changed
    Column("record", Text, nullable=False),  # the finding as last reported (JSON)
    Index("ix_findings_page", "page_key"),
    # `history` lists newest first, per status, a page at a time (keyset on last_seen, id);
    # its prefix also serves every look-up by status (schema 2 replaced ix_findings_status)
    Index("ix_findings_status_seen", "status", "last_seen", "id"),
    # what one audit resolved (`resolved_in`: the end of every audit, `report render AUDIT_ID`)
    Index("ix_findings_status_audit", "status_audit", "status", "id"),
)

events = Table(
    "finding_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", String(64), nullable=False),
    Column("audit_id", String(48), nullable=False),
    Column("at", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("previous", String(16)),
    Column("reason", Text),
    UniqueConstraint("finding_id", "audit_id", "status", name="uq_event_once_per_audit"),
    Index("ix_events_finding", "finding_id"),
)

evidence = Table(
    "evidence",
    metadata,
    Column("finding_id", String(64), primary_key=True),
    Column("warc_sha256", String(64), primary_key=True),
    Column("page_sha256", String(64), nullable=False),
    Column("url", Text),
    Column("captured_at", String(32), nullable=False),
    Column("audit_id", String(48), nullable=False),
)

SCHEMA_VERSION_KEY = "schema_version"


def _v1(conn: Connection) -> None:
    """The first schema: audits, pages, findings with lifecycle, events, evidence.

    It creates the tables as defined above, so a fresh store gets the latest
    indexes at once and the later steps find them already there.
    """
    for table in (audits, pages, findings, events, evidence):
        table.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    """Indexes for big stores: history pages by (status, last_seen, id), audits' changes.

    The single-column status index is dropped: the new one starts with status.
    """
    for index in findings.indexes:
        if index.name in ("ix_findings_status_seen", "ix_findings_status_audit"):
            # IF NOT EXISTS, not a look first: two processes may migrate at once
            conn.execute(CreateIndex(index, if_not_exists=True))
    conn.execute(text("DROP INDEX IF EXISTS ix_findings_status"))


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2]
"""Step n (1-based) upgrades a store from version n-1 to n; append, never edit."""

LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The version a store has reached; 0 for an empty database."""
    meta.create(conn, checkfirst=True)
    row = conn.execute(select(meta.c.value).where(meta.c.key == SCHEMA_VERSION_KEY)).first()
    return int(row[0]) if row else 0
