"""One walk over a page's visible text: each line with the zone it sits in.

Credits often sit outside the article (bylines, source boxes, captions, site
chrome), so every visible line is kept with its zone. The walk also notes what
the main-text selector (article.py) needs of each line: the block element it
sits in, which element set its zone, how much of it is link text, the nearest
enclosing page furniture (share bars, teasers, consent boxes) and whether it is
hidden. One pass serves both, so the page is walked once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from lxml import etree

from ..model import Zone

SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "math",
    "head",
    "iframe",
    "object",
    "embed",
    "select",
    "option",
    "textarea",
    "button",
    "canvas",
    "video",
    "audio",
    "map",
}
BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "time",
    "cite",
    "small",
}
# Class/id tokens that put an element's text in a zone ("article__author" → author).
CAPTION_TOKENS = ("caption", "photo", "foto", "bild", "image", "img", "picture", "gallery",
                  "galerie", "lightbox", "slideshow", "thumbnail", "thumb", "figure")
BYLINE_PREFIXES = ("byline", "author", "autor", "auteur", "dateline", "credit", "copyright",
                   "quelle", "source", "signature", "reporter", "writer")
BYLINE_WORDS = {"aut", "by", "meta", "info", "agency", "agentur", "agence", "fonte", "fuente"}
CHROME_TOKENS = ("footer", "nav", "navbar", "navigation", "menu", "sitenav", "breadcrumb",
                 "sidebar", "comments", "comment", "related", "newsletter", "cookie", "teaser")
CHROME_TAGS = {"footer", "nav", "aside"}
CONTAINER_TAGS = {"article", "main", "section", "body"}
AD_LABELS = {
    "advertisement",
    "advertising",
    "anzeige",
    "werbung",
    "publicité",
    "publicite",
    "publicidad",
    "pubblicità",
    "pubblicita",
    "reklame",
    "advertentie",
    "реклама",
    "sponsored",
    "gesponsert",
    "annonce",
    "ad",
    "ads",
    "publicidade",
    "reklama",
}
MAX_LINES = 20000
# Page furniture: class/id tokens of elements whose text is not the article's. "Strong"
# ones are never the article container, even when they hold most of a page's prose (a long
# comment thread); the others only drop their lines from an article they sit inside.
STRONG_FURNITURE = ("comment", "disqus", "footer", "nav", "sidebar", "related", "recommend",
                    "outbrain", "taboola", "cookie", "consent", "menu")
FURNITURE = (
    *STRONG_FURNITURE, "share", "social", "sharing", "subscribe", "newsletter", "promo",
    "breaking", "ticker", "trending", "recirc", "gdpr", "modal", "popup", "breadcrumb",
    "teaser", "signup", "toolbar")
# Content words win over furniture words ("article-content breaking-news"), as in readability.
CONTENT_TOKENS = {"article", "body", "content", "main", "story", "entry", "text", "articlebody"}
FURNITURE_TAGS = {"nav", "footer", "aside"}
NEVER_FURNITURE_TAGS = {"body", "html", "main", "article"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


class Line(NamedTuple):
    """A visible line of the page and where it sits (elements are the parsed tree's).

    A named tuple: a page makes hundreds, and a frozen dataclass costs three times as
    much to make."""

    text: str
    zone: Zone | None  # None: main or outside, settled against the main text later
    element: Any  # the block element the line sits in
    zone_origin: Any  # the element that set `zone` (None when no zone was set)
    link_chars: int  # characters of the line inside <a> elements
    furniture: Any  # nearest enclosing page-furniture element, or None
    hidden: bool  # inside an element hidden by `hidden` or an inline style


@dataclass(frozen=True)
class Walk:
    lines: tuple[Line, ...]
    ad_labels: tuple[str, ...]


def walk(tree: Any) -> Walk:
    """Visible lines of the page in document order, each with its zone and surroundings.

    The hottest loop of an audit: lookups are hoisted and the common cases (no attributes,
    whitespace between blocks) short-cut.
    """
    body = tree.find("body")
    root = body if body is not None else tree
    lines: list[Line] = []
    ad_labels: list[str] = []
    # Whitespace met with nothing before it starts no line (its link characters still
    # count until the next line break, as they did when it was buffered): most of a
    # page's text nodes are the indentation between its elements.
    buffer: list[str] = []
    link_chars = 0
    links: list[Any] = []  # open <a> elements
    # (zone, block element, zone origin, furniture, hidden) of each open block element
    frames: list[tuple[Zone | None, Any, Any, Any, bool]] = [(None, None, None, None, False)]

    def flush() -> None:
        nonlocal link_chars
        text = "".join(buffer)
        buffer.clear()
        chars, link_chars = link_chars, 0
        if text.isspace() or len(lines) >= MAX_LINES:
            return
        line = " ".join(text.split())
        if line.lower().strip(" -–—:") in AD_LABELS:
            ad_labels.append(f"ad label: {line!r}")
        zone, element, origin, furniture, hidden = frames[-1]
        lines.append(new_line(Line, (line, zone, element, origin, min(chars, len(line)),
                                     furniture, hidden)))

    pushed: list[Any] = []
    skip, blocks = SKIP_TAGS, BLOCK_TAGS
    new_line = tuple.__new__  # Line's fields in order, without its __new__ in Python
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if event == "start":
            if tag in skip or not isinstance(tag, str):
                if isinstance(tag, str):
                    walker.skip_subtree()  # its tail still comes with the "end" event
                continue
            parent = frames[-1]
            parent_zone = parent[0]
            attrib = element.attrib
            if not attrib:
                zone, furnishes = _classify(parent_zone, tag, None, None, None, None)
                hidden = parent[4]  # hidden only by an attribute, which it has not
            else:
                get = attrib.get
                class_, id_ = get("class"), get("id")
                zone, furnishes = _classify(parent_zone, tag, class_, id_, get("itemprop"),
                                            get("rel"))
                style = get("style")
                hidden = parent[4] or get("hidden") is not None or (
                    style is not None and _HIDDEN_STYLE.search(style) is not None)
            if tag in blocks or zone != parent_zone or hidden != parent[4]:
                if buffer:
                    flush()
                else:
                    link_chars = 0
                origin = element if zone != parent_zone else parent[2]
                furniture = element if furnishes else parent[3]
                frames.append((zone, element, origin, furniture, hidden))
                pushed.append(element)
            if tag == "a":
                links.append(element)
            text = element.text
            if text:
                if buffer or not text.isspace():
                    buffer.append(text)
                if links:
                    link_chars += len(text)
        else:
            if links and links[-1] is element:
                links.pop()
            if pushed and pushed[-1] is element:
                if buffer:
                    flush()
                else:
                    link_chars = 0
                pushed.pop()
                frames.pop()
            tail = element.tail
            if tail:
                if buffer or not tail.isspace():
                    buffer.append(tail)
                if links:
                    link_chars += len(tail)
    if buffer:
        flush()
    return Walk(tuple(lines), tuple(dict.fromkeys(ad_labels))[:20])


def _token_pattern(words: Iterable[str], *, prefix: bool) -> re.Pattern[str]:
    """A search for a class/id token (the runs of [a-z0-9] of the lowered attributes)
    that is one of `words`, or, with `prefix`, starts with one: the attribute string is
    searched once rather than split into tokens and each token tested."""
    end = "" if prefix else "(?![a-z0-9])"
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(map(re.escape, words))}){end}")


_CHROME_TOKEN = _token_pattern(CHROME_TOKENS, prefix=False)
_CAPTION_TOKEN = _token_pattern(CAPTION_TOKENS, prefix=True)
_BYLINE_TOKEN = re.compile(f"{_token_pattern(BYLINE_PREFIXES, prefix=True).pattern}"
                           f"|{_token_pattern(BYLINE_WORDS, prefix=False).pattern}")
_CONTENT_TOKEN = _token_pattern(CONTENT_TOKENS, prefix=False)
_FURNITURE_TOKEN = {words: _token_pattern(words, prefix=True)
                    for words in (FURNITURE, STRONG_FURNITURE)}


def _lowered(*attributes: str | None) -> str:
    return " ".join(a for a in attributes if a).lower()


@lru_cache(maxsize=65536)
def _classify(parent: Zone | None, tag: str, class_: str | None, id_: str | None,
              itemprop: str | None, rel: str | None) -> tuple[Zone | None, bool]:
    """The zone of an element, and whether it is page furniture: one cached call for both
    (a page has hundreds of elements, and few distinct tag and attribute sets)."""
    if parent == "caption":
        zone = parent
    elif tag in ("figure", "figcaption"):
        zone = "caption"
    else:
        zone = _zone_for(parent, tag, class_, id_, itemprop, rel)
    return zone, _is_furniture(tag, class_, id_)


def _zone_for(parent: Zone | None, tag: str, *attributes: str | None) -> Zone | None:
    """Zone from the tag and the class/id/itemprop/rel tokens ("article__author" → author)."""
    text = _lowered(*attributes)
    if tag in CHROME_TAGS or _CHROME_TOKEN.search(text):
        return "outside"
    if parent == "outside":
        return parent
    if tag not in CONTAINER_TAGS and _CAPTION_TOKEN.search(text):
        return "caption"
    if tag == "address" or _BYLINE_TOKEN.search(text):  # "author" itself is a byline prefix
        return "byline"
    return parent


@lru_cache(maxsize=65536)
def _is_furniture(tag: str, class_: str | None, id_: str | None,
                  words: tuple[str, ...] = FURNITURE) -> bool:
    if tag in FURNITURE_TAGS:
        return True
    if tag in NEVER_FURNITURE_TAGS or not (class_ or id_):
        return False
    text = _lowered(class_, id_)
    return (_FURNITURE_TOKEN[words].search(text) is not None
            and _CONTENT_TOKEN.search(text) is None)


def is_furniture(element: Any) -> bool:
    """Share bars, teasers, banners and the like: their text is not the article's."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return _is_furniture(tag, element.get("class"), element.get("id"))


def is_strong_furniture(element: Any) -> bool:
    """Furniture that is never the article, however much prose it holds (comments, menus)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return _is_furniture(tag, element.get("class"), element.get("id"), STRONG_FURNITURE)
