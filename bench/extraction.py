"""Main-text quality on the article-extraction benchmark (AEB), so speed is never bought
with worse text.

    python bench/extraction.py [--pages ../shared/data/html-pages/aeb] [--no-snippets]

The benchmark's metric: the multiset of word 4-gram shingles of `\\w+` tokens of the
extracted text and of the ground truth; per page, precision and recall from their
overlap; each averaged over pages; F1 of the two averages. Prints F1 and pages/s for
our extraction and for trafilatura alone on the same in-memory pages.

A second check on pages that are not all news (trafilatura's own evaluation set,
../shared/data/html-pages/trafilatura-eval): the share of the "with" snippets found in
the extracted text (recall) and of the "without" snippets absent from it (precision),
whitespace-normalised, as trafilatura's evaluation counts them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

from compliance.extract.html import extract
from compliance.model import Page

ROOT = Path(__file__).resolve().parent.parent
AEB = ROOT.parent / "shared" / "data" / "html-pages" / "aeb"
TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = TOKEN.findall(text.lower())
    return Counter(tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1)))


def page_scores(extracted: str, truth: str) -> tuple[float, float]:
    got, want = shingles(extracted), shingles(truth)
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else (1.0 if not want else 0.0)
    recall = overlap / sum(want.values()) if want else 1.0
    return precision, recall


def evaluate(name: str, pages: list[tuple[bytes, str]],
             run: Callable[[bytes], str]) -> dict[str, object]:
    run(pages[0][0])  # warm up lazy imports and caches
    precisions, recalls = [], []
    start = time.perf_counter()
    texts = [run(raw) for raw, _ in pages]
    elapsed = time.perf_counter() - start
    for text, (_, truth) in zip(texts, pages, strict=True):
        precision, recall = page_scores(text, truth)
        precisions.append(precision)
        recalls.append(recall)
    p = sum(precisions) / len(precisions)
    r = sum(recalls) / len(recalls)
    return {"extractor": name, "pages": len(pages), "precision": round(p, 4),
            "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4),
            "pages_per_s": round(len(pages) / elapsed, 1)}


def ours(raw: bytes) -> str:
    try:
        return extract(Page(source="aeb", raw=raw, content_type="text/html")).text
    except ValueError:
        return ""


def trafilatura_fast(raw: bytes) -> str:
    result = trafilatura.bare_extraction(raw, fast=True, include_comments=False)
    return (getattr(result, "text", None) or "") if result else ""


def snippets(pages: list[tuple[bytes, list[str], list[str]]],
             run: Callable[[bytes], str]) -> dict[str, float]:
    found = wanted = absent = unwanted = 0
    for raw, with_, without in pages:
        text = " ".join(run(raw).split())
        wanted += len(with_)
        found += sum(" ".join(s.split()) in text for s in with_)
        unwanted += len(without)
        absent += sum(" ".join(s.split()) not in text for s in without)
    p, r = absent / unwanted, found / wanted
    return {"snippet_precision": round(p, 4), "snippet_recall": round(r, 4),
            "snippet_f1": round(2 * p * r / (p + r), 4)}


def eval_pages(folder: Path) -> list[tuple[bytes, list[str], list[str]]]:
    entries = json.loads((folder / "evaldata.json").read_text())
    pages = []
    for entry in entries.values():
        path = folder / f"{entry['file']}.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), entry.get("with") or [],
                          entry.get("without") or []))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=AEB)
    parser.add_argument("--no-snippets", action="store_true",
                        help="skip the snippet check on trafilatura's evaluation pages")
    args = parser.parse_args()
    truth = json.loads((args.pages / "ground-truth.json").read_text())
    pages = []
    for page_id, entry in sorted(truth.items()):
        path = args.pages / f"{page_id}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), entry.get("articleBody") or ""))
    for name, run in (("trafilatura fast", trafilatura_fast), ("compliance extract", ours)):
        print(json.dumps(evaluate(name, pages, run)))
    folder = args.pages.parent / "trafilatura-eval"
    if not args.no_snippets and folder.exists():
        others = eval_pages(folder)
        for name, run in (("trafilatura fast", trafilatura_fast), ("compliance extract", ours)):
            print(json.dumps({"extractor": name, "pages": len(others), **snippets(others, run)}))


if __name__ == "__main__":
    main()
