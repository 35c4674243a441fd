"""Language identification with py3langid's bundled model (no downloads)."""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_LETTERS = 25  # shorter texts are guessed too unreliably to count as evidence
MIN_CONFIDENCE = 0.90
_NOT_LETTERS = re.compile(r"[\W\d_]+")


@lru_cache(maxsize=1)
def identifier() -> LanguageIdentifier:
    """The bundled py3langid model, loaded once per process."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def letters(text: str) -> int:
    """How many letters `text` holds (what is left once the rest is removed: no list of
    one-letter strings to build)."""
    return len(_NOT_LETTERS.sub("", text))


@lru_cache(maxsize=4096)
def detect_language(text: str, min_letters: int = MIN_LETTERS) -> str | None:
    """ISO 639-1 code of `text`, or None when it is too short or the guess is unsure."""
    if letters(text) < min_letters:
        return None
    lang, prob = identifier().classify(text[:4000])
    return lang if prob >= MIN_CONFIDENCE else None
