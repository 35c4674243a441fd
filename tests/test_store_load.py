"""The audit store under load, and its secrets.

Timing a query in a test proves little on a shared machine, so the tests look
at what makes a query fast whatever the size: each statement `history` sends
is answered along an index (SQLite's query plan searches, never scans the
findings or events tables, never sorts what it matched). bench/load.py gives
the figures on a million findings. An old store is upgraded in place, and a
store password never reaches a message, a log line or a report.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, insert, inspect, select, text

from compliance.store import Store
from compliance.store.cli import history
from compliance.store.schema import LATEST, audits, events, findings, pages
from compliance.store.store import redact, secrets_of

from .conftest import EXAMPLES, fresh_pg_database

RUNS = [(f"2026111{d}T021500Z-0000000{d}", f"2026-11-1{d}T02:15:00+00:00") for d in range(5)]
COMMAND = [sys.executable, "-c", "from compliance.cli import main; main()"]


def fill(store: Store, count: int, seed: int = 1) -> list[str]:
    """`count` findings (ten a page) over five audits, every status present, with events.

    Most findings are `open`, so that listing them takes more than one page of
    rows and the keyset continuation is exercised. Returns the finding ids.
    """
    rng = random.Random(seed)
    weights = {"open": 60, "new": 10, "resolved": 20, "notice_sent": 5, "suppressed": 5}
    rows, history_rows, page_rows, ids = [], [], [], []
    for n in range(count):
        fid = f"{rng.getrandbits(80):020x}"
        url = f"https://copies.example/{n // 10}"
        status = rng.choices(list(weights), list(weights.values()))[0]
        first, last = rng.randrange(3), rng.randrange(3, 5)
        rows.append({
            "id": fid, "page_key": url, "status": status, "severity": "high",
            "level": "violation", "clause_id": "afp-no-redistribution", "agency": "afp",
            "url": url, "first_seen": RUNS[first][1], "last_seen": RUNS[last][1],
            "first_audit": RUNS[first][0], "last_audit": RUNS[last][0],
            "status_audit": RUNS[last][0], "reason": "seen", "record": json.dumps({"id": fid})})
        history_rows += [
            {"finding_id": fid, "audit_id": RUNS[first][0], "at": RUNS[first][1],
             "status": "new", "previous": None, "reason": "first seen"},
            {"finding_id": fid, "audit_id": RUNS[last][0], "at": RUNS[last][1],
             "status": status, "previous": "new", "reason": "seen"}]
        if n % 10 == 0:
            page_rows.append({
                "key": url, "url": url, "sha256": "0" * 64, "state": "ok",
                "rulebook_digest": "r", "index_digest": "", "engine_digest": "e",
                "first_seen": RUNS[0][1], "last_seen": RUNS[4][1], "audited_in": RUNS[0][0],
                "seen_in": RUNS[4][0]})
        ids.append(fid)
    with store.engine.begin() as conn:
        conn.execute(insert(audits), [
            {"id": i, "started_at": at, "state": "complete", "rulebook_digest": "r",
             "tool_version": "test"} for i, at in RUNS])
        conn.execute(insert(pages), page_rows)
        conn.execute(insert(findings), rows)
        conn.execute(insert(events), history_rows)
    return ids


@contextlib.contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement any engine sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def plan_problems(db: Path, sent: list[tuple[str, Any]]) -> tuple[int, list[str]]:
    """How many statements read findings or events, and the plan lines that scan or sort."""
    checked, problems = 0, []
    with sqlite3.connect(db) as conn:
        for statement, parameters in sent:
            if not re.search(r"\bFROM (findings|finding_events)\b", statement):
                continue
            checked += 1
            for row in conn.execute("EXPLAIN QUERY PLAN " + statement, parameters or ()):
                detail = row[-1]
                if re.match(r"SCAN (findings|finding_events)\b", detail) or \
                        "TEMP B-TREE FOR ORDER BY" in detail:
                    problems.append(f"{detail}  <-  {' '.join(statement.split())[:160]}")
    return checked, problems


@pytest.fixture(params=[False, True], ids=["no-stats", "analyzed"])
def big(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, list[str]]:
    """A store of 3,000 findings, as the tool leaves it (no statistics) or after ANALYZE."""
    db = tmp_path / "audits.sqlite"
    store = Store.open(db)
    store.migrate()
    ids = fill(store, 3000)
    store.close()
    if request.param:
        with sqlite3.connect(db) as conn:
            conn.execute("ANALYZE")
    return db, ids


HISTORY_QUERIES = [
    [],
    ["--status", "new", "--status", "open"],
    ["--status", "resolved", "--limit", "5"],
    ["--status", "notice_sent", "--format", "jsonl"],
    ["--format", "csv"],
    ["--limit", "1500", "--format", "jsonl"],
]


@pytest.mark.parametrize("args", HISTORY_QUERIES, ids=lambda a: " ".join(a) or "all")
def test_history_listing_reads_along_an_index(big: tuple[Path, list[str]],
                                               args: list[str]) -> None:
    db, _ = big
    with statements() as sent:
        result = CliRunner().invoke(history, [*args, "--db", str(db)])
    assert result.exit_code == 0, result.output
    checked, problems = plan_problems(db, sent)
    assert checked >= 1
    assert problems == []


def test_one_findings_history_and_an_audits_changes_read_along_an_index(
        big: tuple[Path, list[str]]) -> None:
    db, ids = big
    with statements() as sent:
        for fmt in ("table", "csv", "jsonl"):
            result = CliRunner().invoke(history, [ids[17], "--db", str(db), "--format", fmt])
            assert result.exit_code == 0, result.output
        store = Store.open(db, create=False)
        assert store.resolved_in(RUNS[4][0])  # what the end of every audit asks
        store.close()
    checked, problems = plan_problems(db, sent)
    assert checked >= 7
    assert problems == []


def test_history_lists_every_finding_once_newest_first_a_page_at_a_time(
        tmp_path: Path) -> None:
    store = Store.open(tmp_path / "audits.sqlite")
    store.migrate()
    fill(store, 700, seed=3)  # five distinct last_seen values: pages end inside long ties
    with store.engine.connect() as conn:
        every = conn.execute(select(findings.c.last_seen, findings.c.id, findings.c.status)).all()
    expected = sorted(every, reverse=True)
    paged = [(r.last_seen, r.id, r.status) for r in store.iter_findings(page_size=7)]
    assert paged == [tuple(r) for r in expected]
    chosen = [(r.last_seen, r.id, r.status)
              for r in store.iter_findings(["new", "resolved"], page_size=5)]
    assert chosen == [tuple(r) for r in expected if r.status in ("new", "resolved")]
    assert len(list(store.iter_findings(["open"], limit=13, page_size=4))) == 13
    assert all(r.record == {} for r in store.iter_findings(limit=3, with_record=False))
    store.close()


# --- upgrading an old store -------------------------------------------------------------------

SCHEMA_V1 = """
CREATE TABLE meta ("key" VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE audits (id VARCHAR(48) NOT NULL, started_at VARCHAR(32) NOT NULL,
  finished_at VARCHAR(32), state VARCHAR(16) NOT NULL, rulebook_digest VARCHAR(64) NOT NULL,
  index_digest VARCHAR(64) NOT NULL, engine_digest VARCHAR(64) NOT NULL,
  tool_version VARCHAR(32) NOT NULL, host VARCHAR(255) NOT NULL, pid INTEGER NOT NULL,
  summary TEXT, PRIMARY KEY (id));
CREATE TABLE pages ("key" TEXT NOT NULL, url TEXT, sha256 VARCHAR(64) NOT NULL,
  fetched_at VARCHAR(32), state VARCHAR(16) NOT NULL, http_status INTEGER,
  rulebook_digest VARCHAR(64) NOT NULL, index_digest VARCHAR(64) NOT NULL,
  engine_digest VARCHAR(64) NOT NULL, recheck_after VARCHAR(10), first_seen VARCHAR(32) NOT NULL,
  last_seen VARCHAR(32) NOT NULL, audited_in VARCHAR(48) NOT NULL, seen_in VARCHAR(48) NOT NULL,
  PRIMARY KEY ("key"));
CREATE TABLE findings (id VARCHAR(64) NOT NULL, page_key TEXT NOT NULL,
  status VARCHAR(16) NOT NULL, severity VARCHAR(16) NOT NULL, level VARCHAR(16) NOT NULL,
  clause_id VARCHAR(128) NOT NULL, agency VARCHAR(64) NOT NULL, url TEXT,
  first_seen VARCHAR(32) NOT NULL, last_seen VARCHAR(32) NOT NULL,
  first_audit VARCHAR(48) NOT NULL, last_audit VARCHAR(48) NOT NULL,
  status_audit VARCHAR(48) NOT NULL, reason TEXT, record TEXT NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_findings_status ON findings (status);
CREATE INDEX ix_findings_page ON findings (page_key);
CREATE TABLE finding_events (seq INTEGER NOT NULL, finding_id VARCHAR(64) NOT NULL,
  audit_id VARCHAR(48) NOT NULL, at VARCHAR(32) NOT NULL, status VARCHAR(16) NOT NULL,
  previous VARCHAR(16), reason TEXT, PRIMARY KEY (seq),
  CONSTRAINT uq_event_once_per_audit UNIQUE (finding_id, audit_id, status));
CREATE INDEX ix_events_finding ON finding_events (finding_id);
CREATE TABLE evidence (finding_id VARCHAR(64) NOT NULL, warc_sha256 VARCHAR(64) NOT NULL,
  page_sha256 VARCHAR(64) NOT NULL, url TEXT, captured_at VARCHAR(32) NOT NULL,
  audit_id VARCHAR(48) NOT NULL, PRIMARY KEY (finding_id, warc_sha256));
INSERT INTO meta VALUES ('schema_version', '1');
"""
"""The schema version 1 wrote (compliance before schema 2), as SQLite shows it."""


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t)))
                for t in (audits, pages, findings, events)}


def finding_indexes(engine: Engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("findings")}


def test_a_version_1_store_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "audits.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(SCHEMA_V1)
    store = Store.open(db)
    fill(store, 1200)
    before = snapshot(store.engine)
    assert "ix_findings_status_seen" not in finding_indexes(store.engine)
    assert CliRunner().invoke(history, ["--db", str(db), "--limit", "3"]).exit_code == 0

    assert store.migrate() == LATEST == 2
    assert snapshot(store.engine) == before  # nothing lost
    indexes = finding_indexes(store.engine)
    assert {"ix_findings_status_seen", "ix_findings_status_audit", "ix_findings_page"} <= indexes
    assert "ix_findings_status" not in indexes  # the new index starts with status
    assert store.migrate() == LATEST  # a second open changes nothing
    store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() \
            == ("2",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with statements() as sent:
        result = CliRunner().invoke(history, ["--db", str(db), "--status", "open"])
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 1 + sum(1 for r in before["findings"]
                                                       if r[2] == "open")
    assert plan_problems(db, sent)[1] == []


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server."""
    with fresh_pg_database() as url:
        yield url


def test_a_version_1_postgresql_store_is_upgraded_in_place(pg_database: str) -> None:
    store = Store.open(pg_database)
    store.migrate()
    with store.engine.begin() as conn:  # back to what version 1 left behind
        conn.execute(text("DROP INDEX ix_findings_status_seen"))
        conn.execute(text("DROP INDEX ix_findings_status_audit"))
        conn.execute(text("CREATE INDEX ix_findings_status ON findings (status)"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    fill(store, 500)
    before = snapshot(store.engine)
    assert store.migrate() == LATEST
    assert snapshot(store.engine) == before
    indexes = finding_indexes(store.engine)
    assert {"ix_findings_status_seen", "ix_findings_status_audit"} <= indexes
    assert "ix_findings_status" not in indexes
    assert len(list(store.iter_findings(page_size=64))) == 500
    store.close()


# --- passwords ---------------------------------------------------------------------------------

SECRET = "s3cretpw"


def test_secrets_of_finds_the_password_however_it_is_written() -> None:
    for target in (f"postgresql://user:{SECRET}@db.example/audits",
                   f"postgresql://user@db.example/audits?password={SECRET}",
                   f"postgresql://user:{SECRET}@db.example:notaport/audits",
                   f"postgresql://user:{SECRET}@[::1/audits"):
        shown = redact(f"cannot open {target}", secrets_of(target))
        assert SECRET not in shown
        assert "db.example" in shown or "::1" in shown
    assert secrets_of("postgresql://user@db.example:5432/audits") == ()
    assert secrets_of("/var/lib/compliance/audits.sqlite") == ()


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """The real command in a new process: everything it printed."""
    done = subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, **(env or {})})
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def files_holding(folder: Path, secret: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.parametrize("target", [
    f"postgresql://user:{SECRET}@127.0.0.1:1/db",
    f"postgresql://user@127.0.0.1:1/db?password={SECRET}",
    f"postgresql://user:{SECRET}@127.0.0.1:notaport/db",
], ids=["userinfo", "query", "bad-port"])
def test_an_unreachable_store_never_shows_its_password(tmp_path: Path, target: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    manifest = str(EXAMPLES / "manifest.jsonl")
    outputs = {
        "audit": run("audit", "--manifest", manifest, "--db", target, "--out", "out", cwd=work),
        "audit json": run("audit", "--manifest", manifest, "--db", target, "--out", "out2",
                          "--log-format", "json", cwd=work),
        "audit env": run("audit", "--manifest", manifest, "--out", "out3", cwd=work,
                         env={"COMPLIANCE_DB": target}),
        "history": run("history", "--db", target, "--status", "new", cwd=work),
        "history id": run("history", "0123456789abcdef0123", "--db", target, cwd=work),
        "evidence verify": run("evidence", "verify", "--db", target, cwd=work),
        "evidence export": run("evidence", "export", "0123456789abcdef0123", "--db", target,
                               "--out", "bundle", cwd=work),
        "report render": run("report", "render", "20261120T120000Z-1a2b3c4d", "--db", target,
                             "--out", "r.html", cwd=work),
    }
    for name, output in outputs.items():
        assert SECRET not in output, name
        assert output.startswith("exit 2"), (name, output)
    assert "127.0.0.1" in outputs["audit"]  # the message still says where
    assert "***" in outputs["audit"]
    assert files_holding(work, SECRET) == []


def test_a_store_url_in_the_config_file_stays_there(tmp_path: Path) -> None:
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "compliance.toml").write_text(
        f'db = "postgresql://user:{SECRET}@127.0.0.1:1/db"\nlog_format = "json"\n')
    work = tmp_path / "work"
    work.mkdir()
    output = run("audit", "--manifest", str(EXAMPLES / "manifest.jsonl"), "--config",
                 str(conf / "compliance.toml"), "--out", "out", cwd=work)
    assert output.startswith("exit 2")
    assert SECRET not in output
    assert files_holding(work, SECRET) == []


def test_a_live_store_keeps_its_password_out_of_reports_and_logs(
        tmp_path: Path, pg_database: str) -> None:
    # the test server trusts local connections: any password is accepted, so one is given
    target = pg_database.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    assert SECRET in target
    work = tmp_path / "work"
    work.mkdir()
    env = {"COMPLIANCE_EVIDENCE": str(work / "evidence")}
    manifest = str(EXAMPLES / "manifest.jsonl")
    outputs = [
        run("audit", "--manifest", manifest, "--db", target, "--out", "out", cwd=work, env=env),
        run("audit", "--manifest", manifest, "--db", target, "--out", "out-json",
            "--log-format", "json", cwd=work, env=env),
        run("history", "--db", target, "--format", "jsonl", cwd=work),
        run("history", "--db", target, cwd=work),
    ]
    assert outputs[0].startswith("exit 1"), outputs[0]  # the examples hold violations
    assert (work / "out" / "report.html").exists()
    audit_id = json.loads((work / "out" / "findings.jsonl").read_text().splitlines()[0])[
        "audit_id"]
    finding_id = json.loads(outputs[2].split("\n", 2)[1])["id"]
    outputs += [
        run("history", finding_id, "--db", target, cwd=work),
        run("report", "render", audit_id, "--db", target, "--out", "rendered.html", cwd=work),
        run("report", "render", audit_id, "--db", target, "--format", "md", "--out", "r.md",
            cwd=work),
        run("evidence", "verify", "--db", target, cwd=work, env=env),
        run("evidence", "export", finding_id, "--db", target, "--out", "bundle", cwd=work,
            env=env),
    ]
    for output in outputs:
        assert SECRET not in output
        assert not output.startswith("exit 2"), output
    assert files_holding(work, SECRET) == []
    # where the store is named (the rendered report, the evidence bundle), it is masked
    assert "postgres:***@127.0.0.1" in (work / "rendered.html").read_text()
    assert "postgres:***@127.0.0.1" in next((work / "bundle").rglob("manifest.json")).read_text()
