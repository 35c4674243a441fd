"""The short cuts of anchor and shingle extraction keep what the long way finds."""

from __future__ import annotations

import pytest

from compliance.index.anchors import extract_anchors
from compliance.index.fingerprint import shingles
from compliance.index.text import token_texts, tokens

TRICKY = [
    "İstanbul'da 3.215,63 Euro: l'Europe et d'Israël, Nguyễn Văn A.",
    "東京で5月12日（火）に2024年の会議。Tokyo meeting on 12 May.",
    "Plain words, nothing else at all, only lower case and some Capitals",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_token_texts_are_the_texts_of_the_tokens(text: str) -> None:
    assert token_texts(text) == [t.text for t in tokens(text)]
    assert shingles(text).tokens == tuple(tokens(text))  # computed only when asked for


def kinds(text: str, lang: str | None = None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for anchor in extract_anchors(text, lang):
        out.setdefault(anchor.kind, set()).add(anchor.key)
    return out


def test_names_are_joined_only_when_nothing_stands_between_them() -> None:
    joined = kinds("Gestern sagte Angela Merkel in Berlin etwas.", "de").get("joined", set())
    apart = kinds("Gestern sagte Angela und dann Merkel etwas.", "de").get("joined", set())
    assert len(joined) == 1 and not apart
    # a capitalised word the page also writes in lower case is no name
    text = "Gestern kam Regen. Es gab viel regen Verkehr."
    named = {text[a.start : a.end] for a in extract_anchors(text, "de") if a.kind == "name"}
    assert "Regen" not in named and "Verkehr" in named


def test_cjk_dates_and_weekdays_are_read_in_cjk_text_only() -> None:
    cjk = kinds("会議は5月12日（火）に開かれた。", "ja")
    assert "d:05-12" in cjk["date"] and "w:2" in cjk["wday"]
    latin = kinds("The 5. 12. meeting (Tue) was held on 12 May.", "en")
    assert "d:05-12" in latin["date"] and "w:2" not in latin.get("wday", set())


def test_addresses_and_handles_are_found_and_plain_text_has_none() -> None:
    found = kinds("Read www.example.org/news or follow @agency_news today.")["url"]
    assert found == {"u:example.org/news", "u:@agency_news"}
    assert "url" not in kinds("No address here, not even a hash sign or an at sign.")


def test_a_number_read_once_is_scaled_by_its_own_context() -> None:
    anchors = extract_anchors("2 Millionen Menschen, davon 2 Kinder.", "de")
    numbers = sorted((a.key, a.start) for a in anchors if a.kind in {"num", "small"})
    assert numbers == [("n:2", 0), ("n:2", 28), ("n:2000000", 0)]
