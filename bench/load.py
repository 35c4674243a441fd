"""Load: a long audit keeps its memory and error rate flat; a big store answers `history` fast.

    python bench/load.py [--pages 20000] [--workers 2] [--findings 1000000]
                         [--part audit,store] [--backends sqlite,postgresql] [--keep DIR]

Part `audit` runs the real command (`compliance audit --workers N` with a
SQLite store) over the real pages of ../shared/data/html-pages repeated under
distinct URLs (a manifest, as bench/throughput.py does), samples the RSS of
the whole process tree every half second, and prints pages/s, peak RSS, RSS
in the first and last quarter of the run, and errors in the first and second
half. Every page file comes back ~16 times, so a page that fails once must
fail every time: anything else is error growth. The run must exit normally
and the store must hold every page that did not fail.

Part `store` fills a store through the tool's own schema (the tables and
indexes `Store.migrate` creates) with bulk inserts: 100,000 pages with ten
findings each over five nightly audits, statuses moving new -> open ->
resolved -> new and some notice_sent, so that history events exist. Then it
times what users run: `compliance history` (first rows and --limit), status
filters, one finding's history, and the CSV export streamed to the end.
PostgreSQL is measured too when COMPLIANCE_TEST_PG names a server.

Figures depend on the machine; a shared two-core machine is slower and noisier.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "data" / "html-pages"
URL = re.compile(r"https://site(\d+)\.example/a/\d+")


# --- part 1: a long audit ------------------------------------------------------------------


class TreeSampler(threading.Thread):
    """RSS of a process and all its children, sampled until stopped."""

    def __init__(self, process: Any, every: float = 0.5):
        super().__init__(daemon=True)
        self.process = process
        self.every = every
        self.samples: list[tuple[float, int]] = []  # (seconds since start, bytes)
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        start = time.perf_counter()
        while not self.done.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                rss = 0
                for proc in tree:
                    with contextlib.suppress(psutil.Error):  # a worker that just ended
                        rss += proc.memory_info().rss
                self.samples.append((time.perf_counter() - start, rss))
            except psutil.Error:
                pass
            self.done.wait(self.every)


def write_manifest(files: list[Path], count: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(json.dumps({"path": str(files[i % len(files)]),
                                  "url": f"https://site{i}.example/a/{i}",
                                  "fetched_at": "2026-11-20T00:00:00Z"}) + "\n")


def quarter_rss(samples: list[tuple[float, int]], elapsed: float) -> dict[str, float]:
    """Mean and max RSS (MiB) of the first and the last quarter of the run."""
    first = [rss for t, rss in samples if t <= elapsed / 4]
    last = [rss for t, rss in samples if t >= elapsed * 3 / 4]
    mib = 2**20
    return {
        "first_quarter_mean_mib": round(sum(first) / max(1, len(first)) / mib, 1),
        "first_quarter_max_mib": round(max(first, default=0) / mib, 1),
        "last_quarter_mean_mib": round(sum(last) / max(1, len(last)) / mib, 1),
        "last_quarter_max_mib": round(max(last, default=0) / mib, 1),
    }


def error_growth(errors: list[dict[str, Any]], files: list[Path], count: int) -> dict[str, Any]:
    """Errors per half, and page files that failed in some repetitions but not in others."""
    halves = [0, 0]
    failed: dict[int, set[int]] = defaultdict(set)  # file number -> repetitions that failed
    stages: Counter[str] = Counter()
    for error in errors:
        match = URL.fullmatch(str(error.get("url") or ""))
        if not match:
            continue
        i = int(match.group(1))
        halves[0 if i < count // 2 else 1] += 1
        failed[i % len(files)].add(i)
        stages[f"{error.get('stage')}: {str(error.get('error'))[:60]}"] += 1
    inconsistent = []
    for number, seen in failed.items():
        repetitions = len(range(number, count, len(files)))
        if len(seen) != repetitions:
            inconsistent.append({"file": files[number].name, "failed": len(seen),
                                 "of": repetitions})
    return {"errors_first_half": halves[0], "errors_second_half": halves[1],
            "files_failing": len(failed), "files_failing_only_sometimes": inconsistent,
            "error_kinds": dict(stages.most_common(8))}


def long_audit(files: list[Path], count: int, workers: int, root: Path) -> dict[str, Any]:
    import psutil

    manifest = root / "manifest.jsonl"
    write_manifest(files, count, manifest)
    db, out = root / "audits.sqlite", root / "out"
    env = {**os.environ, "COMPLIANCE_EVIDENCE": str(root / "evidence")}
    command = [sys.executable, "-m", "compliance", "audit", "--manifest", str(manifest),
               "--out", str(out), "--workers", str(workers), "-q", "--db", str(db),
               "--max-error-ratio", "1", "--fail-on", "none"]
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    sampler = TreeSampler(process)
    sampler.start()
    _, err = process.communicate()
    elapsed = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()
              if line.strip()] if (out / "errors.jsonl").exists() else []
    findings = sum(1 for _ in (out / "findings.jsonl").open()) \
        if (out / "findings.jsonl").exists() else 0
    with sqlite3.connect(db) as conn:
        stored_pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        stored_findings = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
        states = dict(conn.execute("SELECT state, count(*) FROM audits GROUP BY state"))
    complete = (process.returncode == 0 and states == {"complete": 1}
                and stored_pages + len(errors) == count and stored_findings == findings)
    return {
        "pages": count, "workers": workers, "exit_status": process.returncode,
        "stderr_tail": err.decode(errors="replace")[-400:],
        "seconds": round(elapsed, 1), "pages_per_s": round(count / elapsed, 1),
        "peak_rss_mib": round(max((r for _, r in sampler.samples), default=0) / 2**20, 1),
        "rss_samples": len(sampler.samples), **quarter_rss(sampler.samples, elapsed),
        **error_growth(errors, files, count),
        "errors": len(errors), "findings": findings, "store_pages": stored_pages,
        "store_findings": stored_findings, "audits": states, "completed": complete,
    }


# --- part 2: a store with a million findings -------------------------------------------------

AUDITS = 5  # nightly audits the findings were seen in
PER_PAGE = 10
WORDS = ["government", "minister", "said", "talks", "would", "continue", "after", "the",
         "strike", "workers", "union", "company", "shares", "rose", "fell", "percent",
         "market", "prices", "election", "vote", "parliament", "court", "ruling", "police",
         "officials", "reported", "storm", "flooding", "residents", "city", "region", "agency",
         "statement"]
CLAUSES = [("afp", "afp-no-redistribution"), ("afp", "afp-no-translation"),
           ("reuters", "reuters-no-redistribution"), ("dpa", "dpa-no-redistribution"),
           ("ap", "ap-attribution"), ("efe", "efe-no-translation")]


def audit_ids() -> list[tuple[str, str]]:
    days = [f"2026-11-{16 + d:02d}T02:15:00+00:00" for d in range(AUDITS)]
    return [(f"202611{16 + d:02d}T021500Z-{d:08x}", at) for d, at in enumerate(days)]


def life(rng: random.Random, first: int) -> tuple[list[tuple[int, str, str | None, str]], int]:
    """One finding's statuses over the audits from `first`: its events and last audit seen."""
    events: list[tuple[int, str, str | None, str]] = []
    status = "suppressed" if rng.random() < 0.01 else "new"
    events.append((first, status, None, "first seen"))
    last = first
    for a in range(first + 1, AUDITS):
        if status == "resolved":
            if rng.random() < 0.3:
                events.append((a, "new", "resolved", "shown again after it was resolved"))
                status, last = "new", a
            continue
        if rng.random() < 0.08:
            events.append((a, "resolved", status, "no longer shown on the page"))
            status = "resolved"
            continue
        last = a
        if status == "new":
            events.append((a, "open", "new", "seen again"))
            status = "open"
    if status in ("new", "open") and rng.random() < 0.03:
        events.append((-1, "notice_sent", status, "takedown notice sent"))  # -1: by hand
    return events, last


def record(rng: random.Random, fid: str, url: str, agency: str, clause: str) -> str:
    """A finding record of realistic size (about 1.5 KB: passages, evidence, explanation)."""
    text = " ".join(rng.choice(WORDS) for _ in range(60))
    body = {
        "id": fid, "severity": "high", "confidence": 0.97, "level": "violation",
        "clause": {"id": clause, "title": "No redistribution", "agency": agency},
        "actions": ["reproduce"], "page": {"url": url, "domain": url.split("/")[2],
                                           "sha256": f"{rng.getrandbits(256):064x}"},
        "dispatch": None, "match": {"kind": "marker", "score": None, "coverage": None},
        "licence": None, "explanation": text[:200], "suppressed": None,
        "evidence": [{"kind": "dateline", "marker": "dateline", "text": "PARIS (AFP) -",
                      "span": [0, 13], "zone": "main", "detail": "", "context": text}],
    }
    return json.dumps(body, sort_keys=True)


def fill(store: Any, count: int) -> dict[str, Any]:
    """`count` findings through the tool's tables; indexes rebuilt after the bulk load."""
    from sqlalchemy import insert, text

    from compliance.store.schema import audits, events, findings, pages

    rng = random.Random(2026)
    runs = audit_ids()
    manual_at = "2026-11-20T10:00:00+00:00"
    started = time.perf_counter()
    indexes = [i for t in (findings, events, pages) for i in t.indexes]
    with store.engine.begin() as conn:
        for index in indexes:
            index.drop(conn)  # loading is faster without them; the same ones come back below
        conn.execute(insert(audits), [
            {"id": i, "started_at": at, "finished_at": at, "state": "complete",
             "rulebook_digest": "r", "index_digest": "", "engine_digest": "e",
             "tool_version": "bench", "host": "bench", "pid": 0, "summary": "{}"}
            for i, at in runs])
    page_rows: list[dict[str, Any]] = []
    finding_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()

    def flush() -> None:
        with store.engine.begin() as conn:
            for table, rows in ((pages, page_rows), (findings, finding_rows),
                                (events, event_rows)):
                if rows:
                    conn.execute(insert(table), rows)
                    totals[table.name] += len(rows)
                    rows.clear()

    for p in range(count // PER_PAGE):
        first = min(AUDITS - 1, int(rng.expovariate(1.0)))  # most pages known since the first
        url = f"https://site{p % 5000}.example/story/{p}"
        page_last = first
        for j in range(PER_PAGE):
            fid = f"{rng.getrandbits(80):020x}"
            agency, clause = CLAUSES[(p + j) % len(CLAUSES)]
            history, last = life(rng, first)
            page_last = max(page_last, last)
            status_audit, status, reason = history[-1][0], history[-1][1], history[-1][3]
            finding_rows.append({
                "id": fid, "page_key": url, "status": status, "severity": "high",
                "level": "violation", "clause_id": clause, "agency": agency, "url": url,
                "first_seen": runs[first][1], "last_seen": runs[last][1],
                "first_audit": runs[first][0], "last_audit": runs[last][0],
                "status_audit": "manual" if status_audit < 0 else runs[status_audit][0],
                "reason": reason, "record": record(rng, fid, url, agency, clause)})
            for a, new, previous, why in history:
                event_rows.append({"finding_id": fid,
                                   "audit_id": "manual" if a < 0 else runs[a][0],
                                   "at": manual_at if a < 0 else runs[a][1], "status": new,
                                   "previous": previous, "reason": why})
            totals[f"status_{status}"] += 1
        page_rows.append({
            "key": url, "url": url, "sha256": f"{p:064x}", "fetched_at": None, "state": "ok",
            "http_status": None, "rulebook_digest": "r", "index_digest": "",
            "engine_digest": "e", "recheck_after": None, "first_seen": runs[first][1],
            "last_seen": runs[page_last][1], "audited_in": runs[first][0],
            "seen_in": runs[page_last][0]})
        if len(finding_rows) >= 20_000:
            flush()
    flush()
    loaded = time.perf_counter() - started
    with store.engine.begin() as conn:
        for index in indexes:
            index.create(conn)
        if store.dialect == "postgresql":
            conn.execute(text("ANALYZE"))  # what autovacuum does soon after a bulk load
    return {"findings": totals["findings"], "events": totals["finding_events"],
            "pages": totals["pages"],
            "statuses": {k[7:]: v for k, v in sorted(totals.items()) if k.startswith("status_")},
            "load_s": round(loaded, 1),
            "index_s": round(time.perf_counter() - started - loaded, 1)}


class Sink:
    """A stdout that only counts, and notes when the first line arrived."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.lines = 0

    def write(self, data: str) -> int:
        if self.first is None and data:
            self.first = time.perf_counter() - self.start
        self.lines += data.count("\n")
        return len(data)

    def flush(self) -> None:
        pass


def timed(target: str, *args: str) -> dict[str, Any]:
    """`compliance history ARGS` in this process: seconds to the first line and to the end."""
    from compliance.store.cli import history

    sink = Sink()
    real, sys.stdout = sys.stdout, sink  # type: ignore[assignment]
    try:
        history.main([*args, "--db", target], standalone_mode=False)
    finally:
        sys.stdout = real
    total = time.perf_counter() - sink.start
    return {"command": "compliance history " + " ".join(args), "lines": sink.lines,
            "first_line_s": round(sink.first or total, 3), "total_s": round(total, 3)}


def export_memory(target: str, root: Path) -> dict[str, Any]:
    """The full CSV export as users run it (a new process): time, rows/s and peak RSS."""
    import psutil

    out = root / "export.csv"
    command = [sys.executable, "-m", "compliance", "history", "--format", "csv", "--db", target]
    start = time.perf_counter()
    with out.open("w") as handle:
        process = psutil.Popen(command, stdout=handle, stderr=subprocess.PIPE)
        sampler = TreeSampler(process, every=0.2)
        sampler.start()
        _, err = process.communicate()
    elapsed = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if process.returncode:
        raise RuntimeError(err.decode(errors="replace"))
    rows = sum(1 for _ in out.open()) - 1
    startup = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compliance", "history", "--help"],
                   capture_output=True, check=True)
    return {"command": "compliance history --format csv > export.csv (new process)",
            "rows": rows, "seconds": round(elapsed, 1), "rows_per_s": round(rows / elapsed),
            "peak_rss_mib": round(max(r for _, r in sampler.samples) / 2**20, 1),
            "process_start_s": round(time.perf_counter() - startup, 2)}


def big_store(backend: str, count: int, root: Path) -> dict[str, Any]:
    from compliance.store import Store

    if backend == "sqlite":
        target = str(root / "big.sqlite")
        for leftover in root.glob("big.sqlite*"):
            leftover.unlink()
    else:
        from incremental import _fresh_pg_database  # the bench next door makes one per run

        target = _fresh_pg_database()
    store = Store.open(target)
    store.migrate()
    figures: dict[str, Any] = {"backend": backend, **fill(store, count)}
    rng = random.Random(7)
    with store.engine.connect() as conn:
        from sqlalchemy import select

        from compliance.store.schema import findings

        ids = conn.execute(select(findings.c.id).where(findings.c.status == "notice_sent")
                           .limit(50)).scalars().all()
        ids += conn.execute(select(findings.c.id).limit(5000)).scalars().all()
    store.close()
    queries = [
        ("--limit", "100"),
        ("--status", "new", "--status", "open", "--limit", "100"),
        ("--status", "resolved", "--limit", "100"),
        ("--status", "notice_sent"),
        ("--status", "suppressed", "--format", "jsonl"),
        ("--status", "new", "--status", "open", "--format", "csv", "--limit", "10000"),
        (),
        ("--status", "new", "--status", "open", "--format", "csv"),
    ]
    timed(target, "--limit", "1")  # imports and the first connection, once
    figures["queries"] = [timed(target, *q) for q in queries]
    one = [timed(target, fid) for fid in rng.sample(ids, 20)]
    figures["one_finding"] = {
        "command": "compliance history FINDING_ID (20 random findings)",
        "mean_s": round(sum(t["total_s"] for t in one) / len(one), 4),
        "max_s": max(t["total_s"] for t in one)}
    store = Store.open(target)
    started = time.perf_counter()
    resolved = store.resolved_in(audit_ids()[-1][0])
    figures["resolved_in_last_audit"] = {"rows": len(resolved),
                                         "s": round(time.perf_counter() - started, 3)}
    store.close()
    figures["export"] = export_memory(target, root)
    if backend == "sqlite":
        figures["store_mib"] = round(sum(p.stat().st_size for p in root.glob("big.sqlite*"))
                                     / 2**20)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages-dir", type=Path, default=PAGES)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--part", default="audit,store", help="comma-separated: audit, store")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="for part store; postgresql runs only with COMPLIANCE_TEST_PG")
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    args = parser.parse_args()
    parts = args.part.split(",")
    root = args.keep or Path(tempfile.mkdtemp(prefix="compliance-load-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        if "audit" in parts:
            from compliance.ingest.pages import expand_paths

            files = list(expand_paths([args.pages_dir]))
            folder = root / "audit"
            folder.mkdir(exist_ok=True)
            print(json.dumps({"audit": long_audit(files, args.pages, args.workers, folder)},
                             indent=2), flush=True)
        if "store" in parts:
            backends = [b for b in ("sqlite", "postgresql") if b in args.backends.split(",")]
            if not os.environ.get("COMPLIANCE_TEST_PG"):
                backends = [b for b in backends if b != "postgresql"]
            for backend in backends:
                print(json.dumps({"store": big_store(backend, args.findings, root)}, indent=2),
                      flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
