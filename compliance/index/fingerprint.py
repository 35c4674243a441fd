"""Word-shingle fingerprints for same-language copies.

Every run of K tokens is hashed; winnowing keeps the smallest hash of each
window of W shingles, so any passage of at least K + W - 1 tokens shared by a
page and a dispatch shares at least one kept hash, while only about
2 / (W + 1) of the shingles are stored.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from .text import Token, tokens

K = 5  # tokens per shingle
W = 8  # winnowing window: shared passages of K + W - 1 = 12 tokens are always found
_MASK = (1 << 63) - 1
_MULT = 0x9E3779B97F4A7C15


@dataclass(frozen=True)
class Shingles:
    """The tokens of a text and the hash of the shingle starting at each token."""

    tokens: tuple[Token, ...]
    hashes: tuple[int, ...]

    def winnowed(self) -> set[int]:
        return winnow(self.hashes)


def shingles(text: str) -> Shingles:
    toks = tokens(text)
    words = [zlib.crc32(t.text.encode()) for t in toks]
    hashes = []
    for i in range(len(words) - K + 1):
        h = 0
        for w in words[i : i + K]:
            h = ((h ^ w) * _MULT) & _MASK
        hashes.append(h)
    return Shingles(tuple(toks), tuple(hashes))


def winnow(hashes: tuple[int, ...] | list[int]) -> set[int]:
    """The minimum of every window of W hashes (all of them for texts shorter than W)."""
    if len(hashes) <= W:
        return set(hashes)
    return {min(hashes[i : i + W]) for i in range(len(hashes) - W + 1)}


def word_weight(token: Token) -> float:
    """A CJK character carries about half a word."""
    return 0.5 if len(token.text) == 1 and ord(token.text) >= 0x3040 else 1.0
