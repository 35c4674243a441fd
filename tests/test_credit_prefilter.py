"""The literal prefilter for rulebook markers: it may skip a block only when no match is possible."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.detect import credits
from compliance.detect.credits import build_tables, marker_evidence, required_literals
from compliance.model import Block
from compliance.rulebook import load_rulebook

RULES = Path(__file__).resolve().parent.parent / "rules"
TABLES = build_tables(load_rulebook(RULES))

# Characters the regex engine folds together in ways plain lowercasing does not:
# (?i)i matches 'ı' and 'İ' ('İ'.lower() is 'i̇'), (?i)s matches 'ſ', Σ lowercases by context.
CONFUSABLE = "ıİiIſsSKkΣσςßẞ"


def literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    return required_literals(re.compile(pattern, flags))


def admitted(pattern: re.Pattern[str], text: str) -> bool:
    """Whether the prefilter lets the regex be tried on `text`."""
    need = required_literals(pattern)
    return need is None or any(lit in text.lower() for lit in need)


def test_a_copyright_marker_needs_the_agency_name() -> None:
    assert literals(r"(?:©|\(c\)|Copyright)\s*(?:\d{4}\s*)?AFP\b(?!\s*/)") == {"afp"}


def test_escaped_characters_stay_in_one_literal_run() -> None:
    assert literals(r"^(?:[A-Z][a-z]{2,8}\.? \d{1,2} )?\(Reuters\) [-–—]") == {"(reuters) "}


def test_an_alternation_needs_one_literal_of_each_branch() -> None:
    assert literals(r"(?:Agenturen|Nachrichtenagenturen)\)") == {"agenturen", "nachrichtenagenturen"}


def test_a_branch_without_literal_leaves_the_alternation_without_one() -> None:
    assert literals(r"(?:Reuters|\d{3})") is None


def test_optional_parts_require_nothing() -> None:
    assert literals(r"(?:AFP)?") is None
    assert literals(r"x*y?(?=AFP)[A-Z]\b.") is None
    assert literals(r"(?:Thomson\s+)?Reuters") == {"reuters"}


def test_a_repeat_of_at_least_one_requires_its_body() -> None:
    assert literals(r"(?:dpa/)+\d") == {"dpa/"}


def test_a_one_letter_class_is_a_literal_character() -> None:
    assert literals(r"[Rr]eporting by") == {"reporting by"}
    assert literals(r"[Dd][ée]p[eê]ches AFP") == {"ches afp"}


def test_case_insensitive_literals_leave_out_letters_lowercasing_cannot_stand_for() -> None:
    # 'i' and 's' have variants ('ı', 'İ', 'ſ') that lowercase to something else
    assert literals("Associated Press", re.IGNORECASE) == {"ated pre"}
    assert literals("(?i)ALL RIGHTS RESERVED BY XNEWS") == {"erved by xnew"}
    assert literals("(?i:TOUS) droits") == {" droits"}
    assert literals("tous (?-i:droits)", re.IGNORECASE) == {"droits"}  # a group is its own element


def test_case_insensitive_matches_with_dotless_or_dotted_i_are_still_admitted() -> None:
    for pattern in ("(?i)tip top", "(?i)xiy", "(?i)pass"):
        compiled = re.compile(pattern)
        for text in ("TIP TOP", "tıp top", "TİP TOP", "xİy", "xıy", "paſs", "PAſſ"):
            if compiled.search(text):
                assert admitted(compiled, text), (pattern, text)


def test_a_sigma_is_not_trusted_to_lowercase_alike_in_every_context() -> None:
    compiled = re.compile("ΑΣ")
    assert compiled.search("ΑΣΑ") and admitted(compiled, "ΑΣΑ")  # 'ΑΣ'.lower() is 'ας'


def test_case_safety_of_single_characters() -> None:
    credits._learn_case_safety(set("iskKtσßé"))
    safe = {c: credits._CASE_SAFE[c] for c in "iskKtσßé"}
    assert safe == {"i": False, "s": False, "k": True, "K": True, "t": True, "σ": False,
                    "ß": False, "é": True}


def test_one_class_scan_finds_every_case_variant_a_single_letter_pattern_accepts() -> None:
    # _learn_case_safety finds variants with one class for all characters, then sorts
    # them per character: the class must accept all that the letter alone would.
    every = credits._every_char()
    letters = "abcdefghijklmnopqrstuvwxyzAIKS" + CONFUSABLE + "éèöüçğşвσμθ"
    union = set(re.compile("[" + re.escape(letters) + "]", re.IGNORECASE).findall(every))
    for c in letters:
        assert set(re.compile(re.escape(c), re.IGNORECASE).findall(every)) <= union, c


def test_an_unreadable_parse_tree_gives_no_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(pattern: str, flags: int = 0) -> object:
        raise RuntimeError("parser changed")

    compiled = re.compile("AFP")  # compiled before the parser breaks
    monkeypatch.setattr(credits.sre_parse, "parse", broken)
    assert required_literals(compiled) is None


def test_every_shipped_marker_gets_literals() -> None:
    assert [m.marker.id for m in TABLES.markers if not m.literals] == []
    assert TABLES.prefilter.always == ()


def test_marker_evidence_alone_applies_the_prefilter_itself() -> None:
    block = Block("© 2024 AFP", 0, 10, "outside")
    found = list(marker_evidence(block, TABLES, 3))
    assert [e.marker for e in found] == ["afp-copyright"]
    assert list(marker_evidence(Block("© 2024 APF", 0, 10, "outside"), TABLES, 3)) == []


# ---------------------------------------------------------------------------------------------
# Property: a marker's regex never matches a text its prefilter rejects

CRAFTED = [
    re.compile(p, f)
    for p, f in [
        (r"(?:©|\(c\)|Copyright)\s*(?:\d{4}\s*)?AFP\b", 0),
        (r"Tous droits de reproduction", re.IGNORECASE),
        (r"(?i)is\s+kis", 0),
        (r"ΣΑΣ|σας", re.IGNORECASE),
        (r"Straße (?:AG|ag)", re.IGNORECASE),
        (r"[Dd]ie (?-i:Sache)", re.IGNORECASE),
        (r"(?:wires|wire services)\)?$", re.IGNORECASE),
    ]
]
PATTERNS = [m.pattern for m in TABLES.markers] + CRAFTED


def fragments(pattern: re.Pattern[str]) -> st.SearchStrategy[str]:
    """Texts spliced from the pattern's own words (in varied case) and odd characters."""
    words = re.findall(r"[^\W\d_]+|[()©/:.,-]", pattern.pattern) or ["x"]
    piece = st.one_of(
        st.sampled_from(words),
        st.sampled_from(words).map(str.upper),
        st.sampled_from(words).map(str.lower),
        st.sampled_from(words).map(str.title),
        st.sampled_from(list(CONFUSABLE)),
        st.sampled_from([" ", "  ", "\n", "(", ")", "2024", "©"]),
        st.text(max_size=3),
    )
    return st.lists(piece, max_size=12).map("".join)


# Letters and the variants of them that `(?i)` accepts but lowercasing does not turn into them
VARIANTS = [("i", "ı"), ("i", "İ"), ("I", "ı"), ("I", "İ"), ("s", "ſ"), ("S", "ſ"),
            ("k", "K"), ("σ", "Σ"), ("σ", "ς"), ("ß", "ẞ"), ("a", "A"), ("A", "a")]


def confused(text: str, swaps: list[tuple[str, str]]) -> str:
    """The text with every occurrence of some letters replaced by such a variant."""
    return text.translate({ord(a): b for a, b in swaps})


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_rejected_text_never_matches(data: st.DataObject) -> None:
    pattern = data.draw(st.sampled_from(PATTERNS))
    text = data.draw(st.one_of(fragments(pattern), st.from_regex(pattern)))
    text = confused(text, data.draw(st.lists(st.sampled_from(VARIANTS), max_size=3)))
    if pattern.search(text):
        assert admitted(pattern, text), (pattern.pattern, text)
