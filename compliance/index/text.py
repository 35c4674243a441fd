"""Tokens and sentences with character offsets, shared by fingerprints and anchors.

Offsets always index the text as given, so every match can be shown on the page
and in the dispatch side by side.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Han, kana and hangul are written without spaces: each character is one token.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['’][^\W\d_{_CJK}]+)?")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_CYRILLIC_CHAR = re.compile(r"[\u0400-\u04ff]")
_FROM_IPA = re.compile(r"[^\x00-\u024f]")  # not a Latin letter (nor anything before U+0250)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])[\"'”»)\]]*\s+|(?<=[。！？])|\n+")
_MASK = (1 << 63) - 1
# Languages by script, where a rule depends on how a language is written.
CYRILLIC_LANGS = frozenset({"ru", "uk", "bg", "sr", "be", "mk"})
CJK_LANGS = frozenset({"zh", "ja", "ko"})
# Direct quotations. An opening mark runs to the first closing mark of its kind in the
# same paragraph, or to the paragraph's end: a quote over several paragraphs reopens
# each one, and real text has stray marks. Plain double quotes face the way their
# neighbours say: an opening one follows a space or a bracket and precedes a letter.
_QUOTE_OPENS = re.compile(r'[“„«「『]|(?:(?<=^)|(?<=[\s(\[—–-]))"(?=\S)', re.MULTILINE)
_QUOTE_CLOSES = {
    "“": re.compile("”"), "„": re.compile("[“”]"), "«": re.compile("»"),
    "「": re.compile("」"), "『": re.compile("』"), '"': re.compile(r'(?<=\S)"'),
}


class Token(NamedTuple):
    """A normalised word (or CJK character) and where it sits (a tuple: made by the thousand)."""

    text: str
    start: int
    end: int


def fold(text: str) -> str:
    """Case- and width-insensitive form: NFKC, lower case, typographic apostrophes unified."""
    return unicodedata.normalize("NFKC", text).lower().replace("’", "'")


def tokens(text: str) -> list[Token]:
    """Words and CJK characters with their offsets in `text` (offsets survive folding)."""
    folded = fold(text)
    if len(folded) == len(text):  # the usual case: offsets in the folded text are the same
        return [Token(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(folded)]
    return [Token(fold(m.group(0)), m.start(), m.end()) for m in TOKEN.finditer(text)]


def token_texts(text: str) -> list[str]:
    """The texts of `tokens(text)`, without their offsets (found at the regex engine's speed)."""
    folded = fold(text)
    if len(folded) == len(text):
        return TOKEN.findall(folded)
    return [fold(t) for t in TOKEN.findall(text)]


@lru_cache(maxsize=8)  # a page is compared with several candidate dispatches in a row
def quoted_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where the text quotes someone directly (sorted, disjoint): independent reports of
    one speech share these words without sharing anyone's copy."""
    spans: list[tuple[int, int]] = []
    for opening in _QUOTE_OPENS.finditer(text):
        start = opening.start()
        if spans and start < spans[-1][1]:
            continue
        line_end = text.find("\n", start)
        line_end = len(text) if line_end < 0 else line_end
        closing = _QUOTE_CLOSES[opening.group()].search(text, start + 1, line_end)
        spans.append((start, closing.end() if closing else line_end))
    return tuple(spans)


@lru_cache(maxsize=1 << 18)  # a page's anchor keys repeat, and recur from page to page
def stable_hash(key: str) -> int:
    """A 63-bit hash that is the same in every process (SQLite INTEGER, never negative)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") & _MASK


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: ends at . ! ? (and their CJK forms) followed by space, or a line break."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start()
        if end > start and text[start:end].strip():
            spans.append(_strip(text, start, end))
        start = match.end()
    if start < len(text) and text[start:].strip():
        spans.append(_strip(text, start, len(text)))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=8)  # asked of a page by its anchors and again by the matcher
def script_of(text: str) -> str:
    """`han`, `kana` (Japanese), `cyrillic`, `latin` or `other`: what decides how names are read."""
    sample = text[:3000]
    kana = len(_KANA.findall(sample))
    han = len(_HAN.findall(sample))
    if kana > 20 or (kana and kana * 10 >= han):
        return "kana"
    if han > 20:
        return "han"
    letters = "".join(filter(str.isalpha, sample))  # counted by C loops, not per character
    if not letters:
        return "other"
    cyr = len(_CYRILLIC_CHAR.findall(letters))
    if cyr * 2 > len(letters):
        return "cyrillic"
    latin = len(letters) - len(_FROM_IPA.findall(letters))  # the fewer: a shorter list
    return "latin" if latin * 2 > len(letters) else "other"
