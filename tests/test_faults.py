"""Faults injected into real audits (issue #8, "nothing lost, nobody let in").

Each test breaks something for real rather than mocking it: SIGKILL at
random moments of the real command, a tmpfs filled to the last block, a
PostgreSQL server stopped under a running audit, another process holding
a SQLite write transaction, pages that are FIFOs, broken links, folders,
vanishing files or return EIO, and web servers that hang or trickle bytes.
After each fault the tool must say what went wrong (no traceback, no
secret), keep what it had committed, leave no half-written report, and
finish the job when run again.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import shutil
import signal
import socket
import socketserver
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.ingest.fetch import Fetcher, FetchSettings, fetch_all
from compliance.ingest.pages import iter_pages
from compliance.model import PageError
from compliance.report.writers import CSV_COLUMNS
from compliance.rulebook import Rulebook
from compliance.runner import run_audit

from .test_cron import COMMAND, compliance, crawl, findings_of, rows, start
from .test_store import DAY1, article

REPORTS = ("findings.jsonl", "errors.jsonl", "findings.csv", "report.html")
CRAWL_PAGES = 120  # two in three carry an AFP dateline: 80 findings


# --- shared helpers -------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real, small file system that fills up; skipped only where mounting is refused."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill ({done.stderr.strip() or 'not root'})")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Take all free space of folder's file system but `leave` bytes."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    filler = folder / "filler"
    with filler.open("wb") as handle:
        handle.truncate(0)
        chunk = b"\0" * (1 << 16)
        todo = max(0, free - leave)
        with contextlib.suppress(OSError):  # the last block may not fit exactly
            while todo > 0:
                todo -= handle.write(chunk[: min(len(chunk), todo)])
    return filler


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp")
                  or p.name.startswith(".tmp-"))


def whole(name: str, data: bytes) -> bool:
    """A report file as a finished writer leaves it (never a prefix of one)."""
    text = data.decode("utf-8")
    if name.endswith(".jsonl"):
        if text and not text.endswith("\n"):
            return False
        return all(isinstance(json.loads(line), dict) for line in text.splitlines())
    if name.endswith(".csv"):
        table = list(csv.reader(io.StringIO(text)))
        return bool(table) and table[0] == CSV_COLUMNS and all(
            len(row) == len(CSV_COLUMNS) for row in table)
    return text.rstrip().endswith("</html>")


def normalised(records: list[dict]) -> list[dict]:
    """Findings without what names the audit run (its id and time)."""
    return [{k: v for k, v in r.items() if k not in ("audit_id", "first_seen", "last_seen")}
            for r in records]


def store_dump(db: Path) -> dict[str, Counter]:
    """The audit store's content, minus audit ids and times (which differ between runs)."""
    return {
        "findings": Counter(rows(db, "SELECT id, status, severity, level, clause_id, agency, "
                                     "url, reason FROM findings")),
        "events": Counter(rows(db, "SELECT finding_id, status, previous, reason "
                                   "FROM finding_events")),
        "pages": Counter(rows(db, "SELECT key, url, sha256, state FROM pages")),
        "evidence": Counter(rows(db, "SELECT finding_id, page_sha256, url FROM evidence")),
        "audits": Counter(rows(db, "SELECT state FROM audits")),
    }


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.startswith("error: ") or "\nerror: " in stderr, stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One crawl and the outcome of its uninterrupted audit: what every faulty run must reach."""
    base = tmp_path_factory.mktemp("reference")
    manifest = crawl(base / "crawl", CRAWL_PAGES)
    small = crawl(base / "small", 3)
    db = base / "audits.sqlite"
    done = compliance("audit", "--manifest", str(manifest), "--db", str(db), "--out",
                      str(base / "out"), "--workers", "1", "-q", cwd=base)
    assert done.returncode == 1, done.stderr
    out = base / "out"
    older = compliance("audit", "--manifest", str(small), "--db", "none", "--out",
                       str(base / "older"), "--workers", "1", "-q", cwd=base)
    assert older.returncode == 1, older.stderr
    return {"manifest": manifest, "small": small, "db": db, "out": out,
            "older": snapshot(base / "older"),
            "findings": normalised(findings_of(out)), "csv": (out / "findings.csv").read_bytes(),
            "sizes": {name: (out / name).stat().st_size for name in REPORTS},
            "store": store_dump(db)}


def previous_report(out: Path, reference: dict[str, object]) -> dict[str, bytes]:
    """Put an older report (a small audit's) in `out` and return its bytes."""
    out.mkdir(parents=True, exist_ok=True)
    older: dict[str, bytes] = reference["older"]  # type: ignore[assignment]
    for name, data in older.items():
        (out / name).write_bytes(data)
    return snapshot(out)


def assert_same_as_reference(out: Path, db: Path, reference: dict[str, object]) -> None:
    assert normalised(findings_of(out)) == reference["findings"]
    assert (out / "findings.csv").read_bytes() == reference["csv"]
    assert (out / "errors.jsonl").read_text() == ""
    assert whole("report.html", (out / "report.html").read_bytes())
    assert store_dump(db) == reference["store"]  # nothing lost, nothing twice
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert temp_files(out) == []


# --- 1. SIGKILL at random points -----------------------------------------------------------

KILL_SEED = 20261128


def test_sigkill_at_random_points_then_rerun(tmp_path: Path,
                                              reference: dict[str, object]) -> None:
    """Six kills at seeded random moments (start-up, while pages are recorded, while the
    reports are written), each followed by a run that resumes: the end is the same as an
    audit never interrupted, and no report was ever seen half-written."""
    out = tmp_path / "out"
    previous = previous_report(out, reference)
    db = tmp_path / "audits.sqlite"
    args = ["audit", "--manifest", str(reference["manifest"]), "--db", str(db), "--out",
            str(out), "--workers", "1", "-q"]
    rng = random.Random(KILL_SEED)
    plan: list[tuple[str, float]] = [("seconds", rng.uniform(0.3, 1.5))]
    plan += [("pages", n) for n in sorted(rng.sample(range(5, CRAWL_PAGES - 10), 4))]
    plan += [("pages", CRAWL_PAGES)]  # every page recorded: the reports are being written
    seen: dict[str, set[bytes]] = {name: set() for name in REPORTS}
    landed = 0
    for kind, mark in plan:
        proc = start(*args, cwd=tmp_path)
        try:
            if kind == "seconds":
                time.sleep(mark)
            else:
                reached(db, int(mark), proc)
                time.sleep(rng.uniform(0, 0.05))
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        if proc.returncode == -signal.SIGKILL:
            landed += 1
        if db.exists():
            assert rows(db, "PRAGMA integrity_check") == [("ok",)]
            assert rows(db, "SELECT count(*) FROM audits")[0][0] <= 1  # resumed, never restarted
        for name, data in snapshot(out).items():
            if name in REPORTS:  # temporaries of the killed run are swept by the next
                assert whole(name, data), f"{name} half-written after a kill"
                seen[name].add(data)
    assert landed >= 5, f"only {landed} of {len(plan)} kills hit a running audit"
    assert rows(db, "SELECT count(*) FROM pages")[0][0] < CRAWL_PAGES or landed == len(plan)

    rerun = compliance(*args, cwd=tmp_path)
    assert rerun.returncode == 1, rerun.stderr
    assert_same_as_reference(out, db, reference)
    final = snapshot(out)
    for name in ("findings.jsonl", "findings.csv", "errors.jsonl"):
        assert seen[name] <= {previous[name], final[name]}, name  # old or new, never between
    assert list((db.parent / "evidence").rglob(".tmp-*")) == []


def reached(db: Path, pages: int, proc: subprocess.Popen[str], limit: float = 120) -> None:
    """Wait until the store holds `pages` pages (or the audit ended: the kill then misses)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(sqlite3.OperationalError, ValueError):
            if db.exists() and rows(db, "SELECT count(*) FROM pages")[0][0] >= pages:
                return
        time.sleep(0.01)


# --- 2. disk full ---------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["findings.jsonl", "report.html"])
def test_disk_full_while_writing_reports(tmp_path: Path, reference: dict[str, object],
                                         failing: str) -> None:
    """The reports' file system fills up while `failing` is written (findings.jsonl: during
    the audit; report.html: last, when the other files are already finished): a clear
    message naming the file, the previous report untouched (not one file of it replaced),
    no temporary file left; once there is room, the next run completes the audit."""
    sizes: dict[str, int] = reference["sizes"]  # type: ignore[assignment]
    before = {"findings.jsonl": 0, "findings.csv": sizes["findings.jsonl"],
              "report.html": sizes["findings.jsonl"] + sizes["findings.csv"]}[failing]
    with tmpfs(tmp_path / "disk", "4m") as disk:
        out = disk / "out"
        previous = previous_report(out, reference)
        filler = fill(disk, leave=before + sizes[failing] // 2)
        db = tmp_path / "audits.sqlite"
        args = ["audit", "--manifest", str(reference["manifest"]), "--db", str(db), "--out",
                str(out), "--workers", "1", "-q"]
        full = compliance(*args, cwd=tmp_path, timeout=120)
        assert full.returncode == 2, full.stderr
        no_traceback(full.stderr)
        assert f"cannot write {out / failing}: No space left on device" in full.stderr
        assert "previous reports" in full.stderr and "free some space" in full.stderr
        assert snapshot(out) == previous
        assert temp_files(out) == []
        filler.unlink()
        again = compliance(*args, cwd=tmp_path, timeout=120)
        assert again.returncode == 1, again.stderr
        assert_same_as_reference(out, db, reference)


def test_disk_full_while_keeping_evidence(tmp_path: Path, reference: dict[str, object]) -> None:
    """The evidence folder's file system is full: the audit stops with a message naming the
    folder, keeps no finding without its evidence, and the next run completes it."""
    out = tmp_path / "out"
    previous = previous_report(out, reference)
    db = tmp_path / "audits.sqlite"
    args = ["audit", "--manifest", str(reference["manifest"]), "--db", str(db), "--out",
            str(out), "--workers", "1", "-q"]
    with tmpfs(tmp_path / "disk", "1m") as disk:
        evidence = disk / "evidence"
        evidence.mkdir()
        filler = fill(disk, leave=0)
        env = {"COMPLIANCE_EVIDENCE": str(evidence)}
        full = compliance(*args, cwd=tmp_path, env=env)
        assert full.returncode == 2, full.stderr
        no_traceback(full.stderr)
        assert f"cannot write evidence to {evidence}: No space left on device" in full.stderr
        assert "next run resumes this audit" in full.stderr
        assert snapshot(out) == previous
        assert temp_files(evidence) == []
        assert rows(db, "SELECT count(*) FROM findings")[0][0] == 0  # no finding unbacked
        filler.unlink()
        again = compliance(*args, cwd=tmp_path, env=env)
        assert again.returncode == 1, again.stderr
        assert normalised(findings_of(out)) == reference["findings"]
        kept = rows(db, "SELECT count(DISTINCT warc_sha256) FROM evidence")[0][0]
        assert kept == len(list(evidence.rglob("*.warc.gz"))) == CRAWL_PAGES * 2 // 3
        verify = compliance("evidence", "verify", "--db", str(db), cwd=tmp_path, env=env)
        assert verify.returncode == 0, verify.stdout + verify.stderr


# --- 3. PostgreSQL stopped mid-audit --------------------------------------------------------

PG_PASSWORD = "pw-never-in-logs-7f3a"  # trust authentication: accepted and ignored


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found or shutil.which("runuser") is None:
        return None
    return found[-1].parent


class Cluster:
    """A throwaway PostgreSQL cluster of this test's own (the shared one is never stopped)."""

    def __init__(self, binaries: Path):
        self.bin = binaries
        self.dir = Path(tempfile.mkdtemp(prefix="compliance-faults-pg-"))
        shutil.chown(self.dir, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._as_postgres("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U",
                          "postgres")

    def _as_postgres(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / tool), *args],
                       check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
                          "-w", "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} "
                          f"-k {self.dir} -c fsync=off", "start")

    def stop(self, mode: str) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:{self.port}/postgres"

    def count(self, sql: str) -> int:
        import psycopg

        with psycopg.connect(self.url.replace(PG_PASSWORD + "@", "@"), connect_timeout=5) as c:
            return int(c.execute(sql).fetchone()[0])  # type: ignore[index]

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    binaries = _pg_bin()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    own = Cluster(binaries)
    try:
        own.start()
        yield own
    finally:
        own.remove()


def test_postgresql_stopped_mid_audit(tmp_path: Path, cluster: Cluster,
                                      reference: dict[str, object]) -> None:
    """The server is shut down (immediate mode: no goodbye to clients) while pages are being
    recorded: exit 2 with a message that names the store but not its password, the previous
    report intact; after the restart the store is consistent and a rerun completes."""
    out = tmp_path / "out"
    previous = previous_report(out, reference)
    args = ["audit", "--manifest", str(reference["manifest"]), "--db", cluster.url, "--out",
            str(out), "--workers", "1", "--log-format", "json"]
    env = {"COMPLIANCE_EVIDENCE": str(tmp_path / "evidence")}
    proc = subprocess.Popen([*COMMAND, *args], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(Exception):  # tables not there yet
                if cluster.count("SELECT count(*) FROM pages") >= 40:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the audit ended before the server could be stopped"
        committed = cluster.count("SELECT count(*) FROM pages")
        cluster.stop("immediate")
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr and PG_PASSWORD not in stderr + stdout
    assert f"127.0.0.1:{cluster.port}" in stderr  # names the store…
    assert "postgres:***@" in stderr  # …with the password masked
    # the driver's own words, whichever moment of the shutdown the audit met
    assert any(words in stderr for words in (
        "server closed the connection", "Connection refused", "database system is shutting down"))
    assert "[SQL:" not in stderr and "next run resumes this audit" in stderr
    assert snapshot(out) == previous

    cluster.start()
    assert cluster.count("SELECT count(*) FROM pages") >= committed  # nothing committed lost
    assert cluster.count("SELECT count(*) FROM audits WHERE state = 'running'") == 1
    rerun = compliance(*args, cwd=tmp_path, env=env)
    assert rerun.returncode == 1, rerun.stderr
    assert normalised(findings_of(out)) == reference["findings"]
    found = len(reference["findings"])  # type: ignore[arg-type]
    assert cluster.count("SELECT count(*) FROM findings") == found
    assert cluster.count("SELECT count(*) FROM finding_events") == found  # nothing twice
    assert cluster.count("SELECT count(*) FROM pages") == CRAWL_PAGES
    assert cluster.count("SELECT count(*) FROM audits WHERE state = 'complete'") == 1
    assert cluster.count("SELECT count(*) FROM audits") == 1  # resumed, not started anew


# --- 4. a SQLite store locked by another program --------------------------------------------

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""
SHORT_BUSY = ("import compliance.store.store as s; s.SQLITE_BUSY_SECONDS = 1.0; "
              "from compliance.cli import main; main()")


@contextlib.contextmanager
def write_locked(db: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holds a write transaction (BEGIN EXCLUSIVE) on the store."""
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        yield locker
    finally:
        locker.kill()
        locker.wait()


def test_sqlite_store_locked_by_another_program(tmp_path: Path,
                                                reference: dict[str, object]) -> None:
    """Held longer than SQLite's busy wait (shortened to 1 s here): exit 2 naming the store,
    nothing written; held briefly: the audit waits and completes."""
    small = reference["small"]
    db = tmp_path / "audits.sqlite"
    out = tmp_path / "out"
    args = ["audit", "--manifest", str(small), "--db", str(db), "--out", str(out),
            "--workers", "1", "-q"]
    first = compliance(*args, cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    before, previous = store_dump(db), snapshot(out)
    (tmp_path / "crawl2").mkdir()
    more = crawl(tmp_path / "more", 6)  # three more pages than the first audit saw
    args[2] = str(more)
    with write_locked(db, 60):
        locked = subprocess.run([sys.executable, "-c", SHORT_BUSY, *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60, check=False)
    assert locked.returncode == 2, locked.stderr
    no_traceback(locked.stderr)
    assert str(db) in locked.stderr and "database is locked" in locked.stderr
    assert "[SQL:" not in locked.stderr
    assert store_dump(db) == before and snapshot(out) == previous  # nothing written
    with write_locked(db, 2):
        waited = compliance(*args, cwd=tmp_path, timeout=60)
    assert waited.returncode == 1, waited.stderr
    assert rows(db, "SELECT count(*) FROM pages")[0][0] == 6
    assert rows(db, "SELECT state FROM audits") == [("complete",), ("complete",)]


# --- 5. unreadable pages --------------------------------------------------------------------


def unreadable(folder: Path) -> dict[str, str]:
    """Faults root cannot read past (chmod would not stop root), each under a page's name,
    with what errors.jsonl must say about it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a-folder.html").mkdir()
    (folder / "broken-link.html").symlink_to(folder / "gone-for-good.html")
    os.mkfifo(folder / "fifo.html")  # open() would wait for a writer for ever
    os.mkfifo(folder / "fifo.warc")  # WARC files are opened by another reader
    (folder / "eio.html").symlink_to("/proc/self/mem")  # reading offset 0 fails with EIO
    return {"a-folder.html": "not a regular file but a folder",
            "broken-link.html": "broken symbolic link",
            "fifo.html": "FIFO",
            "fifo.warc": "FIFO",
            "eio.html": "Input/output error"}


def test_unreadable_pages_are_error_lines(tmp_path: Path) -> None:
    """Named in a manifest or met in a folder, every unreadable page is one errors.jsonl line
    naming its path; the other pages are audited and nothing hangs."""
    crawl_dir = tmp_path / "crawl"
    manifest = crawl(crawl_dir, 4)
    faults = unreadable(crawl_dir)
    with manifest.open("a") as handle:
        for name in faults:
            handle.write(json.dumps({"path": name, "url": f"https://copycat.example/{name}"})
                         + "\n")
    for label, pages in (("manifest", ["--manifest", str(manifest)]),
                         ("folder", [str(crawl_dir)])):
        out = tmp_path / label
        done = compliance("audit", *pages, "--db", "none", "--out", str(out), "--workers", "1",
                          "-q", "--max-error-ratio", "0.6", cwd=tmp_path, timeout=60)
        assert done.returncode == 1, done.stderr  # violations on the readable pages
        errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
        by_name = {Path(e["source"]).name: e for e in errors}
        # in a folder, a sub-folder named like a page is searched, not read
        expected = {k: v for k, v in faults.items()
                    if label == "manifest" or k != "a-folder.html"}
        assert len(errors) == len(by_name) == len(expected), errors
        for name, says in expected.items():
            assert by_name[name]["stage"] == "load" and says in by_name[name]["error"], name
        audited = {Path(r["page"]["source"]).name for r in findings_of(out)}
        assert audited == {"p0001.html", "p0002.html"}  # the credited ones among the four


def test_page_vanishing_between_listing_and_reading(tmp_path: Path, rulebook: Rulebook) -> None:
    """A folder is listed, then a page is deleted before its turn (a crawler's cleanup):
    one error line naming it, the rest audited."""
    folder = tmp_path / "crawl"
    crawl(folder, 3)
    victim = folder / "p0002.html"

    def pages() -> Iterator[object]:
        for n, item in enumerate(iter_pages([folder])):
            if n == 0:
                victim.unlink()  # the listing is done: p0002 is already on it
            yield item

    outcome = run_audit(pages(), rulebook, tmp_path / "out", now=DAY1)  # type: ignore[arg-type]
    (error,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text()
                .splitlines()]
    assert error["source"] == str(victim) and error["error"] == "no such file"
    assert outcome.stats.pages == 2 and outcome.stats.errors == 1


# --- 6. web servers that hang or trickle ----------------------------------------------------


class Misbehaving(socketserver.BaseRequestHandler):
    """Answers robots.txt and /news/N properly; /hang never answers; /drip-head and
    /drip-body send one byte every half second for as long as the client listens."""

    stop: threading.Event

    def handle(self) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            request += chunk
        path = request.split(b" ", 2)[1].decode()
        with contextlib.suppress(OSError):
            if path == "/robots.txt":
                self.request.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            elif path.startswith("/news/"):
                body = article(int(path.rsplit("/", 1)[1])).encode()
                self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            elif path == "/hang":
                self.stop.wait()
            elif path in ("/drip-head", "/drip-body"):
                if path == "/drip-head":
                    self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Filler: ")
                else:
                    self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                         b"Content-Length: 1000000\r\n\r\n<html>")
                while not self.stop.wait(0.5):
                    self.request.sendall(b"x")


@pytest.fixture
def misbehaving() -> Iterator[str]:
    stop = threading.Event()
    handler = type("Handler", (Misbehaving,), {"stop": stop})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


SLOW = ("/hang", "/drip-head", "/drip-body")


def test_hanging_and_trickling_servers_meet_the_deadline(misbehaving: str,
                                                         rulebook: Rulebook,
                                                         tmp_path: Path) -> None:
    """Per-read timeouts never fire on a server that drips a byte every half second: the
    per-URL deadline (total_timeout, 2 s here, retries included) stops each slow URL, which
    becomes an error naming it, while the good pages are audited."""
    urls = [f"{misbehaving}/news/1", *(misbehaving + p for p in SLOW), f"{misbehaving}/news/2"]
    settings = FetchSettings(allow_private=True, per_host_delay=0.0, per_host_concurrency=8,
                             timeout=30.0, total_timeout=2.0, retries=3, backoff=0.1)
    results: list[object] = []

    def fetch() -> None:
        with Fetcher(settings) as fetcher:
            results.extend(fetch_all(urls, fetcher))

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(timeout=45)  # the deadline is 2 s; a hang would never return
    assert not worker.is_alive(), "a slow server held the fetcher past its deadline"
    assert [type(r).__name__ for r in results] == ["CapturedPage", *["PageError"] * 3,
                                                   "CapturedPage"]
    for url, error in zip(urls[1:4], results[1:4], strict=True):
        assert isinstance(error, PageError) and error.stage == "fetch"
        assert error.source == url and f"no complete answer from {url} within 2s" in \
            error.message
    outcome = run_audit(iter(results), rulebook, tmp_path / "out", now=DAY1,  # type: ignore[arg-type]
                        max_error_ratio=1.0)
    assert outcome.stats.pages == 2 and outcome.stats.errors == 3


def test_audit_of_slow_urls_from_the_command_line(misbehaving: str, tmp_path: Path) -> None:
    """The same through `compliance audit --urls` with the deadline from the config file:
    the command ends, exit 3 (pages failed), one error line per slow URL."""
    watch = tmp_path / "watch.txt"
    watch.write_text("\n".join([f"{misbehaving}/news/3", *(misbehaving + p for p in SLOW)])
                     + "\n")
    config = tmp_path / "compliance.toml"
    config.write_text("[fetch]\nper_host_delay = 0.0\nper_host_concurrency = 4\n"
                      "timeout = 30\ntotal_timeout = 2\nretries = 2\n")
    done = compliance("audit", "--urls", str(watch), "--allow-private", "--config", str(config),
                      "--db", "none", "--out", str(tmp_path / "out"), "--workers", "1", "-q",
                      cwd=tmp_path, timeout=60)
    assert done.returncode == 3, done.stderr
    errors = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text()
              .splitlines()]
    assert sorted(e["url"] for e in errors) == sorted(misbehaving + p for p in SLOW)
    assert all("within 2s" in e["error"] and e["stage"] == "fetch" for e in errors)
    (finding,) = findings_of(tmp_path / "out")
    assert finding["page"]["url"] == f"{misbehaving}/news/3"
