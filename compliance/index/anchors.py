"""Language-independent anchors: what survives translation.

A translation changes every word but keeps numbers, dates, names, acronyms and
addresses. Each is reduced to a key that is the same in every language and
script: numbers lose their locale ("3.215,63" = "3,215.63"), dates their month
names, names their script (Cyrillic, pinyin and kana readings, all folded to a
coarse consonant skeleton so that "Selenskyj", "Zelensky" and "Зеленский"
agree). Anchors keep their offsets so that alignment can show passages.
"""

from __future__ import annotations

import re
import sys
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from anyascii import anyascii

from .calendar import CAPITALISED_ONLY, month_table, weekday_table
from .lexicon import word_rows
from .text import fold, script_of

# Anchor kinds and how much one of them says on its own (before rarity).
BASE_WEIGHT = {"num": 1.0, "year": 0.5, "small": 0.3, "date": 1.2, "month": 0.3, "wday": 0.3,
               "name": 1.0, "joined": 1.0, "acro": 0.8, "url": 2.0,
               "word": 0.4}


class Anchor(NamedTuple):
    """One anchor and where it sits (a tuple: a long page makes a thousand of them)."""

    key: str  # "n:3215.63", "d:12-29", "p:bdN", …
    kind: str
    start: int
    end: int


# Each of these starts with a digit and looks behind it only then ("(?<![\d.,]\d)" is
# "(?<![\d.,])" before that digit): a pattern that starts with a look-behind is tried at
# every position of the text, one that starts with a digit only where there is a digit.
_NUMBER = re.compile(
    r"\d(?<![\d.,]\d)(?:\d{0,2}(?:([ \u00a0\u202f'.,])\d{3})(?:\1\d{3})*(?:[.,]\d+)?"
    r"|\d*(?:[.,]\d+)?)(?!\d)"
)
_ISO_DATE = re.compile(r"(\d(?<!\w\d)\d{3})-(\d{2})-(\d{2})\b")
_NUMERIC_DATE = re.compile(r"(\d(?<![\d.]\d)\d?)\.(\d{1,2})\.(\d{4})\b")
_CJK_DATE = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_CJK_WEEKDAY = re.compile(r"(?:星期|礼拜|周)([一二三四五六日天])|([月火水木金土日])(?:曜|[)）])")
_CJK_WEEKDAY_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7,
                    "月": 1, "火": 2, "水": 3, "木": 4, "金": 5, "土": 6}
# Magnitude words after a number: "2,5 Millionen" = "2.5 million" = "250万" = "2,5 млн".
_MAGNITUDES = [
    (re.compile(r"(?:mil millones|milliard\w*|miliard\w*|billion|mrd|млрд|миллиард\w*"
                r"|мільярд\w*)\b"), 9),
    (re.compile(r"(?:trillion\w*|billionen|billions|bilion\w*|трлн|триллион\w*|трильйон\w*)\b"),
     12),
    (re.compile(r"(?:million\w*|mio|millones|milion\w*|milhões|milhoes|milijun\w*|млн"
                r"|миллион\w*|мільйон\w*)\b"), 6),
    (re.compile(r"(?:thousand|tausend|mille|mil|tisíc\w*|tisuć\w*|tysi\w+|тысяч\w*|тыс"
                r"|тисяч\w*)\b"), 3),
]
_CJK_MAGNITUDE = {"万": 4, "萬": 4, "亿": 8, "億": 8, "千": 3, "百万": 6, "兆": 12}
_CJK_MAGNITUDE_LONGEST_FIRST = sorted(_CJK_MAGNITUDE.items(), key=lambda kv: -len(kv[0]))
_LETTERS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’][^\W\d_]+)?")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]]+|(?<![\w.])[@#][A-Za-z_]\w{2,}")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_FROM_KANA = re.compile("[\u3040-\U0010ffff]")
_KANA_OR_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff々ー]")


Row = tuple[int, int, str, str]  # start, end, key, kind: an anchor as matching reads it


def extract_anchors(text: str, lang: str | None = None) -> list[Anchor]:
    """Every anchor of `text`, in reading order."""
    return [Anchor(key, kind, start, end) for start, end, key, kind in anchor_rows(text, lang)]


def anchor_rows(text: str, lang: str | None = None) -> list[Row]:
    """`extract_anchors` as plain (start, end, key, kind) tuples, sorted as they stand.

    What matching uses: a page makes a thousand anchors, and plain tuples are made and
    sorted several times faster than named ones.
    """
    found = _numbers(text)
    found += _dates(text, lang)
    found += _urls(text)
    found += _names(text)
    script = script_of(text)
    if script == "han":
        found += _han_readings(text)
    elif script == "kana":
        found += _kana_readings(text)
    found += word_rows(text, lang)
    found.sort()
    return found


# ---------------------------------------------------------------- numbers


def canonical_number(raw: str) -> Decimal | None:
    """The value of a number written in any locale's convention, or None."""
    digits = raw.replace("\u00a0", " ").replace("\u202f", " ")
    seps = [c for c in digits if not c.isdigit()]
    if not seps:
        return Decimal(digits)
    last = seps[-1]
    after = len(digits) - digits.rfind(last) - 1
    if len(set(seps)) > 1:  # 3.215,63 or 3,215.63: the last separator is the decimal one
        if last not in ".,":
            return None
        whole, frac = digits[: digits.rfind(last)], digits[digits.rfind(last) + 1 :]
        whole = "".join(c for c in whole if c.isdigit())
        return _decimal(f"{whole}.{frac}")
    if len(seps) > 1 or last in " '":
        return _decimal(digits.replace(last, ""))
    if after == 3 and not digits.startswith("0" + last):  # 1,000 / 1.000: grouping
        return _decimal(digits.replace(last, ""))
    return _decimal(digits.replace(last, "."))


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def number_key(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "n:" + (text.rstrip("0").rstrip(".") if "." in text else text)


def _number_kind(value: Decimal) -> str:
    if value == value.to_integral_value():
        if 1900 <= value <= 2100:
            return "year"
        if value <= 31:
            return "small"
    return "num"


def _numbers(text: str) -> list[Row]:
    out = []
    for match in _NUMBER.finditer(text):
        read = _read_number(match.group())
        if read is None:
            continue
        value, key, kind = read
        start, end = match.span()
        out.append((start, end, key, kind))
        scaled = _scaled(text, end, value)
        if scaled is not None:
            out.append((start, end, number_key(scaled), "num"))
    return out


@lru_cache(maxsize=1 << 14)  # "2", "10", "2024": the same numbers on page after page
def _read_number(raw: str) -> tuple[Decimal, str, str] | None:
    value = canonical_number(raw)
    return None if value is None else (value, number_key(value), _number_kind(value))


def _scaled(text: str, end: int, value: Decimal) -> Decimal | None:
    tail = text[end : end + 24]
    stripped = tail.lstrip(" \u00a0")
    for cjk, power in _CJK_MAGNITUDE_LONGEST_FIRST:
        if tail.startswith(cjk):
            return value.scaleb(power)
    lowered = stripped.lower()
    for pattern, power in _MAGNITUDES:
        if pattern.match(lowered):
            return value.scaleb(power)
    return None


# ---------------------------------------------------------------- dates


def _dates(text: str, lang: str | None) -> list[Row]:
    out = []
    months, weekdays, abbreviations = month_table(lang), weekday_table(lang), _abbreviations(lang)
    calendar = _calendar_words(lang)
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower-case to two characters
        lowered = text
    # Most words of a page are no month or weekday: the ones the page holds are found at
    # the regex engine's speed, then only they are looked for, each where it is a whole word.
    present = calendar.intersection(_LETTERS.findall(lowered))
    for match in _calendar_finder(frozenset(present)).finditer(lowered) if present else ():
        start, end = match.span()
        if (start and _LETTER.match(lowered, start - 1)) or _LETTER.match(lowered, end):
            continue  # inside a word ("mai" in "maison")
        if (start >= 2 and lowered[start - 1] in "'’" and _LETTER.match(lowered, start - 2)) or (
                lowered[end : end + 1] in ("'", "’") and _LETTER.match(lowered, end + 1)):
            continue  # part of a longer word ("l'août")
        word = match.group(0)
        if word in CAPITALISED_ONLY and not text[match.start()].isupper():
            continue
        month = months.get(word)
        if month is None and word in abbreviations and text[match.end() : match.end() + 1] == ".":
            month = abbreviations[word]
        if month is not None:
            out.append((*match.span(), f"m:{month:02d}", "month"))
            day = _day_near(text, match)
            if day is not None:
                value, start, end = day
                span = (min(start, match.start()), max(end, match.end()))
                out.append((*span, f"d:{month:02d}-{value:02d}", "date"))
        elif word in weekdays:
            out.append((*match.span(), f"w:{weekdays[word]}", "wday"))
    cjk = _FROM_KANA.search(text) is not None  # CJK dates and weekdays need CJK characters
    patterns = ((_ISO_DATE, (2, 3)), (_NUMERIC_DATE, (2, 1))) + (((_CJK_DATE, (1, 2)),) if cjk
                                                                 else ())
    for pattern, order in patterns:
        for match in pattern.finditer(text):
            month, day = int(match.group(order[0])), int(match.group(order[1]))
            if 1 <= month <= 12 and 1 <= day <= 31:
                out.append((*match.span(), f"m:{month:02d}", "month"))
                out.append((*match.span(), f"d:{month:02d}-{day:02d}", "date"))
    for match in _CJK_WEEKDAY.finditer(text) if cjk else ():
        if match.group(2) and not match.group(0).endswith("曜") and not _opens(text, match):
            continue
        day = _CJK_WEEKDAY_NUM[match.group(1) or match.group(2)]
        out.append((*match.span(), f"w:{day}", "wday"))
    return out


@lru_cache(maxsize=1024)
def _calendar_finder(words: frozenset[str]) -> re.Pattern[str]:
    """The given words wherever they occur (a pattern without look-arounds is scanned
    several times faster; whether a hit is a whole word is checked by the caller)."""
    alternatives = "|".join(map(re.escape, sorted(words, key=lambda w: (-len(w), w))))
    return re.compile(alternatives)


def _opens(text: str, match: re.Match[str]) -> bool:
    """'５日（火）': a one-character weekday in brackets."""
    return match.start() > 0 and text[match.start() - 1] in "(（"


@lru_cache(maxsize=64)
def _calendar_words(lang: str | None) -> frozenset[str]:
    """Month and weekday names and month abbreviations: one look-up per word of a page."""
    return frozenset(month_table(lang)) | frozenset(weekday_table(lang)) | frozenset(
        _abbreviations(lang))


@lru_cache(maxsize=1)
def _month_and_day_names() -> frozenset[str]:
    """Month and weekday names of every language: capitalised, they are no names."""
    return frozenset(month_table(None)) | frozenset(weekday_table(None))


@lru_cache(maxsize=64)
def _abbreviations(lang: str | None) -> dict[str, int]:
    """'Dec.', 'janv.', 'Okt.': three or four letters that start one month's names only."""
    meanings: dict[str, set[int]] = {}
    for form, number in month_table(lang).items():
        for size in (3, 4):
            if len(form) > size:
                meanings.setdefault(form[:size], set()).add(number)
    return {prefix: ns.pop() for prefix, ns in meanings.items() if len(ns) == 1}


def _day_near(text: str, match: re.Match[str]) -> tuple[int, int, int] | None:
    """A day number just before ("29 décembre", "29. Dezember") or after ("December 29")."""
    offset = max(0, match.start() - 5)
    before = re.search(r"(?<!\d)(\d{1,2})\.?\s{1,2}$", text[offset : match.start()])
    if before:
        value = int(before.group(1))
        if 1 <= value <= 31:
            return value, offset + before.start(1), offset + before.end(1)
    after = re.match(r"\.?\s{1,2}(\d{1,2})(?!\d)(?![.,]\d)", text[match.end() : match.end() + 6])
    if after:
        value = int(after.group(1))
        if 1 <= value <= 31:
            return value, match.end() + after.start(1), match.end() + after.end(1)
    return None


# ---------------------------------------------------------------- addresses


def _urls(text: str) -> list[Row]:
    out: list[Row] = []
    if not ("http" in text or "www." in text or "@" in text or "#" in text):
        return out  # what every address or handle starts with (a scan far cheaper than _URL's)
    for match in _URL.finditer(text):
        raw = match.group(0).rstrip(".,;:!?")
        key = re.sub(r"^(?:https?://)?(?:www\.)?", "", raw.lower()).rstrip("/")
        if key:
            out.append((match.start(), match.start() + len(raw), "u:" + key, "url"))
    return out


# ---------------------------------------------------------------- names


_DIGRAPHS = [("shch", "s"), ("tsch", "c"), ("sch", "s"), ("dzh", "j"), ("sh", "s"), ("ch", "c"),
             ("zh", "j"), ("kh", "k"), ("ts", "s"), ("tz", "s"), ("ph", "f"), ("th", "t"),
             ("ck", "k"), ("qu", "k"), ("dj", "j"), ("ng", "n"), ("x", "ks")]
_CLASSES = str.maketrans({"w": "v", "f": "v", "z": "s", "c": "t", "q": "k", "r": "l", "m": "n",
                          "a": None, "e": None, "i": None, "o": None, "u": None, "y": None,
                          "h": None})


_NOT_ASCII_LETTER = re.compile(r"[^a-z]")
_DROP_ASCII_NON_LETTERS = str.maketrans("", "", "".join(
    chr(code) for code in range(128) if not "a" <= chr(code) <= "z"))
_DOUBLED = re.compile(r"(.)\1+")
_GLIDE_J = re.compile(r"(?<=[aeiouy])j(?![aeiou])")
_FIRST_GROUP = itemgetter(1)  # a callable in C: a "\\1" template costs a Python call per use


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """A coarse consonant skeleton that transliterations of one name share.

    Vowels go (they are what transliteration changes most), sibilants, nasals
    and liquids merge (Japanese and Chinese readings do not tell l from r,
    Chinese drops final n/ng distinctions), the initial sound is kept.
    """
    ascii_word = anyascii(word).lower()
    if ascii_word.isascii():  # as anyascii's always is: a C table drops all but a-z
        ascii_word = ascii_word.translate(_DROP_ASCII_NON_LETTERS)
    else:
        ascii_word = _NOT_ASCII_LETTER.sub("", ascii_word)
    if not ascii_word:
        return ""
    head = "a" if ascii_word[0] in "aeiouy" else ""
    ascii_word = _DOUBLED.sub(_FIRST_GROUP, ascii_word)  # Matthew, Scholl: doubled letters
    if "j" in ascii_word:
        ascii_word = _GLIDE_J.sub("", ascii_word)  # Selenskyj, Kyjiw
    for old, new in _DIGRAPHS:
        ascii_word = ascii_word.replace(old, new)
    return head + ascii_word.translate(_CLASSES)


def _is_name_case(raw: str) -> bool:
    return raw[:1].isupper() and not raw.isupper()


@lru_cache(maxsize=1)
def _capitalised_words() -> re.Pattern[str]:
    """The words of `_WORD` that do not begin with a lower-case letter, found by the regex
    engine: the words before each are passed over whole (possessively, so that no word is
    entered half-way), and every match ends with one such word or at the end of the text.

    Python's regexes have no class for lower-case letters: it is made from the code points
    (once per process, some 60 ms).
    """
    letter = re.compile(r"[^\W\d_]")
    lower = sorted(ord(c) for c in map(chr, range(sys.maxunicode + 1))
                   if c.islower() and letter.match(c))
    runs: list[list[int]] = []
    for code in lower:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    lower_class = "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b)))
                          for a, b in runs)
    rest = r"[^\W_]*+(?:['’][^\W\d_]+)?+"  # what follows a word's first letter, as in _WORD
    return re.compile(rf"(?:[{lower_class}]{rest}|[\W\d_]++)*+([^\W\d_]{rest})?")


def _names(text: str) -> list[Row]:
    """Capitalised words (not sentence-initial common words), acronyms, and joined pairs."""
    cjk = _KANA_OR_HAN.search(text) is not None  # most pages have none: no word to test then
    lower_words = [w for w in set(_WORD.findall(text)) if w[0].islower()]
    if cjk:
        lower_words = [w for w in lower_words if not _KANA_OR_HAN.search(w)]
    # Folded all at once: no word holds a line break, and folding keeps them apart.
    lower_forms = set(fold("\n".join(lower_words)).split("\n")) if lower_words else set()
    calendar_words = _month_and_day_names()
    out: list[Row] = []
    previous: tuple[int, int] | None = None  # span of the name just before
    # A word between two names keeps them apart by itself (see the joined test below):
    # the lower-case words, which can be no name, are not even visited.
    for m in _capitalised_words().finditer(text):
        raw = m.group(1)
        if raw is None or (cjk and _KANA_OR_HAN.search(raw)):
            continue
        span = m.span(1)
        acronym, folded, key = _name_forms(raw)
        if acronym:
            out.append((*span, acronym, "acro"))
            previous = None
            continue
        if folded is None or folded in lower_forms or folded in calendar_words:
            previous = None  # not capitalised as names are ("iPhone", "ǅ"), or a common word
            continue
        if key:
            out.append((*span, key, "name"))
        if previous is not None and text[previous[1] : span[0]] in (" ", "-", "\u00a0"):
            joined = skeleton(text[previous[0] : span[1]])
            if len(joined) >= 4:
                out.append((previous[0], span[1], "j:" + joined, "joined"))
        previous = span
    return out


@lru_cache(maxsize=1 << 16)  # capitalised words (German nouns too) recur from page to page
def _name_forms(raw: str) -> tuple[str | None, str | None, str | None]:
    """What a word not starting in lower case is: its acronym key ("NATO"), or else, when
    it is capitalised as a name is, the folded word and its name key (when its skeleton
    is long enough to mean anything)."""
    if len(raw) >= 2 and raw.isupper() and raw.isalpha():
        return "a:" + anyascii(raw).lower(), None, None
    if not _is_name_case(raw):
        return None, None, None
    key = skeleton(raw)
    return None, fold(raw), "p:" + key if len(key) >= 3 else None


def _han_readings(text: str) -> list[Row]:
    """Pinyin of every 2- and 3-character window of Chinese text.

    Chinese names are two or three characters (a surname and a given name) and
    place names mostly two; without a word segmenter every window is a candidate,
    and the page's Latin names pick the right ones.
    """
    from pypinyin import lazy_pinyin

    out = []
    for run in _HAN_RUN.finditer(text):
        chars = run.group(0)
        readings = lazy_pinyin(chars)
        if len(readings) != len(chars):
            continue
        base = run.start()
        for i in range(len(chars) - 1):
            pair = skeleton(readings[i] + readings[i + 1])
            if len(pair) >= 3:
                out.append((base + i, base + i + 2, "p:" + pair, "name"))
            if len(pair) >= 4:
                out.append((base + i, base + i + 2, "j:" + pair, "joined"))
            if i + 2 < len(chars):
                triple = skeleton(readings[i] + readings[i + 1] + readings[i + 2])
                if len(triple) >= 4:
                    out.append((base + i, base + i + 3, "j:" + triple, "joined"))
    return out


def load_readers() -> None:
    """Load the Chinese and Japanese reading models now (about half a second, once per
    process) rather than on the first such page: what a benchmark does before timing."""
    from pypinyin import lazy_pinyin

    lazy_pinyin("中文")
    _kakasi()


@lru_cache(maxsize=1)
def _kakasi():  # type: ignore[no-untyped-def]
    import pykakasi

    return pykakasi.kakasi()


_JA_RUN = re.compile(r"[\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff々ー]+")


def _kana_readings(text: str) -> list[Row]:
    """Hepburn readings of Japanese words written in kanji or katakana (names, places, loans).

    Only runs of kanji and katakana are read (hiragana is grammar), each run once.
    """
    out: list[Row] = []
    previous: tuple[str, int, int] | None = None  # reading, start, end of the word before
    for run in _JA_RUN.finditer(text):
        for reading, start, end in _run_readings(run.group(0)):
            start, end = run.start() + start, run.start() + end
            key = skeleton(reading)
            if len(key) >= 3:
                out.append((start, end, "p:" + key, "name"))
            if previous is not None and previous[2] == start:
                joined = skeleton(previous[0] + reading)
                if len(joined) >= 4:
                    out.append((previous[1], end, "j:" + joined, "joined"))
            previous = (reading, start, end)
    return out


@lru_cache(maxsize=16384)
def _run_readings(run: str) -> tuple[tuple[str, int, int], ...]:
    out = []
    position = 0
    for segment in _kakasi().convert(run):
        orig = segment["orig"]
        start = run.find(orig, position)
        if start < 0:
            continue
        position = start + len(orig)
        out.append((segment["passport"] or segment["hepburn"], start, position))
    return tuple(out)
