"""Find agency credits where credits live, and tell them from mere mentions.

A credit counts only in a slot: a dateline opening one of the first
paragraphs, a closing credit ending a paragraph, a source line, a byline,
page metadata, or a copyright/usage notice. The agency's name is looked up
inside the slot from the rulebook's `credits` forms (case-sensitive), so
"Michael Bloomberg", "Sputnik V" or "told AFP" never match. Photo credits
("REUTERS/Name", "Foto: dpa", "AFP via Getty Images") are recorded as
mentions, never as attributions of the article text.
"""

from __future__ import annotations

import functools
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from re import _constants as sre  # type: ignore[attr-defined]  # parse-tree opcodes
from re import _parser as sre_parse  # type: ignore[attr-defined]

from ..model import Block, Document, Evidence
from ..rulebook import Rulebook
from ..rulebook.schema import Marker

WEIGHTS = {
    "dateline": 0.95,
    "credit": 0.9,
    "notice": 0.9,
    "source": 0.85,
    "byline": 0.85,
    "metadata": 0.75,
}
OUTSIDE_NOTICE_WEIGHT = 0.5  # a notice in site chrome may speak for the site, not the article
NOTICE_PHRASE = 30  # matches this long are rights notices, not bare copyright lines
FIRST_PARAGRAPHS = 3
SHORT_LINE = 200
MAX_PREFIX = 80

# Words allowed beside agency names inside a credit slot: connectors and short tags
# ("(FR mit dpa)", "(mit Material von AFP)", "(dpa/lno)", "(ats/nxp)", "(avec AFP)").
SLOT_WORDS = {
    "mit",
    "material",
    "von",
    "der",
    "des",
    "aus",
    "with",
    "from",
    "and",
    "und",
    "et",
    "y",
    "e",
    "i",
    "avec",
    "con",
    "com",
    "en",
    "de",
    "du",
    "la",
    "le",
    "información",
    "informações",
    "informacion",
    "reporting",
    "additional",
    "by",
    "via",
    "agencies",
    "news",
    "agency",
    "nachrichtenagentur",
    "agentur",
    "agenturen",
    "wires",
    "wire",
    "services",
    "dr",
    "red",
}
SOURCE_LABEL = (
    r"(?:Quelle|Quellen|Source|Sources|Bron|Bronnen|Fuente|Fuentes|Fonte|Fontes|Fonti|Źródło"
    r"|Источник|Kaynak|Forrás|Zdroj|Kilde|Källa|Lähde|Text|Texte|Texto|Testo|Agentur|Agency"
    r"|Agence|Agencia|Agenzia)"
)
_SOURCE_LINE = re.compile(
    rf"^\(?\s*{SOURCE_LABEL}\s*:\s*(?P<slot>.{{1,160}}?)\s*\)?\.?$", re.IGNORECASE
)
_READ_MORE = re.compile(
    r"^(?:Read more|Continue reading|Lesen Sie mehr|Weiterlesen|Lire la suite|Plus d'infos?"
    r"|Leer más|Lees meer|Leggi di più|Leia mais)\b.{0,60}?\b(?:on|at|auf|bei|sur|en|op|su|em|in)"
    r"\s+(?P<slot>(?:https?://)?[\w.-]+\.[a-z]{2,}\S*)\s*\.?$",
    re.IGNORECASE,
)
_DATELINE = re.compile(
    r"^(?P<pre>[^()\n]{0,80}?)\s*\((?P<slot>[^()\n]{1,60})\)\s*(?P<sep>--|[-–—=:]|\.\s*[-–—]|\.)?"
)
_CLOSING = re.compile(r"\((?P<slot>[^()\n]{1,60})\)\s*\.?\s*$")
_CLOSING_PHRASE = re.compile(
    r"(?:^|[.!?»“”\"]\s+|\(\s*)(?:[Mm]it Material (?:von|der|aus|des)|[Ww]ith (?:additional )?"
    r"(?:reporting|material|files|input) (?:from|by)|[Cc]on (?:información|informaci[oó]n) de"
    r"|[Aa]vec|[Mm]aterial from)\s+(?P<slot>[^.()\n]{1,60}?)\s*(?:was used[^.]*)?\)?\.?$"
)
_BYLINE = re.compile(
    r"^(?:(?:By|Von|Par|Por|Di|Door|Av|Af|Text|Autor|Author|Auteur)\s*:?\s+)?"
    r"(?P<names>[^|,/–—]{0,60}?)\s*(?:\||,|/|–|—|-)?\s*(?P<slot>[^|,]{1,60}?)\s*$"
)
_PHOTO_CONTEXT = re.compile(
    r"(?:\b(?:Fotos?|Photos?|Bild(?:er|quelle)?|Images?|Pictures?|Crédits? photo|Crédito|Grafik"
    r"|Illustration|Video|Archivbild|Symbolbild|Titelbild|Foto/Quelle)\s*[:©/]"
    r"|via Getty|Getty Images|picture[ -]alliance|\bPhoto\s*/|\bAP Photo|\bPOOL\b|/\s*File\b"
    r"|Shutterstock|Imago|\bEPA\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_][\w.'’-]*", re.UNICODE)
_DOMAIN = re.compile(
    r"(?:https?://)?(?:www\.)?(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.IGNORECASE
)
_MONTHS = re.compile(
    r"^(?:jan|feb|fév|fev|mär|mar|apr|avr|abr|may|mai|mag|jun|juin|giu|jul|juil|lug|aug|aoû|ago"
    r"|sep|set|okt|oct|ott|nov|dez|dec|déc|dic|ene|gen|jän)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CompiledMarker:
    marker: Marker
    agency: str
    pattern: re.Pattern[str]  # validated against catastrophic backtracking
    # Lowercased strings one of which is in (the lowercased text of) every match; None: the
    # pattern could not be analysed, so it is always tried. See required_literals.
    literals: frozenset[str] | None = None


@dataclass(frozen=True)
class MarkerPrefilter:
    """Which markers are worth a regex search on a text, by cheap substring checks.

    Searching one big alternation of all markers costs most of detection; nearly every
    block contains none of the literals the markers need, so a few `in` checks skip them.
    """

    literals: tuple[str, ...]  # every distinct literal of every marker
    by_literal: dict[str, tuple[int, ...]]  # literal → indices of the markers needing it
    always: tuple[int, ...]  # markers without literals: tried on every block
    # literal → the longest shorter literal inside it ("afp" in " (afp)"): when that one is
    # absent from a text, so is this one, and the text need not be searched for it
    inner: dict[str, str] = field(init=False, repr=False)
    shortest_first: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        inner = {}
        for lit in self.literals:
            shorter = [other for other in self.literals if len(other) < len(lit) and other in lit]
            if shorter:
                inner[lit] = max(shorter, key=len)
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "shortest_first", tuple(sorted(self.literals, key=len)))

    def live(self, lowered: str) -> tuple[str, ...]:
        """The literals present in a lowercased text (a whole page: then only these matter)."""
        present: set[str] = set()
        for lit in self.shortest_first:  # a literal's inner one is tested before it
            inside = self.inner.get(lit)
            if (inside is None or inside in present) and lit in lowered:
                present.add(lit)
        return tuple(lit for lit in self.literals if lit in present)

    def candidates(self, lowered: str, live: Iterable[str]) -> list[int]:
        """Indices, in rulebook order, of the markers that could match this lowercased block."""
        hits = set(self.always)
        for lit in live:
            if lit in lowered:
                hits.update(self.by_literal[lit])
        return sorted(hits)


@dataclass
class CreditTables:
    """Everything detection needs from a rulebook, compiled once."""

    forms: dict[str, str]  # credit form → agency id (case-sensitive)
    aliases: dict[str, str]  # lowercased alias/name → agency id
    form_pattern: re.Pattern[str]
    markers: list[CompiledMarker]
    domains: dict[str, tuple[str, str]] = field(default_factory=dict)  # domain → (kind, id)
    generic: set[str] = field(default_factory=set)  # agencies standing for an unnamed one
    # skips markers whose literals a block lacks; built from `markers`, so always agrees
    prefilter: MarkerPrefilter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.prefilter = _prefilter(self.markers)


_TABLES: dict[str, CreditTables] = {}


def tables(rulebook: Rulebook) -> CreditTables:
    """Compiled tables for this rulebook, built once per process (workers load them once)."""
    if rulebook.digest not in _TABLES:
        _TABLES[rulebook.digest] = build_tables(rulebook)
    return _TABLES[rulebook.digest]


def build_tables(rulebook: Rulebook) -> CreditTables:
    forms: dict[str, str] = {}
    aliases: dict[str, str] = {}
    markers: list[CompiledMarker] = []
    domains: dict[str, tuple[str, str]] = {}
    for agency in rulebook.agencies.values():
        for form in agency.credits:
            forms.setdefault(form, agency.id)
        for name in [agency.name, *agency.aliases]:
            aliases.setdefault(name.lower(), agency.id)
        for domain in agency.own_domains:
            domains[domain.lower()] = ("agency", agency.id)
        for marker in agency.markers:
            markers.append(CompiledMarker(marker, agency.id, _compile_marker(marker)))
    markers = _with_literals(markers)
    for licensee in rulebook.licensees.values():
        for domain in licensee.domains:
            domains.setdefault(domain.lower(), ("licensee", licensee.id))
    form_pattern = re.compile(
        r"(?<![\w&$-])(?:" + _trie_alternation(forms) + r")(?![\w$-])" if forms else r"(?!x)x"
    )
    generic = {a.id for a in rulebook.agencies.values() if a.generic}
    return CreditTables(forms, aliases, form_pattern, markers, domains, generic)


_Trie = dict[str | None, "_Trie"]  # next character → the rest; None: a word ends here


def _trie_alternation(words: Iterable[str]) -> str:
    """A regex matching any of `words`, the longest first, factored by common prefixes.

    A flat alternation of a hundred credit forms tests each of them at every position
    of a page; the factored one follows one path of letters. Its optional endings are
    greedy, so of the forms that fit at a position the longest is tried first, as in
    an alternation sorted by length.
    """
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[None] = {}

    def emit(node: _Trie) -> str:
        branches = [re.escape(char) + emit(child) for char, child in node.items()
                    if char is not None]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if None not in node:
            return body
        return f"(?:{body})?" if len(branches) == 1 else body + "?"

    return emit(trie)


def _compile_marker(marker: Marker) -> re.Pattern[str]:
    if marker.regex is not None:
        return re.compile(marker.regex, re.IGNORECASE if marker.ignore_case else 0)
    words = (re.escape(w) for w in (marker.text or "").split())
    return re.compile(r"\s+".join(words), re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Literal prefilter: strings a marker's matches must contain, read off its parse tree
#
# Both sides are compared lowercased, which is a superset of a case-sensitive match. It is
# only safe for characters whose lowercase is one character, the same in any context (not
# 'Σ') and, for a case-insensitive pattern, shared by everything the regex engine takes for
# the same letter: `(?i)i` matches 'ı' and 'İ' ('İ'.lower() is two characters), `(?i)s`
# matches 'ſ'. Any other character is treated like a class: it ends a literal run.

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_NO_REQUIREMENT = {sre.ANY, sre.AT, sre.NOT_LITERAL, sre.ASSERT, sre.ASSERT_NOT, sre.GROUPREF,
                   sre.GROUPREF_EXISTS, sre.IN, sre.LITERAL}  # (a literal unsafe to lowercase)
_CASE_SAFE: dict[str, bool] = {}  # character → its lowercase stands for all its case variants


class _Unsupported(Exception):
    """A parse-tree construct the analysis does not know: the marker gets no prefilter."""


def _lowers_alone(c: str) -> bool:
    """One-character lowercase, round-trips through uppercase, independent of neighbours."""
    low = c.lower()
    return (len(low) == 1 and c.upper().lower() == low
            and all((a + c + b).lower() == a.lower() + low + b.lower()
                    for a, b in (("A", ""), ("", "A"), ("A", "A"), ("A", " "))))


@functools.cache
def _every_char() -> str:
    """All code points but surrogates, to ask the regex engine itself for case variants."""
    return "".join(array("I", r).tobytes().decode("utf-32-le")
                   for r in (range(0xD800), range(0xE000, 0x110000)))


def _learn_case_safety(chars: set[str]) -> None:
    """Record for each character whether `(?i)` matching of it is covered by lowercasing."""
    new = sorted(chars - _CASE_SAFE.keys())
    if not new:
        return
    union = re.compile("[" + "".join(re.escape(c) for c in new) + "]", re.IGNORECASE)
    variants = "".join(set(union.findall(_every_char())) | set(new))
    for c in new:
        same = re.compile(re.escape(c), re.IGNORECASE).findall(variants)
        _CASE_SAFE[c] = all(_lowers_alone(v) and v.lower() == c.lower() for v in same)


def _chars_in(items: object, found: set[str]) -> None:
    """Every literal character anywhere in a parse tree (to learn their case safety at once)."""
    if isinstance(items, tuple) and len(items) == 2 and items[0] is sre.LITERAL:
        found.add(chr(items[1]))
    elif isinstance(items, list | tuple | sre_parse.SubPattern):
        for item in items:
            _chars_in(item, found)


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Lowercased strings at least one of which occurs in every text the pattern matches.

    None when nothing is required or the pattern cannot be analysed (best effort: the
    parser is CPython's private one), so the marker is tried on every block.
    """
    try:
        tree = sre_parse.parse(pattern.pattern, pattern.flags)
        chars: set[str] = set()
        _chars_in(tree, chars)
        _learn_case_safety(chars)
        return _sequence(tree, bool(tree.state.flags & re.IGNORECASE))
    except Exception:  # _Unsupported, or the private parser changed: just no prefilter
        return None


def _folded(op: object, av: object, ignore_case: bool) -> str | None:
    """The lowercase character a LITERAL or a one-letter class like `[Dd]` stands for."""
    if op is sre.LITERAL:
        members: list[int] = [av]  # type: ignore[list-item]
    elif op is sre.IN and all(m is sre.LITERAL for m, _ in av):  # type: ignore[attr-defined]
        members = [v for _, v in av]  # type: ignore[attr-defined]
    else:
        return None
    chars = [chr(m) for m in members]
    lows = {c.lower() for c in chars}
    if len(lows) != 1 or not all(
        _lowers_alone(c) and (not ignore_case or _CASE_SAFE.get(c, False)) for c in chars
    ):
        return None
    return lows.pop()


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two requirements: the larger shortest literal (then fewer)."""
    if a is None or b is None:
        return a if b is None else b
    key_a, key_b = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return b if key_b > key_a else a


def _sequence(items: Iterable[tuple[object, object]], ignore_case: bool) -> frozenset[str] | None:
    """Every element of a sequence must match, so any one element's requirement holds."""
    best: frozenset[str] | None = None
    run: list[str] = []
    for op, av in items:
        char = _folded(op, av, ignore_case)
        if char is not None:
            run.append(char)
            continue
        if run:
            best = _better(best, frozenset(["".join(run)]))
            run = []
        best = _better(best, _element(op, av, ignore_case))
    if run:
        best = _better(best, frozenset(["".join(run)]))
    return best


def _element(op: object, av: object, ignore_case: bool) -> frozenset[str] | None:
    """What one non-literal element of a sequence requires."""
    if op is sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:  # type: ignore[index]
            need = _sequence(branch, ignore_case)
            if need is None:
                return None  # that branch can match without any literal
            union |= need
        return frozenset(union)
    if op is sre.SUBPATTERN:
        _group, add, drop, body = av  # type: ignore[misc]
        scoped = (ignore_case or bool(add & re.IGNORECASE)) and not drop & re.IGNORECASE
        return _sequence(body, scoped)
    if op in _REPEATS:
        low, _high, body = av  # type: ignore[misc]
        return _sequence(body, ignore_case) if low >= 1 else None
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _sequence(av, ignore_case)  # type: ignore[arg-type]
    if op in _NO_REQUIREMENT:
        return None
    raise _Unsupported(str(op))


def _with_literals(markers: list[CompiledMarker]) -> list[CompiledMarker]:
    """The markers with their literals; case safety learnt for all at once (one scan)."""
    chars: set[str] = set()
    for m in markers:
        try:
            _chars_in(sre_parse.parse(m.pattern.pattern, m.pattern.flags), chars)
        except Exception:  # required_literals will say None for this one
            continue
    _learn_case_safety(chars)
    return [CompiledMarker(m.marker, m.agency, m.pattern, required_literals(m.pattern))
            for m in markers]


def _prefilter(markers: list[CompiledMarker]) -> MarkerPrefilter:
    """Index markers by literal; those without literals (or not analysed) are always tried."""
    by_literal: dict[str, list[int]] = {}
    always: list[int] = []
    for i, compiled in enumerate(markers):
        if compiled.literals is None:
            always.append(i)
        for lit in sorted(compiled.literals or ()):
            by_literal.setdefault(lit, []).append(i)
    return MarkerPrefilter(tuple(sorted(by_literal)),
                           {lit: tuple(ids) for lit, ids in by_literal.items()}, tuple(always))


# ---------------------------------------------------------------------------------------------
# Resolving what sits inside a slot


def agencies_in_slot(slot: str, t: CreditTables, *, strict: bool) -> list[str]:
    """Agencies named inside a credit slot, holder first ("Kyodo News via AP" → Kyodo).

    With `strict`, every other word in the slot must be a connector or a short
    tag, so "(according to AFP)" or "(AP Photo/Name)" are not slots.
    """
    holder = re.split(r"\s+via\s+", slot, maxsplit=1)[0] if " via " in slot else slot
    found: list[str] = []
    rest = holder
    for match in t.form_pattern.finditer(holder):
        agency = t.forms[match.group(0)]
        if agency not in found:
            found.append(agency)
        rest = rest.replace(match.group(0), " ", 1)
    if not found or not strict:
        return found
    for word in _WORD.findall(rest):
        bare = word.strip(".'’-").lower()
        if not bare or bare in SLOT_WORDS:
            continue
        if len(bare) <= 4 and (word.islower() or word.isupper() or len(bare) <= 3):
            continue  # regional tags and editor initials: "lno", "nxp", "FR", "iz"
        return []
    return found


def _domain_of(text: str) -> str | None:
    match = _DOMAIN.search(text)
    return match.group("host").lower() if match else None


def _lookup_domain(host: str, t: CreditTables) -> tuple[str, str] | None:
    parts = host.split(".")
    for i in range(len(parts) - 1):
        hit = t.domains.get(".".join(parts[i:]))
        if hit:
            return hit
    return None


def _photo_context(text: str, start: int, end: int) -> bool:
    """True when the span sits in a photo credit: 'Foto: …', 'Name/AFP', 'REUTERS/Name'."""
    window = text[max(0, start - 60) : end + 40]
    if _PHOTO_CONTEXT.search(window):
        return True
    before = text[max(0, start - 3) : start]
    after = text[end : end + 3]
    if "/" in before:
        left = re.search(r"([^\s/()]+)\s*/\s*$", text[:start])
        if left and not _is_tag(left.group(1)):
            return True
    if "/" in after:
        right = re.match(r"\s*/\s*([^\s/()]+)", text[end:])
        if right and not _is_tag(right.group(1)):
            return True
    return False


def _is_tag(word: str) -> bool:
    """Short lowercase or initial-like tags that share a credit slot with an agency."""
    return len(word) <= 4 and (word.islower() or len(word) <= 3)


# ---------------------------------------------------------------------------------------------
# Slot detectors: each yields Evidence for one block


def _evidence(
    kind: str,
    block: Block,
    span: tuple[int, int],
    agency: str,
    detail: str,
    marker: str | None = None,
    weight: float | None = None,
    **extra: object,
) -> Evidence:
    return Evidence(
        kind=kind,  # type: ignore[arg-type]
        text=block.text[span[0] : span[1]],
        zone=block.zone,
        span=(block.start + span[0], block.start + span[1]),
        marker=marker,
        agency=agency,
        detail=detail,
        context=block.text[:400],
        lang=block.lang,
        weight=WEIGHTS.get(kind, 0.5) if weight is None else weight,
        **extra,  # type: ignore[arg-type]
    )


def _looks_like_place(prefix: str) -> bool:
    """'PARIS', 'Frankfurt/Main', 'ST. JOSEPH, Mich.', 'Paris, 21 jan 2019', 'Jan 30'."""
    prefix = prefix.strip(" ,")
    if not prefix:
        return True
    if len(prefix) > MAX_PREFIX or re.search(r"[.!?]\s+[a-zà-ÿ]", prefix):
        return False
    words = prefix.replace(",", " ").split()
    if len(words) > 9:
        return False
    for word in words:
        if (
            word[0].isupper()
            or word[0].isdigit()
            or _MONTHS.match(word)
            or word.lower()
            in {
                "de",
                "del",
                "am",
                "an",
                "im",
                "la",
                "le",
                "el",
                "sur",
                "upon",
                "on",
                "d.c.",
                "a.",
            }
        ):
            continue
        return False
    return True


def dateline_evidence(block: Block, t: CreditTables) -> Iterator[Evidence]:
    match = _DATELINE.match(block.text)
    if not match:
        return
    pre, slot, sep = match.group("pre"), match.group("slot"), match.group("sep")
    if not _looks_like_place(pre):
        return
    if not sep:
        # Without a dash the next word must open a sentence: "Frankfurt/Main (dpa) Für einen …",
        # not "The Armed Forces (AP) code is …"; and "(AFP) text" alone is too weak.
        following = block.text[match.end():].lstrip()
        if not pre.strip() or not following[:1].isupper():
            return
    for agency in agencies_in_slot(slot, t, strict=True):
        yield _evidence(
            "dateline",
            block,
            match.span(),
            agency,
            f"dateline credit '({slot})' opening the article",
        )


def closing_evidence(block: Block, t: CreditTables) -> Iterator[Evidence]:
    text = block.text
    match = _CLOSING.search(text)
    if match and not _photo_context(text, match.start(), match.end()):
        for agency in agencies_in_slot(match.group("slot"), t, strict=True):
            yield _evidence(
                "credit", block, match.span(), agency, f"closing credit '({match.group('slot')})'"
            )
        return
    phrase = _CLOSING_PHRASE.search(text)
    if phrase:
        for agency in agencies_in_slot(phrase.group("slot"), t, strict=False):
            yield _evidence("credit", block, phrase.span(), agency, "credit line naming the agency")


def source_evidence(block: Block, t: CreditTables) -> Iterator[Evidence]:
    text = block.text
    if len(text) > SHORT_LINE:
        return
    match = _SOURCE_LINE.match(text) or _READ_MORE.match(text)
    if not match or _PHOTO_CONTEXT.search(text[: match.start("slot")]):
        return
    slot = match.group("slot")
    named = agencies_in_slot(slot, t, strict=False)
    if not named:
        lowered = slot.lower().strip(" .")
        for part in re.split(r"\s*[,;/|&]\s*|\s+(?:and|und|et|y)\s+", lowered):
            if part in t.aliases and t.aliases[part] not in named:
                named.append(t.aliases[part])
    for agency in named:
        yield _evidence("source", block, match.span(), agency, f"source line naming {slot!r}")
    if named:
        return
    host = _domain_of(slot)
    hit = _lookup_domain(host, t) if host else None
    if hit and hit[0] == "agency":
        yield _evidence("source", block, match.span(), hit[1], f"source line pointing at {host}")
    elif hit:
        yield _evidence(
            "licensee_source",
            block,
            match.span(),
            "",
            f"source is {host}, a licensee's site",
            weight=0.0,
            licensee=hit[1],
        )


def byline_evidence(block: Block, t: CreditTables) -> Iterator[Evidence]:
    text = block.text
    if len(text) > 140 or len(text.split()) > 16:
        return
    for match in t.form_pattern.finditer(text):
        start, end = match.span()
        if block.zone not in ("byline", "meta") and _photo_context(text, start, end):
            continue
        if block.zone in ("byline", "meta") and _PHOTO_CONTEXT.search(text):
            continue
        if block.zone not in ("byline", "meta") and not _byline_shape(text, start, end):
            continue
        agency = t.forms[match.group(0)]
        yield _evidence("byline", block, (start, end), agency, f"byline credit {match.group(0)!r}")


def _byline_shape(text: str, start: int, end: int) -> bool:
    """In running text a byline is 'By Name | AP', 'Name, dpa', 'Von Name (dpa)' or the name."""
    before = text[:start].rstrip(" (")
    after = text[end:].strip(" )")
    if after and not re.fullmatch(
        r"[\d\s.:,|/–-]*(?:Uhr|am|pm|GMT|UTC|ET|CET|MEZ)?[\d\s.:,|]*", after
    ):
        return False
    if not before:
        return True
    if re.search(r"(?:^|\s)(?:By|Von|Par|Por|Di|Door)\s", before) and before[-1] in "|,/–—-":
        return True
    return bool(
        re.fullmatch(
            r"(?:By |Von |Par |Por )?[A-ZÀ-Ý][\w.'’-]+(?: [A-ZÀ-Ý][\w.'’-]+){0,3}\s*[,|–—-]", before
        )
    )


def metadata_evidence(name: str, value: str, t: CreditTables) -> Iterator[Evidence]:
    cleaned = re.sub(r"^(?:By|Von|Par|Por)\s+", "", value.strip(), flags=re.IGNORECASE)
    if _PHOTO_CONTEXT.search(cleaned):
        return
    parts = re.split(r"\s*[,;/|&]\s*|\s+(?:and|und|et|y|via)\s+", cleaned)
    block = Block(value, 0, len(value), "meta", hint=name)
    seen: set[str] = set()
    for part in parts[:8]:
        agency = t.forms.get(part) or t.aliases.get(part.lower())
        if agency in t.generic:
            continue  # "Agencies" as a template's default author says nothing about this article
        if agency and agency not in seen:
            seen.add(agency)
            yield _evidence(
                "metadata", block, (0, len(value)), agency, f"page metadata {name} = {value!r}"
            )


def marker_evidence(
    block: Block, t: CreditTables, position: int, tried: Sequence[int] | None = None
) -> Iterator[Evidence]:
    """Rulebook markers, each held to the place its kind allows.

    `tried`: indices of the markers worth searching for in this block (by default those
    whose literals it contains); the others cannot match it.
    """
    if tried is None:
        tried = t.prefilter.candidates(block.text.lower(), t.prefilter.literals)
    for index in tried:
        compiled = t.markers[index]
        kind = compiled.marker.kind
        if kind == "metadata" and block.zone != "meta":
            continue
        if kind != "metadata" and block.zone == "meta":
            continue
        if block.zone == "caption":
            continue
        if kind == "dateline" and not (block.zone == "byline" or position < FIRST_PARAGRAPHS):
            continue
        if kind in ("byline", "source") and block.zone == "main" and len(block.text) > SHORT_LINE:
            continue
        match = compiled.pattern.search(block.text)
        if not match:
            continue
        start, end = match.span()
        if kind in ("credit", "byline", "source") and _photo_context(block.text, start, end):
            continue
        if kind == "credit" and not (
            (start <= MAX_PREFIX and position < FIRST_PARAGRAPHS)
            or end >= len(block.text.rstrip(" .")) - 1
            or len(block.text) <= SHORT_LINE
        ):
            continue
        if kind == "notice" and _photo_context(block.text, start, end):
            continue
        weight = WEIGHTS[kind]
        if kind == "notice" and block.zone == "outside" and end - start < NOTICE_PHRASE:
            weight = OUTSIDE_NOTICE_WEIGHT  # a bare "© 2024 X" in site chrome is boilerplate
        yield _evidence(
            kind,
            block,
            (start, end),
            compiled.agency,
            compiled.marker.notes or f"rulebook marker {compiled.marker.id}",
            marker=compiled.marker.id,
            weight=weight,
            translated_from=compiled.marker.translated_from,
        )


def detect_credits(document: Document, t: CreditTables) -> list[Evidence]:
    """Every attributing credit on the page, with where it sits."""
    found: list[Evidence] = []
    main = document.main_blocks
    last_main = len(main) - 1
    others = [b for b in document.blocks if b.zone not in ("main", "caption")]
    lowered = [b.text.lower() for b in (*main, *others)]
    live = t.prefilter.live("\n".join(lowered))  # literals absent from the page rule out
    tried = [t.prefilter.candidates(low, live) for low in lowered]  # markers everywhere
    for position, block in enumerate(main):
        if position < FIRST_PARAGRAPHS:
            found.extend(dateline_evidence(block, t))
        if position >= last_main - 2 or len(block.text) <= SHORT_LINE:
            found.extend(closing_evidence(block, t))
        found.extend(source_evidence(block, t))
        if len(block.text) <= 140 and (position < FIRST_PARAGRAPHS or position >= last_main - 2):
            found.extend(byline_evidence(block, t))
        found.extend(marker_evidence(block, t, position, tried[position]))
    for other, block in enumerate(others, start=len(main)):
        if block.zone == "byline":
            found.extend(dateline_evidence(block, t))
            found.extend(byline_evidence(block, t))
        if len(block.text) <= SHORT_LINE:
            found.extend(closing_evidence(block, t) if block.zone == "byline" else ())
            found.extend(source_evidence(block, t))
        found.extend(marker_evidence(block, t, FIRST_PARAGRAPHS, tried[other]))
    for meta in document.meta:
        found.extend(metadata_evidence(meta.name, meta.value, t))
    return _dedupe(found)


def detect_mentions(document: Document, t: CreditTables, credited: set[str]) -> list[Evidence]:
    """Agencies named but not credited (quoted sources, photo credits), for the explanation."""
    mentions: list[Evidence] = []
    per_agency: dict[str, int] = {}
    blocks = [block for block in document.blocks if block.zone != "meta"]
    # Most pages name no agency at all: one search over the page says so (a form is a
    # literal without line breaks, and a line break is no word character either side).
    if not t.form_pattern.search("\n".join([block.text for block in blocks])):
        return mentions
    for block in blocks:
        for match in t.form_pattern.finditer(block.text):
            agency = t.forms[match.group(0)]
            if agency in credited or per_agency.get(agency, 0) >= 3:
                continue
            per_agency[agency] = per_agency.get(agency, 0) + 1
            photo = block.zone == "caption" or _photo_context(block.text, *match.span())
            mentions.append(
                _evidence(
                    "credit",
                    block,
                    match.span(),
                    agency,
                    "photo credit (about the picture, not the text)"
                    if photo
                    else "agency named in the text, not credited",
                    weight=0.0,
                )
            )
    return mentions


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for item in evidence:
        key = (item.kind, item.agency, item.zone, item.span, item.marker, item.licensee)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
