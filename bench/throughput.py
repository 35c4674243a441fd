"""How fast a full audit runs against what extraction alone costs, all in one run.

    python bench/throughput.py [--index10k DB] [--index100k DB] [--rounds N] [--memory] [--spark]

Every figure is measured in this one process run on the same pages, so the
ratios hold on a noisy machine:

- extraction alone (trafilatura `fast`, the floor) vs the full audit
  (extraction, attribution, index match, judgement, report writing), one worker;
- the same with a 10,000- and a 100,000-dispatch index (`--index10k/--index100k`,
  built by bench/index_scale.py), in `--rounds` fresh processes per index (3 unless
  told). Each round times trafilatura `fast` on the pages and then the indexed audit of
  the same pages in that one process (20 pages of each before timing; the dictionaries
  are loaded after trafilatura is timed, and the load time is printed as models_load_s).
  The ratio printed is the median of the rounds' ratios; every round is printed too.
  Pairing the two in one process keeps a slow minute of the machine from landing on one
  side of the ratio only; each round starts cold (word caches, anchor caches, SQLite's
  cache), as a real audit of new pages does;
- 1 worker vs 2 workers;
- with --memory: peak memory (whole process tree) of `compliance audit` over
  1,000 and 20,000 pages (the real pages repeated under distinct URLs), with all
  report formats and with `--format jsonl` alone;
- with --spark: the Spark engine in local mode vs the local engine on the same
  WARC files.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import trafilatura

from compliance.engines.local import open_index, run_local
from compliance.ingest.pages import expand_paths, load_page
from compliance.model import Page
from compliance.rulebook import Rulebook, load_rulebook
from compliance.runner import run_audit

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT.parent / "shared" / "data" / "html-pages"
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def load_pages(folder: Path) -> list[Page]:
    pages = [load_page(f) for f in expand_paths([folder])]
    return [p for p in pages if isinstance(p, Page)]


def rate(count: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return round(count / (time.perf_counter() - start), 1)


def trafilatura_only(pages: list[Page]) -> None:
    for page in pages:
        with contextlib.suppress(Exception):  # a benchmark measures, it does not stop
            trafilatura.bare_extraction(page.raw, fast=True, include_comments=False)


def full_audit(pages: list[Page], rulebook: Rulebook, workers: int,
               index_path: Path | None = None) -> None:
    with tempfile.TemporaryDirectory() as out:
        def engine(todo: Any) -> Any:
            return run_local(todo, rulebook, NOW, workers=workers, index_path=index_path)
        run_audit(iter(pages), rulebook, Path(out), now=NOW, engine=engine,
                  index=open_index(index_path), max_error_ratio=1.0)


def in_fresh_process(work: Callable[..., Any], *args: Any) -> Any:
    """`work(*args)` in a new interpreter: each index starts from the same state (no word
    caches, anchor caches or dictionaries left over from the run before it)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(work, *args).result()


def index_audit_rate(pages: list[Page], rulebook: Rulebook, index: Path) -> tuple[float, float]:
    """Pages/s of a 1-worker audit against `index`, and the seconds loading the dictionaries
    and the Chinese and Japanese reading models took. Loading them is a once-per-process
    cost, like starting Spark's JVM: done before timing, as are 20 pages to open the index
    and warm SQLite's page cache."""
    from compliance.index.anchors import load_readers
    from compliance.index.lexicon import SOURCES, available, lexicon

    started = time.perf_counter()
    for lang in SOURCES:
        lexicon(lang)
    available()
    load_readers()
    load_s = round(time.perf_counter() - started, 2)
    full_audit(pages[:20], rulebook, 1, index)
    return rate(len(pages), lambda: full_audit(pages, rulebook, 1, index)), load_s


def index_round(pages: list[Page], rulebook: Rulebook, index: Path) -> dict[str, float]:
    """One round, meant for a fresh process: trafilatura `fast` alone, then the audit
    against `index`, on the same pages."""
    trafilatura_only(pages[:20])  # its lazy imports and first-use tables
    floor = rate(len(pages), lambda: trafilatura_only(pages))
    index_rate, load_s = index_audit_rate(pages, rulebook, index)
    return {"trafilatura_fast_pages_per_s": floor, "audit_pages_per_s": index_rate,
            "cost_vs_extraction": round(floor / index_rate, 3), "models_load_s": load_s}


def speed(pages: list[Page], rulebook: Rulebook, indexes: dict[str, Path],
          rounds: int = 3) -> dict[str, Any]:
    n = len(pages)
    full_audit(pages[:20], rulebook, 1)  # warm caches and lazy imports
    figures: dict[str, Any] = {"pages": n}
    figures["trafilatura_fast_pages_per_s"] = rate(n, lambda: trafilatura_only(pages))
    figures["audit_1_worker_pages_per_s"] = rate(n, lambda: full_audit(pages, rulebook, 1))
    figures["audit_2_workers_pages_per_s"] = rate(n, lambda: full_audit(pages, rulebook, 2))
    floor = figures["trafilatura_fast_pages_per_s"]
    figures["cost_vs_extraction"] = round(floor / figures["audit_1_worker_pages_per_s"], 2)
    figures["speedup_2_workers"] = round(
        figures["audit_2_workers_pages_per_s"] / figures["audit_1_worker_pages_per_s"], 2)
    for name, path in indexes.items():
        runs = [in_fresh_process(index_round, pages, rulebook, path) for _ in range(rounds)]
        figures[f"index_{name}_rounds"] = runs
        figures[f"audit_index_{name}_pages_per_s"] = statistics.median(
            r["audit_pages_per_s"] for r in runs)
        figures[f"cost_vs_extraction_index_{name}"] = round(statistics.median(
            r["cost_vs_extraction"] for r in runs), 2)
    return figures


def peak_memory(files: list[Path], count: int, workers: int = 2,
                formats: str = "jsonl,html,csv") -> dict[str, Any]:
    """Peak RSS of the whole `compliance audit` process tree over `count` pages."""
    import psutil

    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.jsonl"
        with manifest.open("w") as out:
            for i in range(count):
                source = files[i % len(files)]
                out.write(json.dumps({"path": str(source), "url": f"https://site{i}.example/a/{i}",
                                      "fetched_at": "2026-11-20T00:00:00Z"}) + "\n")
        command = [sys.executable, "-m", "compliance", "audit", "--manifest", str(manifest),
                   "--out", str(Path(tmp) / "out"), "--workers", str(workers), "-q",
                   "--db", str(Path(tmp) / "audits.sqlite"),
                   "--max-error-ratio", "1", "--fail-on", "none", "--format", formats]
        start = time.perf_counter()
        process = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                try:
                    tree = [process, *process.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
                except psutil.Error:
                    pass
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, err = process.communicate()
        done.set()
        watcher.join()
        elapsed = time.perf_counter() - start
    if process.returncode not in (0, 1, 3):
        raise RuntimeError(err.decode(errors="replace"))
    return {"pages": count, "formats": formats, "peak_rss_mib": round(peak / 2**20, 1),
            "pages_per_s": round(count / elapsed, 1)}


def write_warcs(pages: list[Page], folder: Path, files: int) -> list[Path]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paths = []
    per_file = (len(pages) + files - 1) // files
    for f in range(files):
        path = folder / f"bench-{f:02d}.warc.gz"
        with path.open("wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for i, page in enumerate(pages[f * per_file:(f + 1) * per_file]):
                headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                           protocol="HTTP/1.1")
                url = f"https://warc{f}.example/page/{i}"
                record = writer.create_warc_record(url, "response", payload=io.BytesIO(page.raw),
                                                   http_headers=headers)
                writer.write_record(record)
        paths.append(path)
    return paths


def spark_vs_local(pages: list[Page], rulebook: Rulebook) -> dict[str, Any]:
    from compliance.engines.spark import _session, run_spark
    from compliance.ingest.pages import iter_pages

    with tempfile.TemporaryDirectory() as tmp:
        warcs = write_warcs(pages, Path(tmp), files=8)
        session = _session("local[2]")
        list(run_spark([str(w) for w in warcs[:1]], rulebook, NOW, Path(tmp) / "warm",
                       audit_id="warm", spark=session))  # start the JVM and workers first
        n = len(pages)
        local_rate = rate(n, lambda: list(run_local(iter_pages(warcs), rulebook, NOW, workers=2)))
        spark_rate = rate(n, lambda: list(run_spark([str(w) for w in warcs], rulebook, NOW,
                                                     Path(tmp) / "spark", audit_id="b",
                                                     spark=session)))
        session.stop()
    return {"pages": n, "warc_files": 8, "local_2_workers_pages_per_s": local_rate,
            "spark_local2_pages_per_s": spark_rate,
            "spark_overhead": round(local_rate / spark_rate, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--index10k", type=Path)
    parser.add_argument("--index100k", type=Path)
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh processes per index, each timing trafilatura and the audit")
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--spark", action="store_true")
    args = parser.parse_args()
    rulebook = load_rulebook(ROOT / "rules")
    pages = load_pages(args.pages)
    indexes = {k: v for k, v in (("10k", args.index10k), ("100k", args.index100k)) if v}
    print(json.dumps({"speed": speed(pages, rulebook, indexes, args.rounds)}, indent=2), flush=True)
    if args.memory:
        files = list(expand_paths([args.pages]))
        for formats in ("jsonl,html,csv", "jsonl"):  # the HTML and CSV reports hold findings
            small, large = peak_memory(files, 1_000, formats=formats), peak_memory(
                files, 20_000, formats=formats)
            print(json.dumps({"memory": [small, large], "growth": round(
                large["peak_rss_mib"] / small["peak_rss_mib"], 3)}, indent=2), flush=True)
    if args.spark:
        print(json.dumps({"spark": spark_vs_local(pages, rulebook)}, indent=2), flush=True)


if __name__ == "__main__":
    main()
