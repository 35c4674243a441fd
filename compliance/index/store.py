"""The dispatch index on disk: one SQLite file, read by many processes at once.

Tables: `dispatch` (records, their anchors packed in order), `shingle`
(winnowed fingerprint → dispatch) and `anchor` (anchor key, day → dispatch),
both clustered by key so a lookup reads one short range, and `anchor_df`
(how many dispatches hold a key, for rarity weights). Adding or removing is
one transaction: a crash leaves the index as it was.

Most pages reproduce nothing, so matching spares what cannot change a result: a
translation candidate whose chain weight or Dice cannot reach its minimum even at
their upper bounds (`could_pass`: every shared key paired as often as both texts
hold it; the Dice over the least mass it can be divided by) is scored below
THRESHOLD whatever its z, so a page with none left is not aligned further.
"""

from __future__ import annotations

import heapq
import math
import sqlite3
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path

from ..model import Document
from .align import Chain, PageKeys, align
from .anchors import BASE_WEIGHT, Row, anchor_rows
from .dispatch import Dispatch, day_number
from .fingerprint import Shingles, shingles
from .lexicon import word_langs
from .match import (
    THRESHOLD,
    Z_SPREAD_FLOOR,
    AnchorSide,
    DispatchMatch,
    Verdict,
    calibration,
    compare_copy,
    runner_up_z,
    translation_score,
    translation_verdict,
)
from .text import CJK_LANGS, CYRILLIC_LANGS, script_of, stable_hash

SCHEMA_VERSION = "1"
KINDS = tuple(BASE_WEIGHT)
READINGS = {"name", "joined"}  # anchor kinds made from how a name sounds
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dispatch (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    agency TEXT NOT NULL,
    lang TEXT,
    title TEXT,
    body TEXT NOT NULL,
    published TEXT,
    day INTEGER,
    url TEXT,
    embargo_until TEXT,
    status TEXT NOT NULL,
    rights TEXT,
    source TEXT,
    anchor_keys BLOB NOT NULL,
    anchor_spans BLOB NOT NULL,
    anchor_kinds BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS shingle (
    hash INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (hash, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS anchor (
    hash INTEGER NOT NULL, day INTEGER NOT NULL, doc INTEGER NOT NULL,
    PRIMARY KEY (hash, day, doc)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS anchor_df (hash INTEGER PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
"""
NO_DAY = -(1 << 31)  # dispatches without a date sort before every window

# Candidate lookup stays cheap as the index grows: only shingles and anchors this rare
# are followed to their dispatches (a fingerprint in more dispatches is boilerplate).
# The SQL strings built below with f-strings format in only "?" placeholders and constant
# column names, never a value: bandit's B608 (SQL injection) is silenced there.
SHINGLE_CAP = 200
ANCHOR_RARE = 400  # followed everywhere; commoner anchors only inside the date window
ANCHOR_KEYS = 48  # rarest anchors of a page that are followed
WORD_KEYS = 24  # rarest dictionary-word anchors followed besides (see lexicon.py)
WORD_RARITY_MIN = 0.25  # commoner words are not aligned (see _rarity)
WORD_POOL = 10  # candidates found by those words alone, added to the pool
WORD_ALIGNED = 4  # of which the strongest are aligned too
DATE_WINDOW = (-45, 3)  # days around the page's date for common anchors
COPY_CANDIDATES = 5
TRANSLATION_POOL = 30  # candidates whose scores calibrate the best (runners-up)
ALIGNED = 12  # of which the strongest are aligned in order
DF_CACHE = 1 << 20  # anchor document frequencies kept in memory (see _dfs)
ROW_CACHE = 20_000  # decoded candidate rows kept in memory (see _pool_rows)


class IndexFileError(RuntimeError):
    """The index file is missing, unreadable or of another version."""


@dataclass(frozen=True)
class AddResult:
    added: int
    replaced: int


@dataclass(frozen=True)
class _Candidate:
    doc: int
    id: str
    agency: str
    lang: str | None
    title: str | None
    body: str
    published: str | None
    embargo_until: str | None
    status: str
    keys: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class TranslationFeatures:
    """One translation candidate and the measures its score is made of."""

    candidate: _Candidate
    chain: Chain
    page: AnchorSide
    z: float
    dice: float
    score: float


class DispatchIndex:
    """Find which dispatches a page reproduces, copied or translated."""

    def __init__(self, connection: sqlite3.Connection, path: Path, read_only: bool) -> None:
        self._db = connection
        self.path = path
        self.read_only = read_only
        # Read-side caches (anchor df, decoded pool rows, dispatch count): keys and
        # candidates recur from page to page. Any commit, ours or another process's,
        # empties them (see `_fresh`).
        self._df_cache: dict[int, int] = {}
        self._row_cache: dict[int, tuple[str, str | None, tuple[int, ...], Counter[int]]] = {}
        self._total: int | None = None
        self._version: int | None = None

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path, read_only: bool = True) -> DispatchIndex:
        """Open (or, writable, create) an index. Read-only opens never write, so many
        processes can match against one file at once."""
        path = Path(path)
        if read_only:
            if not path.is_file():
                raise IndexFileError(f"no dispatch index at {path}")
            uri = f"file:{path.resolve().as_posix()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, isolation_level=None)
        index = cls(db, path, read_only)
        try:
            if not read_only:
                db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
                db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA cache_size=-65536")
            db.execute("PRAGMA mmap_size=1073741824")
            index._check_schema()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise IndexFileError(f"{path} is not a dispatch index: {exc}") from None
        return index

    def _check_schema(self) -> None:
        if not self.read_only:
            self._db.executescript(SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )
        row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None or row[0] != SCHEMA_VERSION:
            found = row[0] if row else "none"
            raise IndexFileError(f"{self.path}: index schema {found}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> DispatchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def add(self, dispatches: Iterable[Dispatch]) -> AddResult:
        """Add (or replace, by id) dispatches in one transaction; nothing is half-written."""
        self._writable()
        added = replaced = 0
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for dispatch in dispatches:
                old = db.execute("SELECT doc FROM dispatch WHERE id=?", (dispatch.id,)).fetchone()
                if old:
                    self._delete(old[0])
                    replaced += 1
                else:
                    added += 1
                self._insert(dispatch)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._forget()
        return AddResult(added, replaced)

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove dispatches by id in one transaction; returns the ids that were not there."""
        self._writable()
        missing = []
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for ident in ids:
                row = db.execute("SELECT doc FROM dispatch WHERE id=?", (ident,)).fetchone()
                if row is None:
                    missing.append(ident)
                else:
                    self._delete(row[0])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._forget()
        return missing

    def _forget(self) -> None:
        """Empty the read-side caches: the index they were read from has changed."""
        self._df_cache.clear()
        self._row_cache.clear()
        self._total = None
        self._version = None

    def _fresh(self) -> None:
        """Keep the caches only while no connection has committed since they were filled
        (`PRAGMA data_version` moves on another connection's commit; ours call `_forget`)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._forget()
            self._version = version

    def _count(self) -> int:
        """The number of dispatches, counted once per state of the index."""
        if self._total is None:
            self._total = len(self)
        return self._total

    def _writable(self) -> None:
        if self.read_only:
            raise IndexFileError(f"{self.path} was opened read-only")

    def _insert(self, d: Dispatch) -> None:
        anchors = anchor_rows(d.body, d.lang)
        day = day_number(d.published)
        cursor = self._db.execute(
            "INSERT INTO dispatch (id, agency, lang, title, body, published, day, url,"
            " embargo_until, status, rights, source, anchor_keys, anchor_spans, anchor_kinds)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (d.id, d.agency, d.lang, d.title, d.body, d.published, day, d.url, d.embargo_until,
             d.status, d.rights, d.source, *_pack(anchors)),
        )
        doc = cursor.lastrowid
        self._db.executemany(
            "INSERT OR IGNORE INTO shingle VALUES (?, ?)",
            ((h, doc) for h in shingles(d.body).winnowed()),
        )
        keys = {stable_hash(a[2]) for a in anchors}
        self._db.executemany(
            "INSERT OR IGNORE INTO anchor VALUES (?, ?, ?)",
            ((k, NO_DAY if day is None else day, doc) for k in keys),
        )
        self._db.executemany(
            "INSERT INTO anchor_df VALUES (?, 1) ON CONFLICT(hash) DO UPDATE SET df = df + 1",
            ((k,) for k in keys),
        )

    def _delete(self, doc: int) -> None:
        body, day, key_blob = self._db.execute(
            "SELECT body, day, anchor_keys FROM dispatch WHERE doc=?", (doc,)
        ).fetchone()
        self._db.executemany(
            "DELETE FROM shingle WHERE hash=? AND doc=?",
            ((h, doc) for h in shingles(body).winnowed()),
        )
        keys = set(array("q", key_blob))
        self._db.executemany(
            "DELETE FROM anchor WHERE hash=? AND day=? AND doc=?",
            ((k, NO_DAY if day is None else day, doc) for k in keys),
        )
        self._db.executemany("UPDATE anchor_df SET df = df - 1 WHERE hash=?", ((k,) for k in keys))
        self._db.executemany(
            "DELETE FROM anchor_df WHERE hash=? AND df <= 0", ((k,) for k in keys)
        )
        self._db.execute("DELETE FROM dispatch WHERE doc=?", (doc,))

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM dispatch").fetchone()[0]

    def get(self, ident: str) -> Dispatch | None:
        row = self._db.execute(
            "SELECT id, agency, lang, title, body, published, url, embargo_until, status,"
            " rights, source FROM dispatch WHERE id=?",
            (ident,),
        ).fetchone()
        return Dispatch(*row) if row else None

    def ids(self) -> Iterator[str]:
        for (ident,) in self._db.execute("SELECT id FROM dispatch ORDER BY doc"):
            yield ident

    def stats(self) -> dict[str, object]:
        db = self._db

        def tally(column: str) -> dict[str, int]:
            rows = db.execute(f"SELECT {column}, COUNT(*) FROM dispatch GROUP BY 1 ORDER BY 2 DESC")  # nosec B608
            return {str(value): count for value, count in rows}

        span = db.execute("SELECT MIN(published), MAX(published) FROM dispatch").fetchone()
        return {
            "path": str(self.path),
            "schema": SCHEMA_VERSION,
            "dispatches": len(self),
            "agencies": tally("agency"),
            "languages": tally("lang"),
            "statuses": tally("status"),
            "published": {"first": span[0], "last": span[1]},
            "shingles": db.execute("SELECT COUNT(*) FROM shingle").fetchone()[0],
            "anchor_postings": db.execute("SELECT COUNT(*) FROM anchor").fetchone()[0],
            "distinct_anchors": db.execute("SELECT COUNT(*) FROM anchor_df").fetchone()[0],
            "bytes": self.path.stat().st_size if self.path.exists() else 0,
        }

    # ------------------------------------------------------------ matching

    def match(self, document: Document) -> list[DispatchMatch]:
        """Every dispatch the page's main text reproduces, best first; [] when none.

        Copies are looked for first (cheap, exact); a page that is mostly one
        dispatch's text is not searched for translations as well.
        """
        text = document.text
        if not text.strip():
            return []
        self._fresh()
        page_shingles = shingles(text)
        found = self._copies(text, page_shingles)
        if not any(m.page_coverage >= 0.5 for m in found):
            found += self._translations(document, {m.dispatch_id for m in found})
        found.sort(key=lambda m: (-m.score, -m.coverage, m.dispatch_id))
        return found

    def _copies(self, text: str, page: Shingles) -> list[DispatchMatch]:
        hits: Counter[int] = Counter()
        winnowed = page.winnowed()
        held: defaultdict[int, list[int]] = defaultdict(list)
        if winnowed:
            # One query for all of them (rows come by hash, then doc, as one query each
            # would return them); a shingle in more than SHINGLE_CAP dispatches adds none.
            marks = ",".join("?" * len(winnowed))
            for h, doc in self._db.execute(
                f"SELECT hash, doc FROM shingle WHERE hash IN ({marks})",  # nosec B608
                tuple(winnowed),
            ):
                held[h].append(doc)
        for h in winnowed:  # the same order as before: ties in most_common keep it
            docs = held.get(h)
            if docs and len(docs) <= SHINGLE_CAP:
                hits.update(docs)
        out = []
        for doc, _ in hits.most_common(COPY_CANDIDATES):
            candidate = self._candidate(doc)
            verdict = compare_copy(text, page, candidate.body, _body_shingles(candidate.body))
            if verdict and verdict.score >= THRESHOLD:
                out.append(_match(candidate, verdict))
        return out

    def _translations(self, document: Document, exclude: set[str]) -> list[DispatchMatch]:
        out = []
        for feature in self.translation_features(document, exclude, passing_only=True):
            if feature.score >= THRESHOLD:
                verdict = translation_verdict(
                    feature.chain, document.text, feature.page, feature.candidate.body,
                    AnchorSide(feature.candidate.keys, feature.candidate.spans), feature.score,
                )
                out.append(_match(feature.candidate, verdict))
        return out

    def translation_features(
        self, document: Document, exclude: set[str] = frozenset(), top: int = 3,  # type: ignore[assignment]
        passing_only: bool = False,
    ) -> list[TranslationFeatures]:
        """The best `top` translation candidates with what their score rests on.

        `passing_only`: only the features that reach THRESHOLD, found sparing the work
        on candidates that cannot reach it (see `could_pass`): a page none of whose
        candidates can is not aligned at all.
        """
        self._fresh()
        text = document.text
        anchors = anchor_rows(text, document.lang)
        if not anchors:
            return []
        # C loops: a thousand rows. (Not `keys`: the loops below bind that to dispatches'.)
        anchor_keys = tuple(map(stable_hash, map(itemgetter(2), anchors)))
        # The anchors' spans only go with the features returned (most pages return none).
        page = cache(lambda: AnchorSide(anchor_keys, tuple(map(itemgetter(0, 1), anchors))))
        kinds = dict(zip(anchor_keys, map(itemgetter(3), anchors), strict=True))
        df = self._dfs(set(anchor_keys))
        total = max(self._count(), 1)
        weights: dict[int, float] = {}
        words: set[int] = set()
        dropped: set[int] = set()
        for k, kind in kinds.items():  # one pass: weights, in the order of `kinds`, and words
            n = df.get(k, 0)
            if kind == "word":
                words.add(k)
                # A word no dispatch has weighs nothing in the page's mass; a common one
                # ("said", "government") is not worth aligning.
                if not n or (rarity := _rarity(n, total)) < WORD_RARITY_MIN:
                    weights[k] = 0.0
                    dropped.add(k)
                    continue
            else:
                rarity = _rarity(n, total)
            weights[k] = BASE_WEIGHT[kind] * rarity
        align_keys = (tuple(-1 if k in dropped else k for k in anchor_keys) if dropped
                      else anchor_keys)
        pool = self._translation_pool(df, weights, day_number(document.published), words)
        rows = self._pool_rows(pool)
        langs = {row[0]: row[3] for row in rows}
        key_counts = {row[0]: row[5] for row in rows}
        page_script = {"han": "zh", "kana": "ja"}.get(script_of(text))
        eligible = [
            (doc, vote, keys) for doc, vote, ident, lang, keys, _ in rows
            if ident not in exclude and not (document.lang and lang == document.lang)
        ]
        to_align = eligible[:ALIGNED]
        if len(pool) > TRANSLATION_POOL:  # candidates found by dictionary words
            found_by_words = {doc for doc, _ in pool[TRANSLATION_POOL:]}
            to_align += [row for row in eligible if row[0] in found_by_words][:WORD_ALIGNED]
        aligned_docs = {row[0] for row in to_align}
        # Only the strongest are aligned; the others' shared weight (an upper bound of
        # their chain) stands in for them among the runners-up.
        # Readings of hanzi and of kanji are both made up from syllables: between two CJK
        # languages they coincide by chance, so there only the other anchors align.
        page_cjk = (document.lang or page_script) in CJK_LANGS
        unread = ({k: 0.0 if kind in READINGS else weights[k] for k, kind in kinds.items()}
                  if page_cjk else weights)

        def weigh(doc: int) -> Callable[[int], float]:
            return (unread if langs[doc] in CJK_LANGS else weights).__getitem__

        # Counted once for the page's mass, its mass without words and the bounds below (a
        # dropped word weighs nothing in any of them: counting it under its own key or as
        # -1, as it is aligned, gives the same sums).
        page_counts = Counter(anchor_keys)
        page_mass = _mass(page_counts, weights)
        # Dictionary words count in the Dice only where both sides have them.
        page_bare = _mass(page_counts, weights, leave_out=words)
        # Where each key sits on the page: made when a first candidate is aligned (most
        # pages align none).
        page_keys = cache(lambda: PageKeys(align_keys))

        chains: dict[int, Chain] = {}
        hopeful = aligned_docs  # the candidates that could reach THRESHOLD
        if passing_only:
            # Bounded first without aligning, then with their own chain (exact: the
            # chain a candidate is scored by is this one, see `wordless` below); only
            # when one of them may pass are all aligned, for the runners-up of its z.
            lexical_langs = word_langs() if words else frozenset()
            hopeful = set()
            ceilings: dict[int, float] = {}  # the heaviest chain each candidate could have
            z_minima: dict[int, float] = {}
            for doc, _, keys in to_align:
                minima = calibration(document.lang or page_script, langs[doc],
                                     langs[doc] in lexical_langs)
                bound, divisor = pass_bounds(page_counts, keys, weigh(doc), weights, words,
                                             page_mass, page_bare, key_counts[doc],
                                             weight_floor=BOUND_SLACK * minima[1])
                ceilings[doc] = bound
                if not could_pass(bound, divisor, minima):
                    continue
                chains[doc] = align(page_keys(), keys, weigh(doc))
                if could_pass(chains[doc].weight, divisor, minima):
                    hopeful.add(doc)
                    z_minima[doc] = minima[0]
            if not hopeful:
                return []
        rest = [v for d, v, _ in eligible if d not in aligned_docs]
        # A language without a dictionary shares no words; one with a small dictionary
        # (Russian) shares few: either is ranked against the others' chains without words.
        wordless = {doc for doc, _, _, lang, _, _ in rows
                    if lang not in word_langs() or lang in CYRILLIC_LANGS}
        if passing_only:
            # The runners-up need every candidate aligned; first, whether even the most
            # the z could be, their chains unknown but bounded, lets one pass.
            def z_too_low(doc: int) -> bool:
                bare = bool(words) and doc in wordless  # ranked by chains without words
                known, unknown = list(rest), []
                for other, _, _ in to_align:
                    if other == doc:
                        continue
                    if other in chains and (not bare or other in wordless):
                        known.append(chains[other].weight)
                    else:  # a chain without words weighs no more than the one with them
                        unknown.append(chains[other].weight if other in chains
                                       else ceilings[other])
                ceiling = z_ceiling(chains[doc].weight, known, unknown, TRANSLATION_POOL)
                return ceiling < BOUND_SLACK * z_minima[doc]

            if all(map(z_too_low, hopeful)):
                return []
        aligned = [(chains[doc] if doc in chains else align(page_keys(), keys, weigh(doc)), doc)
                   for doc, _, keys in to_align]
        aligned.sort(key=lambda pair: -pair[0].weight)
        scores = [chain.weight for chain, _ in aligned] + rest
        ranked = [(chain, doc, rank, scores) for rank, (chain, doc) in enumerate(aligned[:top])]
        if passing_only and not wordless & hopeful:
            # Their re-alignment only ranks them, and none of them can pass. Nothing after
            # them in `ranked` is lost either: a chain that can pass outweighs any single
            # pair (a chain of fewer than two pairs stops the loop below).
            ranked = [r for r in ranked if r[1] not in wordless]
        elif words and wordless & {doc for _, doc in aligned}:
            bare_keys = PageKeys(tuple(k if k not in words else -1 for k in anchor_keys))
            keys_of = {doc: keys for doc, _, keys in eligible}
            bare = [
                (chain if doc in wordless else align(bare_keys, keys_of[doc], weigh(doc)), doc)
                for chain, doc in aligned
            ]
            bare.sort(key=lambda pair: -pair[0].weight)
            bare_scores = [c.weight for c, _ in bare] + rest
            ranked = [r for r in ranked if r[1] not in wordless] + [
                (chain, doc, rank, bare_scores)
                for rank, (chain, doc) in enumerate(bare[:top]) if doc in wordless
            ]
            ranked.sort(key=lambda r: -r[0].weight)
        out = []
        for chain, doc, rank, pool_scores in ranked:
            if len(chain.pairs) < 2:
                break
            others = pool_scores[:rank] + pool_scores[rank + 1 :]
            z = runner_up_z(chain.weight, others, TRANSLATION_POOL)
            lexical = bool(words) and langs[doc] in word_langs()
            minima = calibration(document.lang or page_script, langs[doc], lexical)
            if translation_score(z, chain.weight, minima[2], minima) < THRESHOLD:
                continue  # already too weak: spare loading the dispatch
            if doc not in hopeful:
                continue  # its chain or its Dice falls short (see could_pass)
            candidate = self._candidate(doc)
            disp_weights = self._dispatch_weights(candidate, weights, total)
            if not words:  # a page without dictionary words cannot share the dispatch's
                disp_weights = {k: w for k, w, kind in zip(candidate.keys, map(
                    disp_weights.__getitem__, candidate.keys), candidate.kinds, strict=True)
                    if kind != "word"}
            disp_mass = _mass(Counter(candidate.keys), disp_weights)
            own = page_mass if "word" in candidate.kinds else page_bare
            dice = 2 * chain.weight / max(own + disp_mass, 1e-9)
            score = translation_score(z, chain.weight, dice, minima)
            if score >= THRESHOLD or not passing_only:
                out.append(TranslationFeatures(candidate, chain, page(), z, dice, score))
        return out

    def _pool_keys(
        self, pool: list[tuple[int, float]]
    ) -> list[tuple[int, float, str, str | None, tuple[int, ...]]]:
        """Id, language and anchor keys of the pool's dispatches, strongest vote first."""
        return [row[:5] for row in self._pool_rows(pool)]  # type: ignore[misc]

    def _pool_rows(
        self, pool: list[tuple[int, float]]
    ) -> list[tuple[int, float, str, str | None, tuple[int, ...], Counter[int]]]:
        """`_pool_keys` with each dispatch's key counts; decoded rows are kept (a pool's
        dispatches recur from page to page), and only the others are read."""
        if not pool:
            return []
        cache = self._row_cache
        missing = [doc for doc, _ in pool if doc not in cache]
        if missing:
            if len(cache) + len(missing) > ROW_CACHE:
                cache.clear()
            marks = ",".join("?" * len(missing))
            for doc, ident, lang, blob in self._db.execute(
                f"SELECT doc, id, lang, anchor_keys FROM dispatch WHERE doc IN ({marks})",  # nosec B608
                missing,
            ):
                keys = tuple(array("q", blob))
                cache[doc] = (ident, lang, keys, Counter(keys))
        # The pool's order (see _translation_pool); a doc the table lacks has no row.
        return [(doc, vote, *cache[doc]) for doc, vote in pool if doc in cache]

    def _dfs(self, keys: set[int]) -> dict[int, int]:
        """Document frequencies of the keys held by some dispatch (a key none holds is
        absent); each key is read once per state of the index, its absence too."""
        if not keys:
            return {}
        cache = self._df_cache
        missing = list(keys.difference(cache))  # a C loop; their order does not matter
        if missing:
            if len(cache) + len(missing) > DF_CACHE:
                cache.clear()
                missing = list(keys)
            marks = ",".join("?" * len(missing))
            rows = self._db.execute(f"SELECT hash, df FROM anchor_df WHERE hash IN ({marks})",  # nosec B608
                                    missing)
            cache.update(dict.fromkeys(missing, 0))
            cache.update(rows.fetchall())
        return {k: df for k in keys if (df := cache[k])}

    def _translation_pool(
        self,
        df: dict[int, int],
        weights: dict[int, float],
        day: int | None,
        words: set[int] = frozenset(),  # type: ignore[assignment]
    ) -> list[tuple[int, float]]:
        """Dispatches sharing the page's rarest anchors, with the weight they share.

        Dictionary words have their own budget: there are many, and they must not
        crowd out the numbers and names.
        """
        # `df` holds the page's keys some dispatch has, in the order of their set.
        known = sorted(df, key=df.__getitem__)
        votes: defaultdict[int, float] = defaultdict(float)
        rare_words = [k for k in known if k in words and df[k] <= ANCHOR_RARE][:WORD_KEYS]
        known = [k for k in known if k not in words]
        rare = [k for k in known[:ANCHOR_KEYS] if df[k] <= ANCHOR_RARE]
        if rare:
            marks = ",".join("?" * len(rare))
            for key, doc in self._db.execute(
                f"SELECT hash, doc FROM anchor WHERE hash IN ({marks})", rare  # nosec B608
            ):
                votes[doc] += weights[key]
        word_votes: defaultdict[int, float] = defaultdict(float)
        if rare_words:
            marks = ",".join("?" * len(rare_words))
            for key, doc in self._db.execute(
                f"SELECT hash, doc FROM anchor WHERE hash IN ({marks})", rare_words  # nosec B608
            ):
                word_votes[doc] += weights[key]
        if day is not None:
            lo, hi = day + DATE_WINDOW[0], day + DATE_WINDOW[1]
            for key in known[len(rare) : ANCHOR_KEYS]:
                for (doc,) in self._db.execute(
                    "SELECT doc FROM anchor WHERE hash=? AND day BETWEEN ? AND ? LIMIT ?",
                    (key, lo, hi, ANCHOR_RARE),
                ):
                    votes[doc] += weights[key]
        # The strongest few of a thousand or more (nsmallest is sorted()[:n], cheaper), as
        # (-vote, doc) pairs: compared as they are, without a key function to call.
        ranked = [(doc, -vote) for vote, doc in heapq.nsmallest(
            TRANSLATION_POOL, zip(map(float.__neg__, votes.values()), votes, strict=True))]
        if not word_votes:
            return ranked
        # Words add their own strongest candidates; they do not push out the others.
        total = {doc: votes.get(doc, 0.0) + v for doc, v in word_votes.items()}
        chosen = {doc for doc, _ in ranked}
        extra = heapq.nsmallest(WORD_POOL, ((d, v) for d, v in total.items() if d not in chosen),
                                key=lambda kv: (-kv[1], kv[0]))
        return [(d, v + word_votes.get(d, 0.0)) for d, v in ranked] + extra

    def _dispatch_weights(
        self, candidate: _Candidate, page_weights: dict[int, float], total: int
    ) -> dict[int, float]:
        keys = set(candidate.keys)
        missing = keys - page_weights.keys()
        df = self._dfs(missing)
        kinds = dict(zip(candidate.keys, candidate.kinds, strict=True))
        weights = {k: BASE_WEIGHT[kinds[k]] * _rarity(df.get(k, 1), total) for k in missing}
        weights.update({k: page_weights[k] for k in keys & page_weights.keys()})
        return weights

    def _candidate(self, doc: int) -> _Candidate:
        row = self._db.execute(
            "SELECT doc, id, agency, lang, title, body, published, embargo_until, status,"
            " anchor_keys, anchor_spans, anchor_kinds FROM dispatch WHERE doc=?",
            (doc,),
        ).fetchone()
        keys = tuple(array("q", row[9]))
        flat = array("i", row[10])
        spans = tuple(zip(flat[0::2], flat[1::2], strict=True))
        kinds = tuple(KINDS[b] for b in row[11])
        return _Candidate(*row[:9], keys, spans, kinds)  # type: ignore[arg-type]


def _pack(anchors: list[Row]) -> tuple[bytes, bytes, bytes]:
    keys = array("q", (stable_hash(key) for _, _, key, _ in anchors))
    spans = array("i", (x for start, end, _, _ in anchors for x in (start, end)))
    kinds = bytes(KINDS.index(kind) for _, _, _, kind in anchors)
    return keys.tobytes(), spans.tobytes(), kinds


@lru_cache(maxsize=1024)
def _body_shingles(body: str) -> Shingles:
    """Dispatches matched once tend to be matched again (many sites copy one story)."""
    return shingles(body)


@lru_cache(maxsize=65536)
def _rarity(df: int, total: int) -> float:
    """1 for an anchor in one dispatch (or none), falling towards 0 for one in all of them."""
    df = max(df, 1)
    return math.log(1 + total / df) / math.log(1 + total) if total > 1 else 1.0


# The rounded score reaches THRESHOLD from a weakest part of 0.9999 (translation_score);
# a bound must fall short by more than this (and than float rounding) to rule one out.
BOUND_SLACK = 0.999


def chain_bound(
    page_counts: Counter[int], counts: Counter[int], weight: Callable[[int], float]
) -> tuple[float, set[int]]:
    """The heaviest chain `align` could find, and the keys both sides hold.

    A chain pairs each position at most once, so a key held p times by the page and d
    times by the dispatch makes at most min(p, d) pairs, each weighing its weight
    over sqrt(min(p, d)) (see align): at most its weight times sqrt(min(p, d)).
    """
    shared = counts.keys() & page_counts.keys()
    bound = sum(weight(k) * min(page_counts[k], counts[k]) ** 0.5 for k in shared)
    return bound, shared


def pass_bounds(
    page_counts: Counter[int],
    keys: tuple[int, ...],
    weight: Callable[[int], float],
    weights: dict[int, float],
    words: set[int],
    page_mass: float,
    page_bare: float,
    counts: Counter[int] | None = None,
    weight_floor: float = 0.0,
) -> tuple[float, float]:
    """A candidate's heaviest possible chain and the least its Dice can be divided by.

    The Dice is 2 * chain / (the page's own mass + the dispatch's mass). The page's
    own mass is all of it when the dispatch holds one of the page's words, the mass
    without words otherwise (at least); the dispatch's mass is at least that of the
    keys it shares with the page, weighed as `_dispatch_weights` weighs them.
    `counts`: the dispatch's key counts when already at hand (Counter(keys)).
    `weight_floor`: below it the chain cannot pass whatever its Dice, which is then not
    worked out (infinite divisor).
    """
    if counts is None:
        counts = Counter(keys)
    bound, shared = chain_bound(page_counts, counts, weight)
    if bound < weight_floor:
        return bound, math.inf
    own = page_bare if words.isdisjoint(shared) else page_mass  # the page's words: its keys
    return bound, own + sum(weights.get(k, 0.0) * counts[k] ** 0.5 for k in shared)


def z_ceiling(top: float, known: list[float], unknown: list[float], pool: int) -> float:
    """The most `runner_up_z(top, others, pool)` can be when of the others those in
    `known` are exact and each of the `unknown` lies between 0 and the value given.

    The others' mean is least with the unknown at 0, their spread least where each
    unknown is as near as it can be to a common centre m: the least sum of squares is
    found for m in each stretch between the sorted upper ends (a quadratic there).
    """
    count = len(known) + len(unknown)
    n = count + max(0, pool - 1 - count)  # padded with zeros, as runner_up_z does
    if not n:
        return top / Z_SPREAD_FLOOR
    fixed = n - len(unknown)  # the known values and the padding
    total, squares = sum(known), sum(v * v for v in known)
    numerator = top - total / n
    if numerator <= 0:
        return 0.0  # the z is at most 0
    uppers = sorted(unknown)
    least = math.inf
    below = below_squares = 0.0  # sum and squares of the uppers lying below m
    for k in range(len(uppers) + 1):  # the k smallest uppers lie below m
        low, high = (uppers[k - 1] if k else 0.0), (uppers[k] if k < len(uppers) else math.inf)
        m = (total + below) / (fixed + k) if fixed + k else low
        m = min(max(m, low), high)
        least = min(least, squares - 2 * m * total + fixed * m * m
                    + k * m * m - 2 * m * below + below_squares)
        if k < len(uppers):
            below += uppers[k]
            below_squares += uppers[k] ** 2
    return numerator / (math.sqrt(max(least, 0.0) / n) + Z_SPREAD_FLOOR)


def could_pass(
    chain_weight: float, dice_divisor: float, minima: tuple[float, float, float]
) -> bool:
    """Whether a chain this heavy (or lighter) could score THRESHOLD: its weight and its Dice
    must both reach their minimum (the z, which rests on the other candidates, is not
    bounded)."""
    return (chain_weight >= BOUND_SLACK * minima[1]
            and 2 * chain_weight / max(dice_divisor, 1e-9) >= BOUND_SLACK * minima[2])


def _mass(
    counts: Counter[int], weights: dict[int, float], leave_out: set[int] = frozenset()  # type: ignore[assignment]
) -> float:
    """Total weight of a text's anchors (`counts`: how often each key occurs), repeated keys
    counting as in `align`; the keys in `leave_out` weigh nothing."""
    return sum(weights.get(k, 0.0) * n**0.5 for k, n in counts.items() if k not in leave_out)


def _match(candidate: _Candidate, verdict: Verdict) -> DispatchMatch:
    return DispatchMatch(
        dispatch_id=candidate.id,
        agency=candidate.agency,
        lang=candidate.lang or "",
        title=candidate.title,
        kind=verdict.kind,
        score=verdict.score,
        coverage=verdict.coverage,
        page_coverage=verdict.page_coverage,
        matched_words=verdict.matched_words,
        status=candidate.status,
        published=candidate.published,
        embargo_until=candidate.embargo_until,
        passages=verdict.passages,
    )
