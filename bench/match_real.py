"""Match-step cost on the real web pages against a large dispatch index.

    python bench/match_real.py [--index DB] [--cache FILE] [--profile N] [--dump FILE]

The 1,213 real pages (../shared/data/html-pages) are extracted once (pages whose
extraction fails are skipped; --cache keeps the documents so that later runs, and
runs of another version of the matcher, see the very same text), matched once to
warm SQLite's page cache and the dictionaries, then timed. Almost none of them
reproduces a dispatch of the generated index, so this measures the cost of
rejecting candidates, which is what most real pages pay. --dump writes every
match (id, kind, score, coverages) to compare two versions' results; --profile N
prints the N heaviest functions (cProfile, cumulative and own time).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import pickle
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import PAGES, load_pages

from compliance.extract.html import extract
from compliance.index import DispatchIndex
from compliance.model import Document


def documents(cache: Path | None) -> list[Document]:
    """The real pages' documents, from the cache when it exists."""
    if cache and cache.is_file():
        return pickle.loads(cache.read_bytes())
    docs = []
    for page in load_pages(PAGES):
        with contextlib.suppress(Exception):  # a benchmark measures, it does not stop
            docs.append(extract(page))
    if cache:
        cache.write_bytes(pickle.dumps(docs))
    return docs


def run(index: DispatchIndex, docs: list[Document]) -> tuple[float, list[list[tuple]]]:
    """Seconds for matching every document once, and what was found."""
    found = []
    started = time.perf_counter()
    for doc in docs:
        found.append([(m.dispatch_id, m.kind, m.score, m.coverage, m.page_coverage,
                       m.matched_words, len(m.passages)) for m in index.match(doc)])
    return time.perf_counter() - started, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/scale100k.sqlite"))
    parser.add_argument("--cache", type=Path, help="pickle of the extracted documents")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes (best is kept)")
    parser.add_argument("--profile", type=int, default=0, help="print the N heaviest functions")
    parser.add_argument("--dump", type=Path, help="write every match here (JSON)")
    args = parser.parse_args()
    docs = documents(args.cache)
    with DispatchIndex.open(args.index) as index:
        run(index, docs)  # warm-up: page cache, dictionaries, lazy imports
        best, found = min(run(index, docs) for _ in range(args.repeat))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run(index, docs)
            profiler.disable()
    matched = sum(bool(f) for f in found)
    print(f"{len(docs)} pages, {matched} with matches, {sum(map(len, found))} matches")
    print(f"match step: {1000 * best / len(docs):.2f} ms/page ({len(docs) / best:.1f} pages/s)")
    if args.profile:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
    if args.dump:
        args.dump.write_text(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
