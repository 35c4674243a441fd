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


class PageKeys:
    """A page's key sequence with where each key occurs, made once per page.

    A page is aligned with a dozen or more candidates, and a long page holds a
    thousand anchors of which a candidate shares a few dozen: with the positions
    at hand, each alignment visits only the shared ones.
    """

    def __init__(self, keys: Sequence[int]) -> None:
        self.keys = keys
        self.positions: dict[int, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            if key >= 0:  # a negative key holds a place and pairs with nothing
                self.positions[key].append(i)


def align(
    page: Sequence[int] | PageKeys, dispatch: Sequence[int], weight: Callable[[int], float]
) -> Chain:
    """Heaviest chain of equal keys, increasing in both sequences.

    A key repeated on both sides counts for less each time (divided by the square
    root of how often it could pair), so "Putin" said ten times does not outweigh
    ten different anchors in the same order.
    """
    if not isinstance(page, PageKeys):
        page = PageKeys(page)
    wanted = page.positions
    where: dict[int, list[int]] = defaultdict(list)
    for j, key in enumerate(dispatch):
        if key in wanted:
            where[key].append(j)
    if not where:
        return Chain((), 0.0)
    # The page positions of the shared keys, in page order: the others pair with nothing.
    visits = sorted((i, key) for key in where for i in wanted[key])
    size = len(dispatch)
    tree = [0.0] * (size + 1)  # Fenwick tree of prefix maxima over dispatch positions
    tree_at = [-1] * (size + 1)  # which pair holds that maximum
    pairs: list[tuple[int, int]] = []
    back: list[int] = []
    best, best_at = 0.0, -1
    pair_weights = {
        key: weight(key) / min(len(wanted[key]), len(positions)) ** 0.5
        for key, positions in where.items()
    }
    # The Fenwick query (best chain ending before j) and update are written out inline:
    # this loop runs for every shared position of every candidate, and calls were half its cost.
    end = size + 1
    for i, key in visits:
        pair_weight = pair_weights[key]
        # Descending j: pairs of the same page position must not chain with each other.
        for j in reversed(where[key]):
            prior, prior_at = 0.0, -1
            k = j
            while k > 0:
                if tree[k] > prior:
                    prior, prior_at = tree[k], tree_at[k]
                k -= k & -k
            total = prior + pair_weight
            at = len(pairs)
            pairs.append((i, j))
            back.append(prior_at)
            k = j + 1
            while k < end:
                if total > tree[k]:
                    tree[k], tree_at[k] = total, at
                k += k & -k
            if total > best:
                best, best_at = total, at
    chain = []
    at = best_at
    while at >= 0:
        chain.append(pairs[at])
        at = back[at]
    return Chain(tuple(reversed(chain)), best)

