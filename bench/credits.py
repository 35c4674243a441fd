"""Score agency attribution on the hand-made wire-credit labels, and measure its cost.

    python bench/credits.py [--labels FILE] [--pages DIR] [--throughput]

Page level: a page labelled `wire` must be attributed to some agency; pages labelled
`mention` or `none` must not be. Right agency: among `wire` pages whose label names an
agency, the share whose best attribution is that agency (or its parent or sub-service).
Misses and false alarms are printed with their evidence so they can be studied.
With --throughput, every page under --pages is read once, then extraction alone
and the whole match step are timed on the same in-memory pages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import trafilatura

from compliance.audit import analyse
from compliance.extract.html import extract
from compliance.ingest.pages import expand_paths, load_page
from compliance.model import Page
from compliance.rulebook import Rulebook, load_rulebook

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def agency_ids(names: list[str], rulebook: Rulebook) -> set[str]:
    """Label names ('Reuters', 'dpa-AFX', 'Keystone-ATS') to rulebook ids."""
    lookup: dict[str, str] = {}
    for agency in rulebook.agencies.values():
        for name in [agency.id, agency.name, *agency.aliases, *agency.credits]:
            lookup.setdefault(name.lower(), agency.id)
    found = set()
    for name in names:
        key = name.lower()
        found.add(lookup.get(key, lookup.get(key.replace(" ", "-"), f"?{name}")))
    return found


def related(a: str, b: str, rulebook: Rulebook) -> bool:
    return a == b or b in rulebook.lineage(a) or a in rulebook.lineage(b)


def score(labels: Path, pages_dir: Path, rulebook: Rulebook) -> dict[str, float]:
    rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
    tp = fp = fn = tn = 0
    named = right = 0
    crashes = 0
    misses, alarms, wrong = [], [], []
    for row in rows:
        page = load_page(pages_dir / row["file"])
        if not isinstance(page, Page):
            crashes += 1
            continue
        try:
            analysis = analyse(page, rulebook)
        except Exception as exc:
            crashes += 1
            print(f"CRASH {row['file']}: {exc}", file=sys.stderr)
            continue
        got = [a.agency for a in analysis.attributions]
        is_wire = row["label"] == "wire"
        if is_wire and got:
            tp += 1
        elif is_wire:
            fn += 1
            misses.append((row, analysis))
        elif got:
            fp += 1
            alarms.append((row, analysis))
        else:
            tn += 1
        wanted = agency_ids([a for a in row["agencies"] if a != "unspecified"], rulebook)
        if is_wire and wanted:
            named += 1
            if got and any(related(got[0], w, rulebook) for w in wanted):
                right += 1
            else:
                wrong.append((row, analysis))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    for title, cases in (("MISSES", misses), ("FALSE ALARMS", alarms), ("WRONG AGENCY", wrong)):
        print(f"\n== {title} ({len(cases)})")
        for row, analysis in cases:
            print(
                f"- {row['file']}  label={row['label']} agencies={row['agencies']} "
                f"where={row['where']} evidence={row['evidence'][:90]!r}"
            )
            for attribution in analysis.attributions:
                for e in attribution.evidence[:3]:
                    print(f"    got {attribution.agency}: {e.kind}/{e.zone} {e.text[:90]!r}")
    return {
        "pages": len(rows),
        "wire": tp + fn,
        "not_wire": fp + tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "true_positives": tp,
        "false_alarms": fp,
        "misses": fn,
        "named_agency_pages": named,
        "right_agency": round(right / named, 4) if named else 1.0,
        "crashes": crashes,
    }


def throughput(pages_dir: Path, rulebook: Rulebook) -> dict[str, float]:
    """Pages/s of trafilatura alone, our extraction, and the whole match step, same pages."""
    files = list(expand_paths([pages_dir]))
    pages = [p for p in (load_page(f) for f in files) if isinstance(p, Page)]
    analyse(pages[0], rulebook)  # warm caches and lazy imports out of the timings

    def timed(work: object) -> tuple[float, int]:
        failures = 0
        start = time.perf_counter()
        for page in pages:
            try:
                work(page)  # type: ignore[operator]
            except Exception:
                failures += 1
        return time.perf_counter() - start, failures

    bare, _ = timed(
        lambda p: trafilatura.bare_extraction(
            p.raw, fast=True, with_metadata=True, include_comments=False
        )
    )
    ours, extract_failures = timed(extract)
    full, match_failures = timed(lambda p: analyse(p, rulebook))
    n = len(pages)
    return {
        "pages": n,
        "trafilatura_pages_per_s": round(n / bare, 1),
        "extract_pages_per_s": round(n / ours, 1),
        "match_pages_per_s": round(n / full, 1),
        "match_vs_extract": round(ours / full, 3),
        "match_vs_trafilatura": round(bare / full, 3),
        "extract_failures": extract_failures,
        "match_failures": match_failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=SHARED / "labels" / "wire-credit-dev.jsonl")
    parser.add_argument("--pages", type=Path, default=SHARED / "html-pages")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules")
    parser.add_argument("--throughput", action="store_true")
    args = parser.parse_args()
    rulebook = load_rulebook(args.rules)
    figures = score(args.labels, args.pages, rulebook)
    print("\n== ATTRIBUTION")
    print(json.dumps(figures, indent=2))
    if args.throughput:
        print("\n== THROUGHPUT (one process, one core)")
        print(json.dumps(throughput(args.pages, rulebook), indent=2))


if __name__ == "__main__":
    main()
