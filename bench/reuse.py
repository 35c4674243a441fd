"""Score the dispatch index on real news: copies, partial and edited copies, translations.

    python bench/reuse.py [--data DIR] [--cache FILE] [--limit N] [--json FILE]

Half of the WMT22 source articles (../shared/data/wmt22-news, chosen by a hash of
the document id) are indexed as dispatches. Queried, each wrapped in an HTML page
with site chrome and extracted like any scraped page:
- same language: a full copy, a partial copy and an edited copy (sentences dropped,
  two swapped, words replaced, a foreign sentence added) of every source article;
- translations: every human reference and every MT system output of every article.
Variants and translations of the unindexed half are the hard negatives (same sites,
same weeks, same topics). Per group (same-language; Latin↔Latin; Latin↔Cyrillic;
Latin↔CJK) it prints recall, precision and the false-alarm rate at the index's own
threshold, then throughput of the match step (extraction excluded), and the seed
page's result. Extracted pages can be cached (--cache) to rerun quickly.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import pickle
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from compliance.extract.html import extract_html, extract_text
from compliance.index import Dispatch, DispatchIndex
from compliance.index.fingerprint import shingles
from compliance.model import Document

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
LATIN = {"en", "de", "fr", "cs", "hr"}
CYRILLIC = {"ru", "uk"}
CJK = {"zh", "ja"}


@dataclass(frozen=True)
class Query:
    group: str  # same | latin | cyrillic | cjk
    variant: str  # copy | partial | edited | ref:A | mt:system
    pair: str
    lang: str
    truth: str | None  # dispatch id when the source is indexed
    text: str


def group_of(src: str, tgt: str) -> str:
    if src == tgt:
        return "same"
    scripts = {src, tgt}
    if scripts & CJK:
        return "cjk"
    if scripts & CYRILLIC:
        return "cyrillic"
    return "latin"


def indexed(ident: str) -> bool:
    """Half of the articles, by a hash of the document id (without the language prefix)."""
    return hashlib.md5(ident.split(":", 1)[1].encode()).digest()[0] % 2 == 0


_SENTENCE = re.compile(r"(?<=[.!?。！？])[\"'”»)]*\s+|(?<=[。！？])")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def paragraphs(text: str, per: int = 3) -> list[str]:
    """WMT22 documents are one paragraph; pages have several."""
    sents = split_sentences(text)
    joiner = "" if any(ord(c) > 0x3000 for c in text[:200]) else " "
    return [joiner.join(sents[i : i + per]) for i in range(0, len(sents), per)] or [text]


def duplicates(
    sources: dict[str, tuple[str, str]],
    references: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
) -> dict[str, str]:
    """Each source → the first of its group of near-copies, in one language or across two.

    Some outlets republish the same wire text (two Czech sites carry one ČTK story):
    such articles are one dispatch, indexed or not together, or the benchmark would
    count a true copy as a false alarm. Some sources are translations of another
    source (an English RTÉ article and the Russian RFI one it was translated from): a
    human reference translation of the one (`references`: source id, language, text)
    then shares verbatim runs with the other, which no two independent texts do.
    """
    fingerprints = {i: set(shingles(t).hashes) for i, (_, t) in sources.items()}
    parent = {i: i for i in sources}

    def root(i: str) -> str:
        while parent[i] != i:
            i = parent[i]
        return i

    ids = sorted(sources)
    for a_at, a in enumerate(ids):
        for b in ids[a_at + 1 :]:
            if sources[a][0] != sources[b][0]:
                continue
            fa, fb = fingerprints[a], fingerprints[b]
            if fa and fb and len(fa & fb) >= 0.2 * min(len(fa), len(fb)):
                parent[root(b)] = root(a)
    for ident, lang, text in references:
        fr = set(shingles(text).hashes)
        for other in ids:
            fo = fingerprints[other]
            if sources[other][0] == lang and fr and fo and len(fr & fo) >= 0.1 * min(
                len(fr), len(fo)
            ):
                a, b = sorted((root(ident), root(other)))
                if a != b:
                    parent[b] = a
    return {i: root(i) for i in ids}


def load(data: Path) -> tuple[dict[str, tuple[str, str]], list[Query]]:
    raw: list[dict] = []
    sources: dict[str, tuple[str, str]] = {}
    for file in sorted((data / "wmt22-news").glob("*.jsonl")):
        for line in file.open(encoding="utf-8"):
            doc = json.loads(line)
            doc["pair"] = file.stem
            raw.append(doc)
            sources[f"{doc['src_lang']}:{doc['doc_id']}"] = (doc["src_lang"], " ".join(doc["src"]))
    references = [
        (f"{doc['src_lang']}:{doc['doc_id']}", doc["tgt_lang"], " ".join(text))
        for doc in raw for text in doc["refs"].values()
    ]
    same_as = duplicates(sources, references)
    queries: list[Query] = []
    for doc in raw:
        pair = doc["pair"]
        ident = same_as[f"{doc['src_lang']}:{doc['doc_id']}"]
        truth = ident if indexed(ident) else None
        group = group_of(doc["src_lang"], doc["tgt_lang"])
        outputs = [(f"ref:{k}", v) for k, v in doc["refs"].items()]
        outputs += [(f"mt:{k}", v) for k, v in doc["hyps"].items()]
        for name, text in outputs:
            joined = " ".join(text).strip()
            if joined:
                queries.append(Query(group, name, pair, doc["tgt_lang"], truth, joined))
    unindexed: dict[str, list[str]] = defaultdict(list)
    for ident, (lang, text) in sorted(sources.items()):
        if not indexed(same_as[ident]):
            unindexed[lang].append(text)
    for ident, (lang, text) in sorted(sources.items()):
        others = unindexed[lang]
        truth = same_as[ident] if indexed(same_as[ident]) else None
        for variant, body in same_language_variants(ident, text, others).items():
            queries.append(Query("same", variant, f"{lang}-{lang}", lang, truth, body))
    dispatches = {i: sources[i] for i in sources if same_as[i] == i and indexed(i)}
    return dispatches, queries


def same_language_variants(ident: str, text: str, others: list[str]) -> dict[str, str]:
    """A full copy, a 40% excerpt, and an edit; the added sentence is from an unindexed article."""
    rng = random.Random(ident)
    sents = split_sentences(text)
    cjk = any(ord(c) > 0x3000 for c in text[:200])
    joiner = "" if cjk else " "
    n = len(sents)
    size = max(2, round(n * 0.4))
    start = rng.randrange(0, max(1, n - size + 1))
    partial = joiner.join(sents[start : start + size])
    edited = [s for s in sents if rng.random() > 0.15] or sents[:]
    if len(edited) > 3:
        k = rng.randrange(0, len(edited) - 1)
        edited[k], edited[k + 1] = edited[k + 1], edited[k]
    edited = [_replace_words(s, rng, cjk) for s in edited]
    foreign = split_sentences(rng.choice([t for t in others if t != text] or [""]))
    if foreign:
        edited.insert(rng.randrange(0, len(edited) + 1), foreign[0])
    return {"copy": text, "partial": partial, "edited": joiner.join(edited)}


def _replace_words(sentence: str, rng: random.Random, cjk: bool) -> str:
    """About one word in ten swapped for a filler word (a sub-editor's rewording)."""
    fillers = ["also", "reportedly", "now", "then", "still", "indeed", "further"]
    if cjk:
        chars = list(sentence)
        for i in range(len(chars)):
            if rng.random() < 0.05:
                chars[i] = "也"
        return "".join(chars)
    words = sentence.split(" ")
    return " ".join(rng.choice(fillers) if rng.random() < 0.1 else w for w in words)


CHROME = """<header><nav class="menu"><a href="/">Home</a> <a href="/world">World</a>
<a href="/business">Business</a> <a href="/sport">Sport</a> <a href="/contact">Contact</a></nav>
</header>"""
SIDEBAR = """<aside class="sidebar"><h3>Most read</h3><ul>
<li><a href="/a1">Ten tips for a quieter garden this spring</a></li>
<li><a href="/a2">Local bakery wins regional award for the third year</a></li>
<li><a href="/a3">How to read your energy bill</a></li></ul>
<div class="ad-slot">Advertisement</div></aside>"""
FOOTER = """<footer><p>© 2026 Example Media Group. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a> | <a href="/cookies">Cookies</a></p>
<div class="newsletter">Subscribe to our newsletter for the day's headlines.</div></footer>"""


def wrap(query: Query) -> str:
    paras = paragraphs(query.text)
    title = paras[0][:90]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return (
        f'<!DOCTYPE html><html lang="{query.lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} | Example News</title></head><body>{CHROME}"
        f'<main><article><h1>{html.escape(title)}</h1><div class="byline">Staff writer</div>'
        f'<div class="article-body">{body}</div></article>{SIDEBAR}</main>{FOOTER}</body></html>'
    )


def extracted(queries: list[Query], cache: Path | None) -> list[Document]:
    digest = hashlib.sha256("\0".join(q.text for q in queries).encode()).hexdigest()
    if cache and cache.is_file():
        stored, docs = pickle.loads(cache.read_bytes())
        if stored == digest:
            return docs
    started = time.perf_counter()
    docs = [extract_html(wrap(q)) for q in queries]
    print(f"extracted {len(docs)} pages in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if cache:
        cache.write_bytes(pickle.dumps((digest, docs)))
    return docs


def build_index(path: Path, sources: dict[str, tuple[str, str]]) -> float:
    dispatches = [
        Dispatch(ident, "wmt", lang, None, "\n\n".join(paragraphs(text)))
        for ident, (lang, text) in sorted(sources.items())
    ]
    started = time.perf_counter()
    with DispatchIndex.open(path, read_only=False) as index:
        index.add(dispatches)
    return time.perf_counter() - started


def score(index: DispatchIndex, queries: list[Query], docs: list[Document]) -> dict[str, object]:
    tally: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    misses, alarms = [], []
    for query, doc in zip(queries, docs, strict=True):
        started = time.perf_counter()
        found = index.match(doc)
        elapsed = time.perf_counter() - started
        t = tally[query.group]
        t["pages"] += 1
        t["seconds"] += elapsed
        kind = "translation" if query.group != "same" else query.variant
        if query.truth is None:
            t["negatives"] += 1
            t["alarms"] += bool(found)
            t["wrong"] += len(found)
            if found:
                alarms.append((query, found[0]))
            continue
        t["positives"] += 1
        hit = [m for m in found if m.dispatch_id == query.truth]
        t["found"] += bool(hit)
        t["wrong"] += len(found) - len(hit)
        t["right_kind"] += bool(hit) and hit[0].kind == kind
        if not hit:
            misses.append(query)
    report: dict[str, object] = {}
    for group, t in sorted(tally.items()):
        predicted = t["found"] + t["wrong"]
        report[group] = {
            "pages": int(t["pages"]),
            "recall": round(t["found"] / max(t["positives"], 1), 4),
            "precision": round(t["found"] / predicted, 4) if predicted else 1.0,
            "false_alarm_rate": round(t["alarms"] / max(t["negatives"], 1), 4),
            "kind_accuracy": round(t["right_kind"] / max(t["found"], 1), 4),
            "positives": int(t["positives"]),
            "negatives": int(t["negatives"]),
            "pages_per_s": round(t["pages"] / max(t["seconds"], 1e-9), 1),
        }
    report["_misses"] = [f"{q.group} {q.pair} {q.variant} {q.truth}" for q in misses]
    report["_alarms"] = [
        f"{q.group} {q.pair} {q.variant} → {m.dispatch_id} {m.kind} {m.score}" for q, m in alarms
    ]
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, help="pickle of extracted pages, reused if present")
    parser.add_argument("--limit", type=int, help="every Nth query only (quick runs)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    sources, queries = load(args.data)
    if args.limit:
        queries = queries[:: args.limit]
    docs = extracted(queries, args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "wmt22.db"
        build_seconds = build_index(db, sources)
        with DispatchIndex.open(db) as index:
            count = len(index)
            report = score(index, queries, docs)
            seed = extract_text((args.data / "seed-page.txt").read_text(encoding="utf-8"))
            seed_matches = index.match(seed)
    misses, alarms = report.pop("_misses"), report.pop("_alarms")
    total_pages = sum(r["pages"] for r in report.values())  # type: ignore[index]
    total_seconds = sum(r["pages"] / r["pages_per_s"] for r in report.values())  # type: ignore[index]
    print(f"index: {count} dispatches, built in {build_seconds:.1f} s")
    print(f"{'group':10} {'pages':>6} {'pos':>5} {'neg':>5} {'recall':>7} {'precision':>9} "
          f"{'false-alarm':>11} {'kind-ok':>7} {'pages/s':>8}")
    for group in ("same", "latin", "cyrillic", "cjk"):
        r = report.get(group)
        if r:
            print(f"{group:10} {r['pages']:6} {r['positives']:5} {r['negatives']:5} "
                  f"{r['recall']:7.4f} {r['precision']:9.4f} {r['false_alarm_rate']:11.4f} "
                  f"{r['kind_accuracy']:7.4f} {r['pages_per_s']:8.1f}")
    print(f"all: {total_pages} pages, {total_pages / total_seconds:.1f} pages/s (match step only)")
    print(f"seed page: {len(seed_matches)} matches"
          + "".join(f"\n  {m.dispatch_id} {m.kind} {m.score}" for m in seed_matches))
    if args.verbose:
        print("\nmisses:", *misses, sep="\n  ")
        print("\nfalse alarms:", *alarms, sep="\n  ")
    if args.json:
        args.json.write_text(json.dumps(
            {"groups": report, "seed_matches": len(seed_matches), "index": count}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
