"""How match cost grows with the index: 1,000, 10,000 and 100,000 dispatches.

    python bench/index_scale.py [--sizes 1000,10000,100000] [--queries N] [--db FILE]
    python bench/index_scale.py --match-only FILE    # measure an index kept by --db again

The index holds the indexed half of the WMT22 sources (see bench/reuse.py) padded
with generated dispatches: pseudo-words drawn from a Zipf law per language, with
names, numbers in each locale's format and dates, so that shingles and anchors are
as common as in real news. It grows by incremental adds (the last step also times
adding 1,000 dispatches to the full index). At each size the same pages (copies and
translations from bench/reuse.py, plus unrelated pages) are matched: pages/s for the
whole match step and for copies alone (extraction excluded), peak memory of the
process, and the index file's size.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reuse

from compliance.extract.html import extract_html
from compliance.index import Dispatch, DispatchIndex
from compliance.index.calendar import MONTHS
from compliance.index.lexicon import LANGS as LANGS_WITH_WORDS
from compliance.index.lexicon import lexicon
from compliance.index.store import _body_shingles

LANGS = ("en", "fr", "de", "es", "ru", "cs")
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["sch", "tr", "st", "an", "er"]
CYRILLIC = str.maketrans("abdefgiklmnoprstuvz", "абдефгиклмнопрстувз")


class Generator:
    """Pseudo-news in several languages with realistic rarity of words, names and numbers."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.words = {lang: [self._word(lang) for _ in range(30000)] for lang in LANGS}
        self.names = [self._word("en").capitalize() for _ in range(20000)]
        self.weights = [1 / (rank + 1) for rank in range(30000)]
        self.name_weights = [1 / (rank + 1) ** 0.8 for rank in range(20000)]

    def _word(self, lang: str) -> str:
        word = "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.choice((1, 2, 2, 3, 4))))
        return word.translate(CYRILLIC) if lang == "ru" else word

    def _number(self, lang: str) -> str:
        """A count or an amount written the way `lang` writes it (1,234.5 / 1.234,5 / 1 234,5)."""
        value = self.rng.choice((self.rng.randint(2, 99), self.rng.randint(100, 99999),
                                 round(self.rng.uniform(1, 1000), 1)))
        text = f"{value:,}"
        if lang == "en":
            return text
        group = " " if lang in {"fr", "ru"} else "."
        return text.replace(",", "\0").replace(".", ",").replace("\0", group)

    def dispatch(self, n: int) -> Dispatch:
        rng = self.rng
        lang = rng.choice(LANGS)
        words = rng.choices(self.words[lang], self.weights, k=400)
        names = rng.choices(self.names, self.name_weights, k=12)
        months = MONTHS.get(lang, MONTHS["en"]).split("|")
        sentences, at = [], 0
        for _ in range(rng.randint(10, 20)):
            length = rng.randint(10, 24)
            chunk = words[at % 380 : at % 380 + length]
            at += length
            chunk.insert(rng.randrange(len(chunk)), rng.choice(names))
            if rng.random() < 0.5:
                chunk.insert(rng.randrange(len(chunk)), self._number(lang))
            if rng.random() < 0.2:
                month = rng.choice(months).split(",")[0]
                chunk.insert(rng.randrange(len(chunk)), f"{rng.randint(1, 28)} {month}")
            sentences.append(" ".join(chunk).capitalize() + ".")
        paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        day = 18000 + rng.randint(0, 3000)
        published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day * 86400))
        return Dispatch(f"gen-{n:07d}", "gen", lang, None, "\n\n".join(paragraphs), published)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(db: Path, docs: list, copy_docs: list, warm: list) -> dict[str, float]:
    """Pages/s of a worker that has already matched other pages (`warm`): dictionaries
    loaded (seconds, once per process), their common words looked up, the index's hot
    pages cached. No dispatch body is left shingled, so every copy pays for its own."""
    opened = time.perf_counter()
    index = DispatchIndex.open(db)
    open_ms = (time.perf_counter() - opened) * 1000
    for lang in LANGS_WITH_WORDS:
        lexicon(lang)
    for doc in warm:
        index.match(doc)
    _body_shingles.cache_clear()
    started = time.perf_counter()
    for doc in docs:
        index.match(doc)
    whole = len(docs) / (time.perf_counter() - started)
    started = time.perf_counter()
    for doc in copy_docs:
        index.match(doc)
    copies = len(copy_docs) / (time.perf_counter() - started)
    index.close()
    return {"pages_per_s": whole, "copies_per_s": copies, "open_ms": open_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=600, help="pages matched at each size")
    parser.add_argument("--db", type=Path, help="keep the index here (default: a temp folder)")
    parser.add_argument("--match-only", type=Path, metavar="DB",
                        help="only match the pages against this existing index (kept by --db)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    sources, queries = reuse.load(reuse.DATA)
    rng = random.Random(3)
    translations = rng.sample([q for q in queries if q.group != "same"], args.queries // 2)
    indexed_copies = [q for q in queries if q.group == "same" and q.variant == "copy" and q.truth]
    copies = rng.sample(indexed_copies, min(args.queries // 2, len(indexed_copies)))
    mixed = translations + copies
    docs = [extract_html(reuse.wrap(q)) for q in mixed]
    copy_docs = docs[len(translations) :]
    chosen = set(map(id, mixed))
    others = [q for q in queries if id(q) not in chosen]
    warm = [extract_html(reuse.wrap(q)) for q in rng.sample(others, args.queries)]
    print(f"{len(docs)} pages: {len(translations)} translations (half of indexed articles), "
          f"{len(copies)} same-language copies of indexed articles ('copies alone')")

    if args.match_only:
        with DispatchIndex.open(args.match_only) as index:
            size = len(index)
        figures = measure(args.match_only, docs, copy_docs, warm)
        print(f"{size:,} dispatches ({args.match_only.stat().st_size / 2**20:.1f} MiB): "
              f"{figures['pages_per_s']:.1f} pages/s, {figures['copies_per_s']:.1f} copies/s, "
              f"peak RSS {rss_mib():.0f} MiB")
        return 0
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "scale.db"
    if db.exists():
        db.unlink()
    real = [
        Dispatch(ident, "wmt", lang, None, "\n\n".join(reuse.paragraphs(text)))
        for ident, (lang, text) in sorted(sources.items())
    ]
    generator = Generator()
    size = 0
    print(f"{'dispatches':>10} {'add s':>7} {'add/s':>6} {'MiB':>7} {'pages/s':>8} "
          f"{'copies/s':>8} {'open ms':>7} {'peak RSS MiB':>12}")
    for target in sizes:
        batch = real if size == 0 else []
        start_n = size + len(batch)
        batch += [generator.dispatch(n) for n in range(start_n, target)]
        started = time.perf_counter()
        with DispatchIndex.open(db, read_only=False) as index:
            index.add(batch)
        seconds = time.perf_counter() - started
        size = target
        figures = measure(db, docs, copy_docs, warm)
        print(f"{size:10} {seconds:7.1f} {len(batch) / seconds:6.0f} "
              f"{db.stat().st_size / 2**20:7.1f} {figures['pages_per_s']:8.1f} "
              f"{figures['copies_per_s']:8.1f} {figures['open_ms']:7.1f} {rss_mib():12.0f}",
              flush=True)
    extra = [generator.dispatch(n) for n in range(size, size + 1000)]
    started = time.perf_counter()
    with DispatchIndex.open(db, read_only=False) as index:
        index.add(extra)
    print(f"adding 1,000 dispatches to the {size:,}-dispatch index: "
          f"{time.perf_counter() - started:.1f} s (incremental, one transaction)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
