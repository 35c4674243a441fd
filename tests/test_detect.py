"""Credit detection: credits in their slots attribute; mentions and photo credits never do."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from compliance.attribute import attribute
from compliance.detect.credits import detect_credits, detect_mentions, tables
from compliance.model import Block, Document, MetaField
from compliance.rulebook import Rulebook

SNIPPETS = Path(__file__).parent / "data" / "credit-snippets.yaml"
FILLER = [
    "The regional council met on Tuesday evening to discuss the budget for the coming year.",
    "Several members asked for more money for schools, roads and the public library service.",
    "A final vote on the spending plan is expected before the end of next month, officials said.",
    "Residents will be able to comment on the proposals at a public meeting in the town hall.",
]


def document_with(text: str, zone: str = "main", position: str = "first") -> Document:
    """A page whose only agency text is `text`, placed in `zone` at `position`."""
    paragraphs = list(FILLER)
    meta: tuple[MetaField, ...] = ()
    extra: list[Block] = []
    if zone == "main":
        if position == "first":
            paragraphs = [text, *FILLER]
        elif position == "last":
            paragraphs = [*FILLER, text]
        else:
            paragraphs = [text]
    elif zone == "meta":
        meta = (MetaField("author", text),)
    else:
        extra.append(Block(text, 0, len(text), zone))  # type: ignore[arg-type]
    blocks, offset = [], 0
    for paragraph in paragraphs:
        blocks.append(Block(paragraph, offset, offset + len(paragraph), "main"))
        offset += len(paragraph) + 1
    return Document(
        text="\n".join(paragraphs),
        blocks=(*blocks, *extra),
        title=None,
        lang="en",
        declared_lang=None,
        meta=meta,
        canonical_url=None,
        site_name=None,
        published=None,
        links=(),
        ad_signals=(),
    )


def attributed(rulebook: Rulebook, document: Document) -> list[str]:
    credits = detect_credits(document, tables(rulebook))
    return [a.agency for a in attribute(credits, rulebook)]


@pytest.mark.parametrize(
    ("text", "zone", "position", "expected"),
    [
        (
            "PARIS (AFP) - The French government announced new measures on Monday.",
            "main",
            "first",
            ["afp"],
        ),
        (
            "Strasbourg, 10 juil 2024 (AFP) - Le Parlement européen a voté mardi.",
            "main",
            "first",
            ["afp"],
        ),
        (
            "Hamburg (dpa/lno) - Der Hafen meldet einen Rekord bei Containern.",
            "main",
            "first",
            ["dpa"],
        ),
        ("WASHINGTON (Reuters) - U.S. stocks rose on Tuesday.", "main", "first", ["reuters"]),
        (
            "COLUMBIA, S.C. (AP) — About a dozen small-business owners gathered.",
            "main",
            "first",
            ["ap"],
        ),
        ("Die Feuerwehr war mit 40 Kräften im Einsatz. (dpa)", "main", "last", ["dpa"]),
        ("(FR mit dpa)", "main", "last", ["dpa"]),
        ("Quelle: dpa-AFX", "main", "last", ["dpa-afx"]),
        ("Source: AFP", "outside", "only", ["afp"]),
        ("By Jane Roe | AP", "byline", "only", ["ap"]),
        ("Helen Maguire, dpa", "byline", "only", ["dpa"]),
        ("AFP", "meta", "only", ["afp"]),
        ("red, wien.ORF.at/Agenturen", "byline", "only", ["unspecified"]),
        ("(Paris (AFP) -)", "caption", "only", []),
        ("Protesters gather outside parliament on Monday. (AP)", "caption", "only", []),
        ("The minister told AFP that talks would go on.", "main", "first", []),
        ("According to Reuters, the deal is worth $2 billion.", "main", "first", []),
        ("Photo: Jane Doe/AFP via Getty Images", "main", "last", []),
        ("REUTERS/Brendan McDermid", "main", "last", []),
        ("Bild: KEYSTONE", "outside", "only", []),
        ("Michael Bloomberg said he would fund the campaign.", "main", "first", []),
        ("A$AP Rocky played a surprise concert in Stockholm.", "main", "first", []),
        ("Russia's Sputnik V vaccine was approved in the country.", "main", "first", []),
        ("The aircraft, registration HB-RIA, landed safely.", "main", "first", []),
        ("The Armed Forces (AP) code is used for military mail.", "main", "first", []),
    ],
)
def test_credit_slots(
    rulebook: Rulebook, text: str, zone: str, position: str, expected: list[str]
) -> None:
    assert attributed(rulebook, document_with(text, zone, position)) == expected


def test_every_attribution_explains_itself(rulebook: Rulebook) -> None:
    document = document_with("PARIS (AFP) - The French government announced new measures.")
    [attribution] = attribute(detect_credits(document, tables(rulebook)), rulebook)
    [evidence] = attribution.evidence
    assert evidence.kind == "dateline" and evidence.zone == "main"
    assert evidence.text == "PARIS (AFP) -"
    assert document.text[evidence.span[0] : evidence.span[1]] == evidence.text
    assert evidence.detail


def test_mentions_are_recorded_not_attributed(rulebook: Rulebook) -> None:
    document = document_with("The minister told AFP that talks would go on.")
    compiled = tables(rulebook)
    assert detect_credits(document, compiled) == []
    [mention] = detect_mentions(document, compiled, set())
    assert mention.agency == "afp" and mention.weight == 0.0


def test_named_agency_hides_the_generic_one(rulebook: Rulebook) -> None:
    text = "PARIS (AFP) - The French government announced new measures on Monday."
    document = document_with(text)
    extra = Block("With Post wires", 0, 15, "byline")
    document = Document(**{**document.__dict__, "blocks": (*document.blocks, extra)})
    assert attributed(rulebook, document) == ["afp"]


def _snippets() -> list[dict[str, object]]:
    if not SNIPPETS.exists():
        return []
    return yaml.safe_load(SNIPPETS.read_text(encoding="utf-8")) or []


@pytest.mark.parametrize("snippet", _snippets(), ids=lambda s: str(s.get("why", ""))[:60])
def test_rulebook_snippets(rulebook: Rulebook, snippet: dict[str, object]) -> None:
    """Each shipped marker and exception has a realistic snippet (tests/data/credit-snippets.yaml)."""
    document = document_with(
        str(snippet["text"]), str(snippet["zone"]), str(snippet.get("position", "first"))
    )
    expected = [snippet["agency"]] if snippet["agency"] else []
    got = attributed(rulebook, document)
    if expected:
        assert expected[0] in got, f"{snippet['text']!r} should credit {expected[0]}, got {got}"
    else:
        assert got == [], f"{snippet['text']!r} should credit no agency, got {got}"
