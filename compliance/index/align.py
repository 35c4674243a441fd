"""Order-aware alignment of two key sequences (anchors or shingles).

A translation or a copy keeps the order of what it reproduces; an unrelated
article on the same topic shares names and numbers in any order. The heaviest
chain of matching keys that increases on both sides (a weighted longest
increasing subsequence over the matching pairs, O(P log m)) is what the two
texts have in common, and its pairs are the aligned evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Chain:
    pairs: tuple[tuple[int, int], ...]  # (page position, dispatch position), increasing on both
    weight: float


def align(
    page: Sequence[int], dispatch: Sequence[int], weight: Callable[[int], float]
) -> Chain:
    """Heaviest chain of equal keys, increasing in both sequences.

    A key repeated on both sides counts for less each time (divided by the square
    root of how often it could pair), so "Putin" said ten times does not outweigh
    ten different anchors in the same order.
    """
    wanted = set(page)
    where: dict[int, list[int]] = defaultdict(list)
    for j, key in enumerate(dispatch):
        if key in wanted:
            where[key].append(j)
    page_counts: dict[int, int] = defaultdict(int)
    for key in page:
        if key in where:
            page_counts[key] += 1
    if not page_counts:
        return Chain((), 0.0)
    size = len(dispatch)
    tree = [0.0] * (size + 1)  # Fenwick tree of prefix maxima over dispatch positions
    tree_at = [-1] * (size + 1)  # which pair holds that maximum
    pairs: list[tuple[int, int]] = []
    back: list[int] = []
    totals: list[float] = []
    best, best_at = 0.0, -1
    for i, key in enumerate(page):
        positions = where.get(key)
        if not positions:
            continue
        pair_weight = weight(key) / min(page_counts[key], len(positions)) ** 0.5
        # Descending j: pairs of the same page position must not chain with each other.
        for j in reversed(positions):
            prior, prior_at = _prefix_max(tree, tree_at, j)
            total = prior + pair_weight
            pairs.append((i, j))
            back.append(prior_at)
            totals.append(total)
            _update(tree, tree_at, j + 1, total, len(pairs) - 1)
            if total > best:
                best, best_at = total, len(pairs) - 1
    chain = []
    at = best_at
    while at >= 0:
        chain.append(pairs[at])
        at = back[at]
    return Chain(tuple(reversed(chain)), best)


def _prefix_max(tree: list[float], tree_at: list[int], j: int) -> tuple[float, int]:
    """Best chain ending at a dispatch position < j."""
    best, best_at = 0.0, -1
    while j > 0:
        if tree[j] > best:
            best, best_at = tree[j], tree_at[j]
        j -= j & -j
    return best, best_at


def _update(tree: list[float], tree_at: list[int], j: int, value: float, at: int) -> None:
    while j < len(tree):
        if value > tree[j]:
            tree[j], tree_at[j] = value, at
        j += j & -j
