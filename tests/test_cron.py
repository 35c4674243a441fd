"""Cron runs of the real command: SIGKILL mid-audit then rerun, overlapping audits, the
config file, output fit for cron (no colour or progress off a terminal, JSON logs)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compliance.ingest.pages import iter_pages
from compliance.rulebook import Rulebook
from compliance.runner import run_audit

from .test_store import DAY1, article, site

COMMAND = [sys.executable, "-c", "from compliance.cli import main; main()"]


def crawl(folder: Path, count: int) -> Path:
    """`count` pages, two in three credited to AFP (violations), with a manifest."""
    return site(folder, {f"p{n:04d}": article(n, credited=n % 3 != 0) for n in range(count)})


def compliance(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, check=False)


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*COMMAND, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def wait_for(db: Path, sql: str, at_least: int, proc: subprocess.Popen[str],
             limit: float = 120) -> int:
    """Poll the store until the query counts `at_least`; the audit must still be running."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the audit ended before the test could interrupt it"
        if db.exists():
            try:
                (count,), = rows(db, sql)
            except sqlite3.OperationalError:  # tables not created yet
                count = 0
            if count >= at_least:
                return int(count)
        time.sleep(0.02)
    raise AssertionError("the audit made no progress")


def findings_of(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]


def test_sigkill_mid_audit_then_rerun(tmp_path: Path, rulebook: Rulebook) -> None:
    manifest = crawl(tmp_path / "crawl", 400)
    db = tmp_path / "audits.sqlite"
    args = ["audit", "--manifest", str(manifest), "--db", str(db), "--out", str(tmp_path / "out"),
            "--workers", "1", "-q"]
    proc = start(*args, cwd=tmp_path)
    try:
        committed = wait_for(db, "SELECT count(*) FROM findings", 30, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    (killed,) = rows(db, "SELECT id, state FROM audits")
    assert killed[1] == "running"
    kept = rows(db, "SELECT count(*) FROM findings")[0][0]
    assert kept >= committed  # nothing committed was lost
    assert not (tmp_path / "out" / "findings.jsonl").exists()  # no half report

    rerun = compliance(*args, cwd=tmp_path)
    assert rerun.returncode == 1, rerun.stderr
    assert rows(db, "SELECT id, state FROM audits") == [(killed[0], "complete")]  # completed
    found = findings_of(tmp_path / "out")
    ids = [r["id"] for r in found]
    assert len(ids) == len(set(ids))  # nothing twice
    reference = run_audit(iter_pages(manifest=manifest), rulebook, tmp_path / "clean", now=DAY1)
    assert set(ids) == {r["id"] for r in findings_of(tmp_path / "clean")}  # nothing missing
    assert reference.stats.violations == len(ids)
    assert {r["status"] for r in found} == {"new"}  # one audit, completed: all new
    assert {r["audit_id"] for r in found} == {killed[0]}
    assert rows(db, "SELECT count(*) FROM finding_events")[0][0] == len(ids)
    assert rows(db, "SELECT count(*) FROM pages")[0][0] == 400

    # the next audits see the same findings again: open, then nothing changes at all
    for _ in range(2):
        again = compliance(*args, "--fail-on", "new", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert rows(db, "SELECT count(*) FROM finding_events")[0][0] == 2 * len(ids)
        assert sorted(r["id"] for r in findings_of(tmp_path / "out")) == sorted(ids)
        assert rows(db, "SELECT DISTINCT status FROM findings") == [("open",)]


def test_overlapping_audits(tmp_path: Path) -> None:
    manifest = crawl(tmp_path / "crawl", 300)
    small = crawl(tmp_path / "small", 3)
    db = tmp_path / "audits.sqlite"
    first = start("audit", "--manifest", str(manifest), "--db", str(db), "--workers", "1",
                  "--out", str(tmp_path / "out1"), "-q", cwd=tmp_path)
    try:
        wait_for(db, "SELECT count(*) FROM pages", 5, first)
        started = time.monotonic()
        second = compliance("audit", "--manifest", str(small), "--db", str(db), "--workers", "1",
                            "--out", str(tmp_path / "out2"), cwd=tmp_path)
        assert second.returncode == 4
        assert time.monotonic() - started < 30
        assert "another audit holds the store" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert not (tmp_path / "out2").exists()
        waiting = start("audit", "--manifest", str(small), "--db", str(db), "--workers", "1",
                        "--out", str(tmp_path / "out3"), "--wait", "-q", cwd=tmp_path)
        time.sleep(0.5)
        assert waiting.poll() is None  # queued behind the first
    finally:
        first.wait(timeout=300)
    assert first.returncode == 1
    assert waiting.wait(timeout=300) == 1, waiting.stderr.read() if waiting.stderr else ""
    states = rows(db, "SELECT state FROM audits ORDER BY started_at")
    assert states == [("complete",), ("complete",)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "SELECT count(*) FROM pages")[0][0] == 300  # the small crawl: same URLs


def test_config_file_keeps_the_crontab_line_short(tmp_path: Path) -> None:
    crawl(tmp_path / "crawl", 3)
    (tmp_path / "compliance.toml").write_text(
        'db = "state/audits.sqlite"\n'
        'out = "reports"\n'
        'manifest = "crawl/manifest.jsonl"\n'
        'fail_on = "new"\n'
        'log_format = "json"\n'
        'evidence_dir = "state/evidence"\n'
        'workers = 1\n'
        "[fetch]\nper_host_delay = 0.5\n"
    )
    elsewhere = tmp_path / "cron-cwd"
    elsewhere.mkdir()
    env = {"COMPLIANCE_CONFIG": str(tmp_path / "compliance.toml")}
    run = compliance("audit", cwd=elsewhere, env=env)
    assert run.returncode == 1, run.stderr  # new violations
    assert (tmp_path / "reports" / "findings.jsonl").exists()
    assert (tmp_path / "state" / "audits.sqlite").exists()
    assert list((tmp_path / "state" / "evidence").rglob("*.warc.gz"))
    (summary,) = [json.loads(x) for x in run.stderr.splitlines()]
    assert summary["event"] == "audit.finished" and summary["new"] == 2
    assert run.stdout == ""
    again = compliance("audit", cwd=elsewhere, env=env)
    assert again.returncode == 0  # nothing new
    override = compliance("audit", "--fail-on", "low", "--log-format", "text", cwd=elsewhere,
                          env=env)
    assert override.returncode == 1 and "since the previous audit: 0 new, 2 ongoing" in \
        override.stdout
    (tmp_path / "bad.toml").write_text('db = "x"\nfail_onn = "new"\n')
    bad = compliance("audit", "--config", str(tmp_path / "bad.toml"), cwd=elsewhere)
    assert bad.returncode == 2 and "unknown setting 'fail_onn'" in bad.stderr


def test_cron_output_is_plain(tmp_path: Path) -> None:
    manifest = crawl(tmp_path / "crawl", 3)
    db = tmp_path / "audits.sqlite"
    run = compliance("audit", "--manifest", str(manifest), "--db", str(db), "--workers", "1",
                     "--out", str(tmp_path / "out"), cwd=tmp_path, env={"TERM": "xterm-256color"})
    assert run.returncode == 1
    assert "\x1b[" not in run.stdout + run.stderr  # no colour, no progress bar off a terminal
    assert "since the previous audit: 2 new" in run.stdout
    quiet = compliance("audit", "--manifest", str(manifest), "--db", str(db), "--workers", "1",
                       "--out", str(tmp_path / "out"), "-q", cwd=tmp_path)
    assert quiet.returncode == 1 and quiet.stdout == "" and quiet.stderr == ""
    nostore = compliance("audit", "--manifest", str(manifest), "--db", "none", "--workers", "1",
                         "--out", str(tmp_path / "out2"), "--fail-on", "new", cwd=tmp_path)
    assert nostore.returncode == 1 and "since the previous audit" not in nostore.stdout


@pytest.mark.parametrize("flag", [[], ["--allow-private"]])
def test_urls_option_fetches_or_refuses_loopback(tmp_path: Path, flag: list[str]) -> None:
    import http.server
    import threading

    body = article(4).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            status, data = (404, b"") if self.path == "/robots.txt" else (200, body)
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        urls = tmp_path / "watch.txt"
        urls.write_text(f"# watch list\nhttp://127.0.0.1:{httpd.server_address[1]}/story\n")
        run = compliance("audit", "--urls", str(urls), "--db", str(tmp_path / "s.sqlite"),
                         "--out", str(tmp_path / "out"), "--workers", "1", *flag, cwd=tmp_path)
    finally:
        httpd.shutdown()
        httpd.server_close()
    errors = (tmp_path / "out" / "errors.jsonl").read_text()
    if flag:
        assert run.returncode == 1, run.stderr
        assert errors == ""
        (record,) = findings_of(tmp_path / "out")
        assert record["page"]["url"].endswith("/story") and record["page"]["fetched_at"]
    else:
        assert run.returncode == 3  # the only page could not be audited
        assert "private or local address" in errors
