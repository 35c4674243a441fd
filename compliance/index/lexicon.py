"""Bilingual-dictionary anchors: content words pivoted into English.

A translation keeps few numbers and names when the article has few; it keeps
its meaning, word by word. Debian's FreeDict packages (dictd files under
/usr/share/dictd, e.g. `dict-freedict-deu-eng`) give, for a word of one
language, a handful of English words; both sides of a translation pivoted
through them share those English words in the same order. Words are
lemmatised crudely (lower case, common inflection endings stripped on both the
text's words and the dictionary's headwords), each maps to at most a few
English stems, and the key `c:<stem>` is what both languages agree on.

Dictionaries are optional: without them no word anchors are made and every
other result is unchanged. They are never downloaded. What a language needs of
them (every headword's English stems, headwords by stem, the inverted English →
X and pivot dictionaries) is worked out once and kept as a JSON file in the
user's cache folder (`COMPLIANCE_CACHE_DIR`, else `$XDG_CACHE_HOME/compliance`,
else `~/.cache/compliance`), named by the dictionary files' sizes and times and
this module's source: a process then loads it in a fraction of a second, and
no page waits on a definition being decompressed and parsed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import groupby, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from .text import CYRILLIC_LANGS

DICT_DIR = Path(os.environ.get("COMPLIANCE_DICT_DIR", "/usr/share/dictd"))
log = logging.getLogger(__name__)
# Per language: dictionaries read foreign → English (headword looked up) and
# English → foreign (inverted once when loaded).
SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "de": (("deu-eng",), ()),
    "fr": (("fra-eng",), ("eng-fra",)),
    "cs": (("ces-eng",), ("eng-ces",)),
    "hr": (("hrv-eng",), ("eng-hrv",)),
    "ru": ((), ("eng-rus",)),
    "ja": (("jpn-eng",), ()),
}
# Per language: dictionaries from another language into this one, inverted once and read
# on through that language's own dictionaries (one hop: Russian → German → English).
# Measured on bench/reuse.py: Russian through German (dict-freedict-deu-rus) raised
# Latin ↔ Cyrillic recall from 0.8145 to 0.9398; German and French through each other
# (dict-freedict-fra-deu, dict-freedict-deu-fra) raised Latin ↔ Latin recall from 0.9601
# to 0.9741, precision 0.9989 → 0.9994. Without the packages nothing changes.
PIVOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "ru": (("deu-rus", "de"),), "de": (("fra-deu", "fr"),), "fr": (("deu-fra", "de"),)}
PIVOT_SENSES = 2  # English words kept per pivot headword (two hops add noise)
LANGS = frozenset(SOURCES) | {"en"}
MAX_SENSES = 4  # English words kept per foreign word
MIN_LETTERS = 4
CHUNKS_KEPT = 4096  # decompressed dictzip chunks kept per dictionary (≈ 58 KiB each)

_B64 = {c: i for i, c in
        enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}

# Endings stripped before lookup, longest first; the stem keeps at least 3 letters.
_ENDINGS = {
    "en": ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s", "e"),
    "de": ("ungen", "ung", "ern", "en", "er", "es", "em", "e", "n", "s"),
    "fr": ("ements", "ement", "ations", "ation", "euses", "euse", "eux", "ées", "ée", "és",
           "es", "er", "ez", "é", "e", "s", "x"),
    "cs": ("ového", "ovému", "ových", "ými", "ého", "ému", "ích", "ách", "ami", "ovi", "ové",
           "ou", "em", "ém", "ům", "ům", "ho", "mi", "y", "a", "e", "i", "u", "ý", "á", "é",
           "í", "ě", "o"),
    "hr": ("ima", "ama", "oga", "ome", "om", "og", "ih", "im", "em", "ju", "a", "e", "i",
           "o", "u"),
    "ru": ("ами", "ями", "ого", "его", "ому", "ему", "ых", "их", "ый", "ий", "ой", "ая",
           "яя", "ое", "ее", "ые", "ие", "ов", "ев", "ом", "ем", "ам", "ям", "ах", "ях", "а",
           "я", "о", "е", "ы", "и", "у", "ю", "ь"),
}
_STOP = frozenset(re.findall(r"\w+", (
    "also been before being between both could does down each even from have here into just "
    "like made make many more most much must only other over said same should since some "
    "still such than that their them then there these they this those through under very "
    "were what when where which while will with would your about after again against "
    "because come could during first good know last like long back well year thing way take "
    "give tell told thus however therefore"
)))
_WORD = re.compile(rf"[^\W\d_]{{{MIN_LETTERS},}}")
# Japanese is written without spaces: runs of kanji and katakana are split into the
# longest words the dictionary knows (two characters at least; one kanji is too vague).
_JA_RUN = re.compile(r"[\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{2,}")
JA_LONGEST = 8
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_EN_WORD = re.compile(r"[a-z][a-z'-]+")


# One pattern per language: the shortest head of 3 letters or more that leaves a listed
# ending is the stem, so the longest ending that fits is the one removed (one regex match
# instead of a loop over endings: stemming every headword was a third of loading).
def _stemmer(endings: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    alternatives = "|".join(map(re.escape, sorted(set(endings), key=len, reverse=True)))
    return re.compile(rf"(.{{3,}}?)(?:{alternatives})", re.DOTALL).fullmatch


_STEMMERS = {lang: _stemmer(endings) for lang, endings in _ENDINGS.items()}


def stem(word: str, lang: str) -> str:
    """Lower case, the longest listed inflection ending removed (at least 3 letters stay)."""
    word = word.lower()
    stemmer = _STEMMERS.get(lang)
    found = stemmer(word) if stemmer else None
    return found.group(1) if found else word


def english_key(word: str) -> str | None:
    """The stem both sides agree on ('harbours' and 'harbor' alike), None for stop words."""
    word = word.lower()
    if len(word) < MIN_LETTERS or word in _STOP or not word.isalpha():
        return None
    return stem(word.replace("our", "or"), "en")


class DictdFile:
    """One dictd dictionary: its index in memory, definitions read on demand.

    The index keeps each headword's "offset<TAB>length" fields as read (several entries
    joined by newlines) and decodes them only when the headword is looked up: most of a
    dictionary's 400,000 headwords never are, and decoding them all took a second.
    """

    def __init__(self, stem_path: Path) -> None:
        self.index: dict[str, str] = {}
        index = self.index
        with open(stem_path.with_suffix(".index"), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                head, tab, place = line.rstrip("\n").partition("\t")
                if not tab or "\t" not in place or head.startswith("00database"):
                    continue
                known = index.get(head)
                index[head] = place if known is None else f"{known}\n{place}"
        self._reader = _DictzipReader(stem_path.with_suffix(".dict.dz"))

    def _places(self, fields: str) -> list[tuple[int, int]]:
        out = []
        for place in fields.split("\n"):
            offset, length = place.split("\t")[:2]
            out.append((_b64(offset), _b64(length)))
        return out

    def definitions(self, headword: str) -> list[str]:
        fields = self.index.get(headword)
        if fields is None:
            return []
        return [self._reader.read(o, n) for o, n in self._places(fields)]

    def english(self, headword: str) -> tuple[str, ...]:
        """English stems of the headword's entries, entry by entry, without repeats."""
        return _english_of(self.definitions(headword))

    def english_table(self) -> dict[str, str]:
        """Every headword's English stems, space-separated ("" for none): the whole file
        decompressed once, far cheaper than headword by headword."""
        return {head: " ".join(_english_of([definition for _, definition in entries]))
                for head, entries in groupby(self.all_entries(), key=itemgetter(0))}

    def all_entries(self) -> Iterator[tuple[str, str]]:
        """(headword, definition) of every entry, a headword's entries one after another."""
        data = self._reader.read_all()
        for head, fields in self.index.items():
            for o, n in self._places(fields):
                yield head, data[o : o + n].decode("utf-8", "replace")


class _DictzipReader:
    """Random access into a dictzip (.dict.dz) file: gzip with independent chunks."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 - kept open for the process
        self._lock = threading.Lock()
        head = self._fh.read(12)
        if head[:2] != b"\x1f\x8b" or not head[3] & 4:
            raise ValueError(f"{path}: not a dictzip file")
        xlen = struct.unpack("<H", head[10:12])[0]
        extra = self._fh.read(xlen)
        self.chunk_len = 0
        self.offsets: list[int] = []
        pos = 0
        while pos + 4 <= len(extra):
            sub, length = extra[pos : pos + 2], struct.unpack("<H", extra[pos + 2 : pos + 4])[0]
            body = extra[pos + 4 : pos + 4 + length]
            if sub == b"RA":
                _ver, self.chunk_len, count = struct.unpack("<HHH", body[:6])
                self.sizes = struct.unpack(f"<{count}H", body[6 : 6 + 2 * count])
            pos += 4 + length
        if not self.chunk_len:
            raise ValueError(f"{path}: no dictzip chunk table")
        flags = head[3]
        offset = 12 + xlen
        self._fh.seek(offset)
        if flags & 8:  # file name
            offset += self._skip_zero()
        if flags & 16:  # comment
            offset += self._skip_zero()
        if flags & 2:
            offset += 2
        for size in self.sizes:
            self.offsets.append(offset)
            offset += size
        self._cache: dict[int, bytes] = {}

    def _skip_zero(self) -> int:
        count = 0
        while True:
            count += 1
            byte = self._fh.read(1)
            if not byte or byte == b"\0":
                return count

    def _chunk(self, i: int) -> bytes:
        data = self._cache.get(i)
        if data is None:
            with self._lock:
                self._fh.seek(self.offsets[i])
                raw = self._fh.read(self.sizes[i])
            data = zlib.decompressobj(-15).decompress(raw)
            if len(self._cache) >= CHUNKS_KEPT:  # the oldest goes (dicts keep their order)
                del self._cache[next(iter(self._cache))]
            self._cache[i] = data
        return data

    def read(self, offset: int, length: int) -> str:
        first, last = offset // self.chunk_len, (offset + length - 1) // self.chunk_len
        data = b"".join(self._chunk(i) for i in range(first, min(last, len(self.sizes) - 1) + 1))
        start = offset - first * self.chunk_len
        return data[start : start + length].decode("utf-8", "replace")

    def read_all(self) -> bytes:
        with self._lock:
            self._fh.seek(self.offsets[0])
            raw = self._fh.read(sum(self.sizes))
        return zlib.decompressobj(-15).decompress(raw)


def _b64(text: str) -> int:
    value = 0
    for c in text:
        value = value * 64 + _B64[c]
    return value


# Cross-references, grammar, usage labels, glosses, pronunciations, examples, abbreviations.
_NOISE = re.compile(
    r"\{[^}]*\}|<[^>]*>|\[[^\]]*\]|\([^)]*\)|/[^/]*/|\"[^\"]*\"|\b[A-Z][A-Za-z]{0,5}\.(?!\w)")

_NUMBERING = re.compile(r"^\d+\.\s*")
_SENSE_SPLIT = re.compile(r"[,;]")


def _senses(definition: str) -> list[str]:
    """Translations of an X→Y entry: its lines after the headword, split at commas."""
    out = []
    for line in definition.split("\n")[1:]:
        stripped = line.strip()
        if not stripped or stripped.startswith(("see:", "Synonyms:", "Note:", "\"", "Antonym")):
            continue
        stripped = _NUMBERING.sub("", stripped)
        for part in _SENSE_SPLIT.split(_NOISE.sub(" ", stripped)):
            part = part.strip(" .-")
            if part:
                out.append(part)
    return out


def _english_of(definitions: list[str]) -> tuple[str, ...]:
    """English stems of a headword's entries, entry by entry, without repeats."""
    out: list[str] = []
    for definition in definitions:
        for english in _english_words(_senses(definition)):
            if english not in out:
                out.append(english)
    return tuple(out)


def _english_words(phrases: list[str]) -> list[str]:
    """English stems of the first few one-word senses ('to govern' counts as one word)."""
    out: list[str] = []
    for phrase in phrases:
        words = phrase.lower().split()
        if words[:1] == ["to"]:
            words = words[1:]
        if len(words) != 1:
            continue
        key = english_key(words[0])
        if key and key not in out:
            out.append(key)
        if len(out) >= MAX_SENSES:
            break
    return out


class Lexicon:
    """Word → English stems for one language, from whichever dictionaries are installed."""

    def __init__(self, lang: str, directory: Path) -> None:
        self.lang = lang
        state = _load_state(lang, directory)
        # Per forward dictionary: headword → its English stems, space-separated ("" for none).
        self.forward: list[dict[str, str]] = state["forward"]
        self.heads: dict[str, list[str]] = state["heads"]  # stem → forward headwords
        self.inverse: dict[str, list[str]] = state["inverse"]  # stem → English, from eng→X
        self.pivots: dict[str, list[list[str]]] = state["pivots"]  # stem → [language, headword]

    def __bool__(self) -> bool:
        return bool(self.forward or self.inverse or self.pivots)

    def segment(self, run: str) -> list[tuple[str, int]]:
        """Longest dictionary words, left to right, with their offsets in `run`."""
        out, i = [], 0
        while i < len(run) - 1:
            for size in range(min(JA_LONGEST, len(run) - i), 1, -1):
                word = run[i : i + size]
                if any(word in table for table in self.forward):
                    out.append((word, i))
                    i += size
                    break
            else:
                i += 1
        return out

    def english(self, word: str) -> tuple[str, ...]:
        """English stems of a word: its own dictionaries', then through a pivot language.
        Not cached here: its only caller, `_keys`, keeps what it returns."""
        out = list(self.direct(word))
        for via, head in self.pivots.get(stem(word.lower(), self.lang), ()):
            other = lexicon(via) if len(out) < MAX_SENSES else None
            for english in other.direct(head)[:PIVOT_SENSES] if other else ():
                if english not in out:
                    out.append(english)
        return tuple(out[:MAX_SENSES])

    @lru_cache(maxsize=200_000)  # noqa: B019 - one Lexicon per language and process
    def direct(self, word: str) -> tuple[str, ...]:
        """English from this language's own dictionaries (one hop, no pivot)."""
        lowered = word.lower()
        key = stem(lowered, self.lang)
        out: list[str] = []
        heads = [lowered] if any(lowered in table for table in self.forward) else []
        heads += [h for h in self.heads.get(key, ()) if h != lowered][:2]
        for head in heads[:3]:
            for table in self.forward:
                for english in table.get(head, "").split():
                    if english not in out:
                        out.append(english)
            if len(out) >= MAX_SENSES:
                break
        for english in self.inverse.get(key, ()):
            if english not in out:
                out.append(english)
        return tuple(out[:MAX_SENSES])


# ---------------------------------------------------------------- what a language needs


def _paths(directory: Path, name: str) -> tuple[Path, Path] | None:
    """The .index and .dict.dz files of one dictionary, when both are installed."""
    stem_path = directory / f"freedict-{name}"
    index, data = stem_path.with_suffix(".index"), stem_path.with_suffix(".dict.dz")
    return (index, data) if index.is_file() and data.is_file() else None


def _open(directory: Path, name: str) -> DictdFile | None:
    if _paths(directory, name) is None:
        return None
    try:
        return DictdFile(directory / f"freedict-{name}")
    except (OSError, ValueError):  # unreadable or not a dictzip file: as if not installed
        return None


def build_state(lang: str, directory: Path) -> dict[str, Any]:
    """Everything a Lexicon holds, worked out from the dictionary files (seconds for German)."""
    forward_names, backward_names = SOURCES[lang]
    forward = [book.english_table() for name in forward_names
               if (book := _open(directory, name)) is not None]
    heads: dict[str, list[str]] = {}
    for table in forward:
        for head in table:
            if " " not in head:
                heads.setdefault(stem(head, lang), []).append(head)
    inverse: dict[str, list[str]] = {}
    for name in backward_names:
        if (book := _open(directory, name)) is not None:
            _invert(book, lang, inverse)
    pivots: dict[str, list[list[str]]] = {}
    for name, via in PIVOTS.get(lang, ()):
        if (book := _open(directory, name)) is not None:
            _invert_pivot(book, lang, via, pivots)
    return {"forward": forward, "heads": heads, "inverse": inverse, "pivots": pivots}


def _invert(book: DictdFile, lang: str, inverse: dict[str, list[str]]) -> None:
    """English → X entries turned round: X stem → English stems."""
    for head, definition in book.all_entries():
        if " " in head.strip():
            continue
        key = english_key(head.strip())
        if key is None:
            continue
        for sense in _senses(definition)[:4]:
            words = sense.split()
            if len(words) != 1 or len(words[0]) < MIN_LETTERS:
                continue
            targets = inverse.setdefault(stem(words[0], lang), [])
            if key not in targets and len(targets) < MAX_SENSES:
                targets.append(key)


def _invert_pivot(
    book: DictdFile, lang: str, via: str, pivots: dict[str, list[list[str]]]
) -> None:
    """`via` → X entries turned round: X stem → [via, headword], read on through `via`."""
    for head, definition in book.all_entries():
        head = head.strip()
        if " " in head or len(head) < MIN_LETTERS:
            continue
        for sense in _senses(definition)[:2]:
            words = sense.split()
            if len(words) != 1 or len(words[0]) < MIN_LETTERS or (
                    lang in CYRILLIC_LANGS) != bool(_CYRILLIC.search(words[0])):
                continue
            heads = pivots.setdefault(stem(words[0], lang), [])
            if [via, head] not in heads and len(heads) < 2:
                heads.append([via, head])


def cache_dir() -> Path | None:
    """Where worked-out dictionaries are kept, or None when there is no home to keep them."""
    configured = os.environ.get("COMPLIANCE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        return Path(base or Path.home() / ".cache") / "compliance"
    except RuntimeError:  # no home directory known
        return None


def _fingerprint(lang: str, directory: Path) -> str:
    """Names what a cached state was made from: the files (size, time) and this code."""
    forward, backward = SOURCES[lang]
    names = [*forward, *backward, *(name for name, _ in PIVOTS.get(lang, ()))]
    files = []
    for name in names:
        for path in _paths(directory, name) or ():
            info = path.stat()
            files.append([path.name, info.st_size, info.st_mtime_ns])
    made_by = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps([lang, made_by, files]).encode()).hexdigest()[:20]


def _load_state(lang: str, directory: Path) -> dict[str, Any]:
    """The language's state from the cache when it is there and current, else built (and
    kept for the next process: written whole under a temporary name, then renamed)."""
    folder = cache_dir()
    where = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:8]
    path = None
    if folder is not None:
        path = folder / f"lexicon-{lang}-{where}-{_fingerprint(lang, directory)}.json"
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(state, dict) and set(state) == {"forward", "heads", "inverse",
                                                          "pivots"}:
                return state
        except (OSError, ValueError):
            pass  # absent, unreadable or damaged: built again below
    state = build_state(lang, directory)
    if path is not None:
        _keep(path, state)
        for stale in path.parent.glob(f"lexicon-{lang}-{where}-*.json"):
            if stale != path:
                with contextlib.suppress(OSError):
                    stale.unlink()
    return state


def _keep(path: Path, state: dict[str, Any]) -> None:
    """Written whole under a temporary name, then renamed: a reader sees all of it or none."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent,
                                         prefix=".lexicon-", delete=False) as fh:
            temporary = fh.name
            json.dump(state, fh, ensure_ascii=False)
        os.replace(temporary, path)
    except OSError as exc:  # a read-only home: every process works it out for itself
        log.info("dictionaries not kept in %s: %s", path.parent, exc)
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


_LOCK = threading.Lock()
_LEXICA: dict[str, Lexicon | None] = {}


def lexicon(lang: str | None) -> Lexicon | None:
    """The language's dictionaries (loaded on first use), or None when none is installed."""
    if lang not in SOURCES:
        return None
    with _LOCK:
        if lang not in _LEXICA:
            loaded = Lexicon(lang, DICT_DIR) if DICT_DIR.is_dir() else None
            _LEXICA[lang] = loaded if loaded else None
        return _LEXICA[lang]


def use_directory(directory: Path) -> None:
    """Read dictionaries from another folder from now on (tests, other installs)."""
    global DICT_DIR
    with _LOCK:
        DICT_DIR = Path(directory)
        _LEXICA.clear()
    available.cache_clear()
    word_langs.cache_clear()
    _keys.cache_clear()


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether any dictionary is installed (English pages pivot only then)."""
    return any(lexicon(lang) is not None for lang in SOURCES)


@lru_cache(maxsize=1)
def word_langs() -> frozenset[str]:
    """Languages whose texts get dictionary-word anchors (none without dictionaries)."""
    if not available():
        return frozenset()
    return frozenset({"en"} | {lang for lang in SOURCES if lexicon(lang) is not None})


def word_keys(text: str, lang: str | None) -> list[tuple[str, int, int]]:
    """(key, start, end) of every content word's English stems, in reading order."""
    return [(key, start, end) for start, end, key, _ in word_rows(text, lang)]


_MATCHED = re.Match.group  # a matched word, by a C call (for map)


def word_rows(text: str, lang: str | None) -> list[tuple[int, int, str, str]]:
    """`word_keys` as anchor rows: (start, end, key, "word"), what anchors.py sorts in."""
    if lang == "en":
        if not available():
            return []
        pattern, source = _EN_WORD, text.lower()
    else:
        lex = lexicon(lang)
        if lex is None:
            return []
        if lang == "ja":
            out: list[tuple[int, int, str, str]] = []
            for m in _JA_RUN.finditer(text):
                for word, at in lex.segment(m.group(0)):
                    start = m.start() + at
                    out.extend((start, start + len(word), key, "word")
                               for key in _keys(lang, word))
            return out
        pattern, source = _WORD, text
    out = []
    append = out.append
    # The words and their keys are looked up by C loops (map); Python visits each word once.
    matches = list(pattern.finditer(source))
    for m, keys in zip(matches, map(_keys, repeat(lang), map(_MATCHED, matches)), strict=True):
        if keys:
            start, end = m.span()
            for key in keys:
                append((start, end, key, "word"))
    return out


@lru_cache(maxsize=1 << 18)  # most of a page's words were seen on pages before it
def _keys(lang: str, word: str) -> tuple[str, ...]:
    """The anchor keys ("c:" and an English stem) of one word of `lang`."""
    if lang == "en":
        key = english_key(word)
        return ("c:" + key,) if key else ()
    lex = lexicon(lang)
    return tuple("c:" + key for key in lex.english(word)) if lex else ()
