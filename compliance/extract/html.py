"""HTML and plain-text pages to a `Document`.

The main text comes from trafilatura. Credits often sit outside it (bylines,
source boxes, captions, metadata), so we also walk the visible text of the
whole page once, keep each line with the zone it sits in, and read the
page's metadata (meta tags, JSON-LD) ourselves.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from ..ingest.decode import decode_bytes
from ..model import Block, Document, MetaField, Page
from .article import select_main
from .language import detect_language
from .zones import AD_LABELS, Line, walk

_AD_HINT = re.compile(
    r"(?:^|[\s_-])(?:ad|ads|adv|advert\w*|adslot|adunit|adsbygoogle|dfp|gpt-ad|banner-ad"
    r"|sponsored|taboola|outbrain|werbung|anzeige|publicite|commercial)(?:$|[\s_-])",
    re.IGNORECASE,
)
AD_HOSTS = (
    "googlesyndication.com",
    "doubleclick.net",
    "adservice.google",
    "googletagservices.com",
    "adnxs.com",
    "taboola.com",
    "outbrain.com",
    "criteo.",
    "amazon-adsystem.com",
    "pubmatic.com",
    "rubiconproject.com",
    "smartadserver.com",
    "adform.net",
    "yieldlove",
    "media.net",
    "mgid.com",
    "revcontent.com",
    "propellerads",
    "adsterra",
    "ezoic",
    "openx.net",
)
_AD_HOST = re.compile("|".join(map(re.escape, AD_HOSTS)))  # any of them in an address

PARTY_META_NAMES = {
    "author",
    "dc.creator",
    "dcterms.creator",
    "article:author",
    "byl",
    "sailthru.author",
    "parsely-author",
    "copyright",
    "dc.rights",
    "dcterms.rights",
    "dc.publisher",
    "publisher",
    "dc.source",
    "source",
    "original-source",
    "syndication-source",
    "article:publisher",
    "og:site_name",
    "twitter:creator",
    "creator",
    "cxenseparse:author",
    "news_source",
    "article:source",
    "dcterms.rightsholder",
    "rights",
}
JSONLD_PARTY_KEYS = {
    "author",
    "creator",
    "publisher",
    "sourceOrganization",
    "copyrightHolder",
    "creditText",
    "provider",
    "copyrightNotice",
    "contributor",
    "accountablePerson",
    "isBasedOn",
}
DATE_META_NAMES = {
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate",
    "publishdate", "publish-date", "dc.date", "dc.date.issued", "dcterms.created",
    "sailthru.date", "parsely-pub-date", "cxenseparse:recs:publishtime",
}
MAX_JSONLD_NODES = 5000
# Enough for a sure guess (the 1,213 real pages get the same languages as from 1,200); the
# classifier walks every byte in Python, so its cost grows with the length.
DOC_LANG_SAMPLE = 800


class ExtractionError(ValueError):
    """The page holds nothing that can be read as text."""


def looks_like_html(text: str) -> bool:
    head = text[:4096].lower()
    return (
        "<html" in head or "<!doctype" in head or "<body" in head or "<p>" in head or "<div" in head
    )


def extract(page: Page) -> Document:
    """HTML goes through trafilatura; plain text is split into paragraphs."""
    text = decode_bytes(page.raw, page.content_type).text
    if looks_binary(text):
        raise ExtractionError("binary data, not a text or HTML page")
    if page.content_type == "text/plain" or not looks_like_html(text):
        return extract_text(text)
    document = extract_html(text, page.url)
    if not document.blocks and not document.meta:
        raise ExtractionError("no visible text after parsing (the page may be built by "
                              "JavaScript, or its markup nested deeper than the parser follows)")
    return document


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def looks_binary(text: str) -> bool:
    """Control characters and undecodable bytes make up much of the start: not a page."""
    sample = text[:4096]
    return bool(sample) and len(_CONTROL.findall(sample)) > 0.1 * len(sample)


def extract_text(text: str) -> Document:
    """Plain text: paragraphs are separated by blank lines (or lines, if none are blank)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not text.strip():
        raise ExtractionError("the page holds no text")
    paragraphs = [p for chunk in re.split(r"\n\s*\n", text) for p in _text_chunk(chunk)]
    blocks = _main_blocks([p for p in paragraphs if p])
    main_text = "\n".join(b.text for b in blocks)
    title = blocks[0].text if blocks and len(blocks[0].text) <= 200 else None
    ad_signals = tuple(f"ad label: {b.text!r}" for b in blocks if b.text.lower() in AD_LABELS)
    return Document(
        text=main_text,
        blocks=blocks,
        title=title,
        lang=_document_language(blocks, main_text),
        declared_lang=None,
        meta=(),
        canonical_url=None,
        site_name=None,
        published=None,
        links=tuple(_urls_in(main_text)),
        ad_signals=ad_signals,
    )


def _text_chunk(chunk: str) -> list[str]:
    """A blank-line-separated chunk: hard-wrapped prose is one paragraph, short lines stay apart."""
    lines = [_clean(line) for line in chunk.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > 1 and all(len(line) >= 50 for line in lines[:-1]):
        return [" ".join(lines)]
    return lines


def _clean(text: str) -> str:
    return " ".join(text.split())


def _main_blocks(paragraphs: list[str]) -> tuple[Block, ...]:
    blocks = []
    offset = 0
    for paragraph in paragraphs:
        blocks.append(Block(paragraph, offset, offset + len(paragraph), "main"))
        offset += len(paragraph) + 1
    return tuple(blocks)


def _document_language(blocks: tuple[Block, ...], text: str) -> str | None:
    """The language most of the main text is in.

    One guess over the text settles most pages; when it is unsure (mixed-language
    pages), paragraphs vote by length.
    """
    if not text:
        return None
    lang = detect_language(text[:DOC_LANG_SAMPLE])
    if lang:
        return lang
    votes: dict[str, int] = {}
    unread = sum(len(block.text) for block in blocks)
    for block in blocks:
        unread -= len(block.text)
        block_lang = detect_language(block.text)
        if block_lang:
            votes[block_lang] = votes.get(block_lang, 0) + len(block.text)
            # Done when the paragraphs left cannot overturn the lead: guessing is a fifth
            # of an extraction, and such pages have a hundred paragraphs.
            first, second = heapq.nlargest(2, [*votes.values(), 0])
            if first > second + unread:
                break
    return max(votes, key=lambda code: votes[code]) if votes else None


def _urls_in(text: str) -> Iterator[str]:
    seen = set()
    for match in re.finditer(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", text):
        url = match.group(0).rstrip(".,;:")
        if url not in seen:
            seen.add(url)
            yield url


# Plain elements: lxml.html's element classes are looked up in Python for every element
# the walk touches (a tenth of the extraction's time). Only trafilatura needs them. The
# text is handed over as UTF-8, which libxml2 reads a tenth faster than a str (the
# parser's encoding overrides whatever <meta charset> the page declares, as with a str).
_PLAIN_HTML = etree.HTMLParser(encoding="utf-8")


def parse_html(text: str, *, for_trafilatura: bool = False) -> Any:
    """An lxml tree, or ExtractionError when the markup holds no element at all.

    `for_trafilatura`: a tree of lxml.html elements, the only kind trafilatura takes.
    """
    text = text.replace("\x00", "")
    if text.lstrip().startswith("<?xml"):
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str with an XML declaration
    try:
        if for_trafilatura:
            tree = lxml.html.document_fromstring(text)
        else:
            tree = etree.fromstring(text.encode("utf-8", "replace"), _PLAIN_HTML)
            if tree is None:
                raise etree.ParserError("Document is empty")
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparsable HTML: {exc}") from None
    # Comments would swallow the text that follows them ("<!----> (AFP)") in the walk below.
    etree.strip_tags(tree, etree.Comment, etree.ProcessingInstruction)
    return tree


def extract_html(text: str, url: str | None = None) -> Document:
    tree = parse_html(text)
    meta, facts = _metadata(tree)
    walked = walk(tree)
    ad_signals = tuple(_ad_signals(tree)) + walked.ad_labels
    declared = _declared_lang(tree)
    canonical = _canonical(tree)
    links = tuple(_links(tree))
    title = facts.get("og:title") or facts.get("headline") or _first_text(tree, "//title")
    published = facts.get("published") or facts.get("datePublished") or _time_element(tree)
    main, others = _article(walked.lines, text, url)
    joined = "\n".join(b.text for b in main)
    return Document(
        text=joined,
        blocks=main + others,
        title=title,
        lang=_document_language(main, joined) or declared,
        declared_lang=declared,
        meta=tuple(meta),
        canonical_url=canonical,
        site_name=facts.get("og:site_name"),
        published=str(published) if published else None,
        links=links,
        ad_signals=ad_signals,
    )


def _article(lines: tuple[Line, ...], text: str,
             url: str | None) -> tuple[tuple[Block, ...], tuple[Block, ...]]:
    """The main blocks and the other zones' blocks.

    Our selector (article.py) settles most pages; when it finds no article it can trust,
    or what it found reads like a menu, trafilatura decides, and every line it did not
    keep goes to its zone.
    """
    chosen = select_main(lines)
    if chosen is not None:
        paragraphs = [lines[i].text for i in chosen]
        if not _mostly_short_lines(paragraphs):
            keep = set(chosen)
            main = _main_blocks(paragraphs)
            others = _renumber(line for i, line in enumerate(lines) if i not in keep)
            return main, others
    paragraphs = _paragraphs(_trafilatura(parse_html(text, for_trafilatura=True), url, fast=True))
    if _looks_like_navigation(paragraphs):
        # The fast path sometimes keeps a menu as the article; the full cascade rarely does.
        paragraphs = _paragraphs(_trafilatura(parse_html(text, for_trafilatura=True), url,
                                              fast=False))
    main = _main_blocks([p for p in paragraphs if p])
    squashed = _squash("\n".join(b.text for b in main))
    others = _renumber(line for line in lines if line.text not in squashed)
    return main, others


def _renumber(lines: Iterable[Line]) -> tuple[Block, ...]:
    """Blocks of the lines outside the article, each zone's offsets running over the lines
    kept in that zone (a line in no zone is outside)."""
    offsets: dict[str, int] = {}
    kept = []
    for line in lines:
        zone = line.zone or "outside"
        start = offsets.get(zone, 0)
        end = start + len(line.text)
        kept.append(Block(line.text, start, end, zone))
        offsets[zone] = end + 1
    return tuple(kept)


def _trafilatura(tree: Any, url: str | None, *, fast: bool) -> Any:
    # Metadata is read by _metadata(); trafilatura's own (htmldate) costs 40% of its time.
    # The tree is pruned in place: it is a tree of its own (parse_html(for_trafilatura=True)).
    return trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        include_comments=False,
        with_metadata=False,
    )


def _paragraphs(result: Any) -> list[str]:
    text = getattr(result, "text", None) or ""
    return [_clean(p) for p in text.split("\n")]


def _looks_like_navigation(paragraphs: list[str]) -> bool:
    """Many short lines and little prose: a menu, not an article."""
    lines = [p for p in paragraphs if p]
    if len(lines) < 12:
        return not lines
    short = sum(1 for p in lines if len(p) < 40)
    return short / len(lines) > 0.6


def _mostly_short_lines(paragraphs: list[str]) -> bool:
    """Most of the text in short lines: a list of links or labels, not an article."""
    short = sum(len(p) for p in paragraphs if len(p) < 40)
    return short > 0.5 * sum(len(p) for p in paragraphs)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _first_text(tree: Any, xpath: str) -> str | None:
    found = tree.xpath(xpath)
    if found:
        value = found[0].xpath("string()").strip()
        return value or None
    return None


def _time_element(tree: Any) -> str | None:
    for element in tree.iter("time"):
        value = (element.get("datetime") or "").strip()
        if value[:4].isdigit():
            return value
    return None


def _metadata(tree: Any) -> tuple[list[MetaField], dict[str, Any]]:
    fields: list[MetaField] = []
    extra: dict[str, Any] = {}
    for element in tree.iter("meta"):
        key = (element.get("name") or element.get("property") or element.get("itemprop") or "")
        key = key.strip().lower()
        value = _clean(element.get("content") or "")
        if not value:
            continue
        if key in PARTY_META_NAMES:
            fields.append(MetaField(key, value[:500]))
        if key in ("og:title", "og:site_name"):
            extra.setdefault(key, value)
        elif key in DATE_META_NAMES:
            extra.setdefault("published", value)
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        for key, value in _walk_jsonld(data):
            if key in JSONLD_PARTY_KEYS:
                for name in _names(value):
                    fields.append(MetaField(f"jsonld:{key}", name[:500]))
            elif key in ("datePublished", "inLanguage", "headline") and isinstance(value, str):
                extra.setdefault(key, value)
    return fields, extra


def _walk_jsonld(data: Any) -> Iterator[tuple[str, Any]]:
    stack = [data]
    seen = 0
    while stack and seen < MAX_JSONLD_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict) and _is_media(node):
            continue  # an image's "author" is its photographer: a photo credit, not the article's
        if isinstance(node, dict):
            for key, value in node.items():
                yield str(key), value
                if isinstance(value, dict | list) and key not in JSONLD_PARTY_KEYS:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


MEDIA_TYPES = {"ImageObject", "VideoObject", "AudioObject", "MediaObject", "Photograph"}


def _is_media(node: dict[str, Any]) -> bool:
    kind = node.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k in MEDIA_TYPES for k in kinds)


def _names(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield _clean(value)
    elif isinstance(value, dict):
        for key in ("name", "legalName", "alternateName"):
            if isinstance(value.get(key), str) and value[key].strip():
                yield _clean(value[key])
                break
    elif isinstance(value, list):
        for item in value[:20]:
            yield from _names(item)


def _canonical(tree: Any) -> str | None:
    for link in tree.iter("link"):
        if (link.get("rel") or "").strip().lower() == "canonical" and link.get("href"):
            href = link.get("href").strip()
            if href.startswith(("http://", "https://")):
                return href
    for element in tree.iter("meta"):
        if (element.get("property") or "").lower() == "og:url":
            content = (element.get("content") or "").strip()
            if content.startswith(("http://", "https://")):
                return content
    return None


def _declared_lang(tree: Any) -> str | None:
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    for element in tree.iter("meta"):
        key = (element.get("http-equiv") or element.get("property") or "").lower()
        if key in ("content-language", "og:locale"):
            candidates.append(element.get("content"))
    for value in candidates:
        if value:
            code = re.split(r"[-_]", value.strip().lower())[0]
            if re.fullmatch(r"[a-z]{2,3}", code):
                return code
    return None


def _links(tree: Any) -> Iterator[str]:
    seen: set[str] = set()
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href.startswith(("http://", "https://")) and href not in seen:
            seen.add(href)
            yield href
            if len(seen) >= 500:
                return


def _ad_signals(tree: Any) -> Iterator[str]:
    found = 0
    for element in tree.iter("script", "iframe", "ins", "div", "aside", "section"):
        if found >= 20:
            return
        src = element.get("src")
        if src and _AD_HOST.search(src := src.lower()):
            found += 1
            yield f"ad network: {src[:120]}"
            continue
        class_, id_ = element.get("class"), element.get("id")
        if class_ is None and id_ is None:
            continue
        hint = f"{class_ or ''} {id_ or ''}"
        if hint.strip() and _AD_HINT.search(hint):
            found += 1
            yield f"ad slot: <{element.tag} {hint.strip()[:80]}>"
