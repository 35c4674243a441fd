"""What a page shares with one dispatch: the match records and how they are scored.

Same-language pages are compared by shingles (verbatim runs); pages in another
language by anchors (numbers, dates, names) aligned in order. Both give aligned
passages, coverage of the dispatch and of the page, and a score in 0..1 whose
threshold (`THRESHOLD`) decides what is returned.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .align import Chain
from .fingerprint import K, Shingles
from .text import CJK_LANGS, CYRILLIC_LANGS, Token, quoted_spans, sentences

THRESHOLD = 0.5
# Copies: a shared passage this many words long is as likely as not to be reuse. The
# more of either text the shared words make up, the fewer are needed (down to half as
# many when one text is all shared): an excerpt of a short dispatch is still a copy.
COPY_HALF_WORDS = 30
# Words inside a direct quotation count for this much: reports of one speech by
# different outlets share its quotes without sharing anyone's copy.
QUOTED_WEIGHT = 0.25
# Translations: the chain must stand out from the runners-up by Z deviations, carry
# WEIGHT of anchors and cover a share DICE of both texts' anchor weight. Measured on
# bench/reuse.py (false alarms ≤ 1% on hard negatives). Chinese and Japanese text
# yields a reading for every two or three characters, most of them meaningless, so
# its Dice is low by construction and its chain must be heavier instead.
# Pages pivoted through bilingual dictionaries (lexicon.py) share many words with any
# article on the same story, in order: their chain stands out from the runners-up
# more easily but must cover a larger share of both texts ("lexical").
CALIBRATION = {"alphabetic": (7.0, 2.5, 0.05), "cjk": (5.0, 4.0, 0.02),
               "lexical": (5.0, 2.5, 0.15)}
Z_MIN, WEIGHT_MIN, DICE_MIN = CALIBRATION["alphabetic"]


@dataclass(frozen=True)
class AlignedPassage:
    page_span: tuple[int, int]  # offsets into document.text (main text)
    page_text: str
    dispatch_span: tuple[int, int]  # offsets into the dispatch body
    dispatch_text: str
    score: float


@dataclass(frozen=True)
class DispatchMatch:
    dispatch_id: str
    agency: str
    lang: str
    title: str | None
    kind: str  # copy | partial | edited | translation
    score: float  # 0..1, calibrated; only matches at or above THRESHOLD are returned
    coverage: float  # share of the dispatch reproduced
    page_coverage: float  # share of the page's main text that is dispatch text
    matched_words: int  # words of the page aligned to the dispatch
    status: str  # usable | withheld | canceled
    published: str | None
    embargo_until: str | None
    passages: tuple[AlignedPassage, ...]


@dataclass(frozen=True)
class Verdict:
    """How a page relates to one dispatch, before the dispatch's fields are attached."""

    kind: str
    score: float
    coverage: float
    page_coverage: float
    matched_words: int
    passages: tuple[AlignedPassage, ...]


# ---------------------------------------------------------------- copies


def compare_copy(page_text: str, page: Shingles, body: str, dispatch: Shingles) -> Verdict | None:
    """Verbatim runs shared by page and dispatch, their coverage, and the kind of copy."""
    where: dict[int, list[int]] = {}
    for j, h in enumerate(dispatch.hashes):
        where.setdefault(h, []).append(j)
    runs: list[list[int]] = []  # [page start, dispatch start, length in shingles]
    for i, h in enumerate(page.hashes):
        positions = where.get(h)
        if not positions:
            continue
        last = runs[-1] if runs else None
        if last and last[0] + last[2] == i and last[1] + last[2] in positions:
            last[2] += 1
        else:
            runs.append([i, positions[0], 1])
    if not runs:
        return None
    page_cov = _covered(runs, len(page.tokens), 0)
    disp_cov = _covered(runs, len(dispatch.tokens), 1)
    pw, dw = page.weights, dispatch.weights
    matched = sum(pw[i] for i in page_cov)
    total_page = sum(pw) or 1.0
    total_disp = sum(dw) or 1.0
    coverage = sum(dw[j] for j in disp_cov) / total_disp
    page_coverage = matched / total_page
    quoted = _in_spans(page.tokens, page_cov, quoted_spans(page_text))
    evidence = matched - (1 - QUOTED_WEIGHT) * sum(pw[i] for i in quoted)
    own = evidence / max(matched, 1e-9)  # the share of the shared words not in quotes
    half = COPY_HALF_WORDS * (1 - 0.5 * own * max(coverage, page_coverage))
    score = max(1 - 0.5 ** (evidence / half), own * min(coverage, page_coverage) * 1.2)
    score = min(score, 1.0)
    passages = _copy_passages(runs, page_text, page, body, dispatch)
    kind = _copy_kind(runs, coverage, matched)
    return Verdict(kind, round(score, 4), round(coverage, 4), round(page_coverage, 4),
                   round(matched), passages)


def _in_spans(
    toks: tuple[Token, ...], which: set[int], spans: tuple[tuple[int, int], ...]
) -> set[int]:
    """The tokens among `which` that sit inside one of the (sorted, disjoint) spans."""
    if not spans:
        return set()
    starts = [a for a, _ in spans]
    inside = set()
    for i in which:
        at = bisect_right(starts, toks[i].start) - 1
        if at >= 0 and toks[i].end <= spans[at][1]:
            inside.add(i)
    return inside


def _covered(runs: list[list[int]], size: int, side: int) -> set[int]:
    covered: set[int] = set()
    for run in runs:
        covered.update(range(run[side], min(size, run[side] + run[2] + K - 1)))
    return covered


def _copy_kind(runs: list[list[int]], coverage: float, matched: float) -> str:
    """copy: near all of it, verbatim; partial: a verbatim part; edited: rewritten or reordered.

    Substituted words split a passage into many short runs; moved sentences
    break the order of runs. Either is an edit.
    """
    long_runs = [r for r in runs if r[2] + K - 1 >= 8]
    in_order = _ordered_share(long_runs)
    breaks = max(0, len(long_runs) - 1) * 100 / max(matched, 1.0)
    short_share = sum(r[2] + K - 1 for r in runs if r[2] + K - 1 < 8) / max(matched, 1.0)
    edited = in_order < 0.9 or breaks > 4.0 or short_share > 0.15
    if edited:
        return "edited"
    return "copy" if coverage >= 0.85 else "partial"


def _ordered_share(runs: list[list[int]]) -> float:
    """Share of run length that follows the dispatch's order (heaviest increasing chain)."""
    if not runs:
        return 1.0
    total = sum(r[2] for r in runs)
    best = [0] * len(runs)
    for a, run in enumerate(runs):
        prior = [best[b] for b in range(a) if runs[b][1] < run[1]]
        best[a] = run[2] + max(prior, default=0)
    return max(best) / total


def _copy_passages(
    runs: list[list[int]], page_text: str, page: Shingles, body: str, dispatch: Shingles
) -> tuple[AlignedPassage, ...]:
    """Runs merged across small gaps (a changed word) into passages shown side by side."""
    merged: list[list[int]] = []  # page first, page last token, dispatch first, last, matched
    for i, j, length in runs:
        last_i, last_j = i + length + K - 2, j + length + K - 2
        prev = merged[-1] if merged else None
        if prev and 0 <= i - prev[1] <= 4 and 0 <= j - prev[3] <= 4:
            prev[1], prev[3] = max(prev[1], last_i), max(prev[3], last_j)
            prev[4] += length + K - 1
        else:
            merged.append([i, last_i, j, last_j, length + K - 1])
    out = []
    for pi, pl, dj, dl, count in merged:
        pl, dl = min(pl, len(page.tokens) - 1), min(dl, len(dispatch.tokens) - 1)
        p_span = (page.tokens[pi].start, page.tokens[pl].end)
        d_span = (dispatch.tokens[dj].start, dispatch.tokens[dl].end)
        score = min(1.0, count / max(pl - pi + 1, dl - dj + 1))
        out.append(AlignedPassage(p_span, page_text[slice(*p_span)], d_span,
                                  body[slice(*d_span)], round(score, 4)))
    return tuple(out)


# ---------------------------------------------------------------- translations


@dataclass(frozen=True)
class AnchorSide:
    """The anchors of one text: keys in order and their spans."""

    keys: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]


# Added to the runners-up's spread: a z over near-equal runners-up does not soar (z_ceiling
# in store.py bounds this same z and must use the same figure).
Z_SPREAD_FLOOR = 0.25


def runner_up_z(top: float, others: list[float], pool: int) -> float:
    """How far the best chain stands above the others, in standard deviations.

    Candidates never retrieved scored nothing: the runner-up list is padded with
    zeros to `pool`, so a small index does not make every match look unique.
    """
    rest = others + [0.0] * max(0, pool - 1 - len(others))
    if not rest:
        return top / Z_SPREAD_FLOOR
    mean = sum(rest) / len(rest)
    spread = math.sqrt(sum((x - mean) ** 2 for x in rest) / len(rest))
    return (top - mean) / (spread + Z_SPREAD_FLOOR)


def calibration(
    page_lang: str | None, dispatch_lang: str | None, lexical: bool = False
) -> tuple[float, float, float]:
    """Minima of z, weight and Dice for a pair of languages.

    `lexical`: both texts carry dictionary-word anchors. Only Latin-script pairs use
    the lexical minima (the Russian dictionary is too small to change the Dice).
    """
    langs = {page_lang, dispatch_lang}
    if langs & CJK_LANGS:
        return CALIBRATION["cjk"]
    if lexical and not langs & CYRILLIC_LANGS:
        return CALIBRATION["lexical"]
    return CALIBRATION["alphabetic"]


def translation_score(
    z: float, weight: float, dice: float, minima: tuple[float, float, float] | None = None
) -> float:
    """0..1, 0.5 exactly where all three measures meet their minimum; the weakest decides."""
    z_min, weight_min, dice_min = minima or CALIBRATION["alphabetic"]
    parts = (z / z_min, weight / weight_min, dice / dice_min)
    weakest = min(parts)
    return round(1 / (1 + math.exp(-4 * (weakest - 1))), 4)


def translation_verdict(
    chain: Chain,
    page_text: str,
    page: AnchorSide,
    body: str,
    dispatch: AnchorSide,
    score: float,
) -> Verdict:
    """Passages: the page sentences holding aligned anchors beside their dispatch sentences."""
    page_sents = sentences(page_text) or [(0, len(page_text))]
    disp_sents = sentences(body) or [(0, len(body))]
    page_starts = [s for s, _ in page_sents]
    disp_starts = [s for s, _ in disp_sents]
    groups: list[list[int]] = []  # page first, last sentence, dispatch first, last, anchors
    for i, j in chain.pairs:
        ps = max(0, bisect_left(page_starts, page.spans[i][0] + 1) - 1)
        ds = max(0, bisect_left(disp_starts, dispatch.spans[j][0] + 1) - 1)
        prev = groups[-1] if groups else None
        if prev and (ps == prev[1] or ds == prev[3]) and ps >= prev[1] and ds >= prev[3]:
            prev[1], prev[3] = max(prev[1], ps), max(prev[3], ds)
            prev[4] += 1
        else:
            groups.append([ps, ps, ds, ds, 1])
    passages = []
    page_chars = disp_chars = 0
    page_words = 0
    for p0, p1, d0, d1, count in groups:
        p_span = (page_sents[p0][0], page_sents[p1][1])
        d_span = (disp_sents[d0][0], disp_sents[d1][1])
        page_chars += p_span[1] - p_span[0]
        disp_chars += d_span[1] - d_span[0]
        page_words += len(page_text[slice(*p_span)].split())
        passages.append(AlignedPassage(p_span, page_text[slice(*p_span)], d_span,
                                       body[slice(*d_span)], round(min(1.0, count / 3), 4)))
    return Verdict(
        "translation",
        score,
        round(min(1.0, disp_chars / max(len(body), 1)), 4),
        round(min(1.0, page_chars / max(len(page_text), 1)), 4),
        page_words,
        tuple(passages),
    )
