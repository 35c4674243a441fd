"""Incremental re-audit versus full audit, and the size of the audit store.

Writes N generated article pages (two in three credited to a wire agency,
so they become findings with evidence), audits them with the real command
into a fresh store, changes 1% of them, and audits again. Prints pages/s of
both runs and the bytes the store and the evidence folder take per 10,000
pages. Nothing leaves this machine; a PostgreSQL run is added when
COMPLIANCE_TEST_PG names a server.

    python bench/incremental.py [--pages 10000] [--changed 0.01] [--workers 2] [--keep DIR]
                                [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WORDS = [
    "government", "minister", "said", "on", "tuesday", "talks", "would", "continue", "after",
    "the", "strike", "workers", "union", "company", "shares", "rose", "fell", "percent",
    "market", "prices", "election", "vote", "parliament", "court", "ruling", "police",
    "officials", "reported", "storm", "flooding", "residents", "city", "region", "agency",
    "statement", "plans", "budget", "growth", "inflation", "bank", "rates", "exports", "energy",
    "prices", "climate", "summit", "leaders", "agreed",
]
CITIES = ["PARIS", "LYON", "BERLIN", "MADRID", "ROME", "LONDON", "BRUSSELS", "GENEVA"]
AGENCIES = ["AFP", "dpa", "Reuters"]


def page(n: int, version: int = 0) -> str:
    rng = random.Random(n * 1000 + version)
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(35, 70))).capitalize() + "."
        for _ in range(rng.randint(5, 9))
    ]
    if n % 3:
        agency = AGENCIES[n % len(AGENCIES)]
        paragraphs[0] = f"{CITIES[n % len(CITIES)]} ({agency}) - " + paragraphs[0]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/s/{n}/{i}">Section {i}</a></li>' for i in range(12))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Story {n}.{version}'
        f'</title></head><body><nav><ul>{nav}</ul></nav><article><h1>Story {n}</h1>{body}'
        f"</article><footer>© Example Site</footer></body></html>"
    )


def write_site(folder: Path, count: int) -> Path:
    lines = []
    for n in range(count):
        name = f"{n // 1000:02d}/p{n:05d}.html"
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page(n), encoding="utf-8")
        lines.append(json.dumps({"path": name, "url": f"https://copies.example/{n}",
                                 "fetched_at": "2026-11-20T08:00:00Z"}))
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def audit(manifest: Path, db: str, out: Path, evidence: Path, workers: int) -> tuple[float, int]:
    env = {**os.environ, "COMPLIANCE_EVIDENCE": str(evidence)}
    command = [sys.executable, "-c", "from compliance.cli import main; main()", "audit",
               "--manifest", str(manifest), "--db", db, "--out", str(out), "-q",
               "--workers", str(workers), "--log-format", "json"]
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"audit failed ({run.returncode}): {run.stderr[-2000:]}")
    return elapsed, run.returncode


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def lifecycle(out: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in (out / "findings.jsonl").read_text().splitlines():
        status = json.loads(line).get("status", "?")
        counts[status] = counts.get(status, 0) + 1
    resolved = out / "resolved.jsonl"
    if resolved.exists():
        counts["resolved"] = len(resolved.read_text().splitlines())
    return counts


def run(db_for: str, root: Path, count: int, changed: float, workers: int) -> dict[str, object]:
    site = root / "site"
    manifest = write_site(site, count) if not (site / "manifest.jsonl").exists() else \
        site / "manifest.jsonl"
    # restore the original pages (a previous backend's run changed some)
    for n in range(count):
        (site / f"{n // 1000:02d}/p{n:05d}.html").write_text(page(n), encoding="utf-8")
    evidence = root / f"evidence-{db_for}"
    shutil.rmtree(evidence, ignore_errors=True)
    db = str(root / "audits.sqlite") if db_for == "sqlite" else _fresh_pg_database()
    full, _ = audit(manifest, db, root / "out-full", evidence, workers)
    again, _ = audit(manifest, db, root / "out-same", evidence, workers)
    rng = random.Random(7)
    touched = rng.sample(range(count), max(1, int(count * changed)))
    for n in touched:
        (site / f"{n // 1000:02d}/p{n:05d}.html").write_text(page(n, version=1),
                                                             encoding="utf-8")
    incremental, _ = audit(manifest, db, root / "out-incremental", evidence, workers)
    result: dict[str, object] = {
        "backend": db_for,
        "pages": count,
        "changed": len(touched),
        "full_s": round(full, 1),
        "full_pages_per_s": round(count / full, 1),
        "unchanged_rerun_s": round(again, 1),
        "unchanged_pages_per_s": round(count / again, 1),
        "incremental_s": round(incremental, 1),
        "incremental_pages_per_s": round(count / incremental, 1),
        "speedup": round(full / incremental, 1),
        "lifecycle_after_change": lifecycle(root / "out-incremental"),
        "evidence_bytes_per_10k": round(size(evidence) * 10_000 / count),
    }
    if db_for == "sqlite":
        _checkpoint(Path(db))
        result["store_bytes_per_10k"] = round(size(Path(db)) * 10_000 / count)
    else:
        result["store_bytes_per_10k"] = round(_pg_size(db) * 10_000 / count)
    return result


def _checkpoint(db: Path) -> None:
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _fresh_pg_database() -> str:
    from sqlalchemy import create_engine, text

    dsn = os.environ["COMPLIANCE_TEST_PG"]
    name = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(dsn.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return dsn.rpartition("/")[0] + "/" + name


def _pg_size(dsn: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        empty = conn.execute(text("SELECT pg_database_size('template1')")).scalar()
    engine.dispose()
    return int(total) - int(empty)  # what the audits added to an empty database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated; postgresql runs only with COMPLIANCE_TEST_PG")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="compliance-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    wanted = args.backends.split(",")
    backends = [b for b in ("sqlite", "postgresql") if b in wanted]
    if not os.environ.get("COMPLIANCE_TEST_PG"):
        backends = [b for b in backends if b != "postgresql"]
    try:
        for backend in backends:
            print(json.dumps(run(backend, root, args.pages, args.changed, args.workers)),
                  flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
