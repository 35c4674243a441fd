"""Plain frozen records passed between pipeline stages.

Every stage is a function from one of these to the next, so one page can be
audited anywhere (a process pool, a Spark executor) with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Zone = Literal["main", "byline", "meta", "caption", "outside"]
"""Where a piece of text sits on the page.

`main` is the article body a boilerplate remover keeps; `byline` an author or
source element near it; `meta` page metadata (meta tags, JSON-LD); `caption`
photo captions and credits; `outside` any other visible text (chrome, footers).
"""


@dataclass(frozen=True)
class Page:
    """One scraped page as it was captured: the exact bytes and where they came from."""

    source: str  # file path, "stdin", or a WARC record id
    raw: bytes
    url: str | None = None
    fetched_at: str | None = None  # ISO 8601, from the capture (manifest, WARC)
    content_type: str | None = None  # "text/html", "text/plain", … when known
    sha256: str = ""


@dataclass(frozen=True)
class Block:
    """A paragraph or line of visible text with its character offsets.

    Offsets of `main` blocks index into `Document.text`; other zones index into
    their own concatenation and are only used to quote evidence in context.
    """

    text: str
    start: int
    end: int
    zone: Zone
    lang: str | None = None
    hint: str = ""  # where a meta block came from (the meta field's name)


@dataclass(frozen=True)
class MetaField:
    """One metadata value naming a party (author, publisher, copyright holder…)."""

    name: str  # e.g. "author", "jsonld:sourceOrganization", "og:site_name"
    value: str


@dataclass(frozen=True)
class Document:
    """What extraction keeps of a page: main text, zones outside it, metadata, signals."""

    text: str  # main text: paragraphs joined with "\n"
    blocks: tuple[Block, ...]  # every zone, main paragraphs first
    title: str | None
    lang: str | None  # detected language of the main text
    declared_lang: str | None  # <html lang>, content-language, og:locale
    meta: tuple[MetaField, ...]
    canonical_url: str | None
    site_name: str | None
    published: str | None  # ISO date when the page says it
    links: tuple[str, ...]  # outbound links of the main article area
    ad_signals: tuple[str, ...]  # why we think the page carries ads

    @property
    def main_blocks(self) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.zone == "main")

    def paragraph_langs(self) -> dict[str, int]:
        """Characters of main text per detected paragraph language (mixed language hints at
        translation); computed on demand, since most audits never ask."""
        from .extract.language import detect_language

        counts: dict[str, int] = {}
        for block in self.main_blocks:
            lang = block.lang or detect_language(block.text)
            if lang:
                counts[lang] = counts.get(lang, 0) + len(block.text)
        return counts


EvidenceKind = Literal[
    "dateline",
    "credit",
    "byline",
    "source",
    "notice",
    "metadata",
    "language",
    "commercial",
    "licensee_source",
    "reuse",
]


@dataclass(frozen=True)
class Evidence:
    """One observation a finding rests on, with where it sits and what matched it."""

    kind: EvidenceKind
    text: str  # the exact span as it appears on the page
    zone: Zone
    span: tuple[int, int] | None = None  # offsets into the block's zone text
    marker: str | None = None  # rulebook marker id when one matched
    agency: str | None = None
    detail: str = ""  # a short human explanation
    context: str = ""  # the paragraph/line the span sits in
    lang: str | None = None
    translated_from: str | None = None  # a notice known to be a translation from this language
    licensee: str | None = None  # for `licensee_source`: the licensee the source names
    weight: float = 0.0  # how strongly this alone attributes the page (0..1)


@dataclass(frozen=True)
class Attribution:
    """The page's article is credited to (or copied from) this agency."""

    agency: str
    confidence: float
    kind: str = "marker"  # copy | partial | edited | translation | marker
    evidence: tuple[Evidence, ...] = ()
    dispatch_id: str | None = None
    dispatch_lang: str | None = None
    dispatch_title: str | None = None
    score: float | None = None
    coverage: float | None = None
    match: Any = None  # the index's DispatchMatch (passages, status, embargo) when one matched


@dataclass(frozen=True)
class Finding:
    """A clause of an agency's terms that the page breaks, with everything needed to act on it."""

    id: str
    severity: str
    confidence: float
    clause_id: str
    clause_title: str
    agency: str
    actions: tuple[str, ...]
    page_url: str | None
    page_domain: str | None
    page_sha256: str
    page_fetched_at: str | None
    page_title: str | None
    page_lang: str | None
    page_source: str
    attribution: Attribution
    licence: dict[str, object] | None
    evidence: tuple[Evidence, ...]
    level: Literal["violation", "note"] = "violation"
    explanation: str = ""


@dataclass(frozen=True)
class PageError:
    """A page that could not be audited, and why; never aborts an audit."""

    source: str
    url: str | None
    stage: str  # load | decode | extract | detect | judge
    message: str
    hint: str = ""


@dataclass(frozen=True)
class PageResult:
    """Everything one page produced: its document summary, attributions and findings."""

    page: Page
    document: Document
    attributions: tuple[Attribution, ...]
    findings: tuple[Finding, ...]
    mentions: tuple[Evidence, ...] = field(default=())
    signals: tuple[Evidence, ...] = field(default=())
