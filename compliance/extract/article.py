"""The article's lines among a page's visible lines: our own main-text selector.

Trafilatura cost more than the rest of an audit together, while the walk in
zones.py already visits every line once. This selector works on those lines:

- the article container is the deepest element holding most of the page's prose
  (long, link-poor lines; paragraphs count more than list items and table cells),
  never an element that is a comment thread, menu or sidebar by its class;
- its siblings holding a fair share of prose join it (a standfirst or lead set
  apart from the body);
- inside, page furniture (share bars, teasers), zones that start inside the
  article (bylines, captions), link lists, hidden text and the headline are left out.

When what it keeps is too short to trust, the caller asks trafilatura instead.
Measured on the article-extraction benchmark and trafilatura's own evaluation
pages (bench/extraction.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .zones import Line, is_furniture, is_strong_furniture

PROSE_LINE = 60  # characters: shorter lines are headings, labels, teaser titles
PROSE_LINK_SHARE = 0.3  # a line more linked than this is navigation, not prose
KEPT_LINK_SHARE = 0.5  # inside the article, lines more linked than this are link lists
CONTAINER_SHARE = 0.6  # the container holds at least this share of the page's prose
SIBLING_SHARE = 0.1  # a sibling joins with at least this share of the container's prose
MIN_PROSE = 150  # weighted characters: less than this and there is no article to find
TRUSTED_CHARS = 500  # a selection shorter than this goes to trafilatura instead
TAG_WEIGHT = {"p": 1.0, "pre": 1.0, "blockquote": 1.0, "td": 0.5, "li": 0.5, "dd": 0.5}
LEADING_LINE = 30  # shorter lines above the first paragraph are dates and kickers
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
OTHER_WEIGHT = 0.3  # div and other block elements holding text directly


def select_main(lines: Sequence[Line]) -> list[int] | None:
    """Indexes of the article's lines, in page order; None when there is no article to trust."""
    prose = _prose_under(lines)
    if not prose:
        return None
    total = prose[None]
    if total < MIN_PROSE:
        return None
    container = _container(prose, total)
    if container is None:
        return None
    article = _with_siblings(container, prose)
    kept = _from_first_prose([i for i, line in enumerate(lines) if _keep(line, container, article)],
                             lines)
    if sum(len(lines[i].text) for i in kept) < TRUSTED_CHARS:
        return None
    return kept


def _prose_under(lines: Sequence[Line]) -> dict[Any, float]:
    """Weighted prose characters under each element (key None: the whole page)."""
    prose: dict[Any, float] = {}
    total = 0.0
    for line in lines:
        size = len(line.text)
        if line.hidden or size < PROSE_LINE or line.link_chars > PROSE_LINK_SHARE * size:
            continue
        if line.furniture is not None:
            continue  # a consent box or comment thread can outweigh a short article
        element = line.element
        if element is None:
            continue
        weight = size * TAG_WEIGHT.get(element.tag, OTHER_WEIGHT)
        total += weight
        while element is not None:
            prose[element] = prose.get(element, 0.0) + weight
            element = element.getparent()
    if total:
        prose[None] = total
    return prose


def _container(prose: dict[Any, float], total: float) -> Any:
    """The deepest element holding CONTAINER_SHARE of the prose that is not furniture."""
    best, best_depth = None, -1
    for element, amount in prose.items():
        if element is None or amount < CONTAINER_SHARE * total:
            continue
        if is_strong_furniture(element):
            continue
        depth = sum(1 for _ in element.iterancestors())
        if depth > best_depth:
            best, best_depth = element, depth
    return best


def _with_siblings(container: Any, prose: dict[Any, float]) -> set[Any]:
    """The container's elements, and those of siblings holding a fair share of prose."""
    article = set(container.iter())
    parent = container.getparent()
    if parent is None:
        return article
    floor = SIBLING_SHARE * prose[container]
    for sibling in parent:
        if sibling is container or not isinstance(sibling.tag, str):
            continue
        if prose.get(sibling, 0.0) >= floor and not is_furniture(sibling):
            article.update(sibling.iter())
    return article


def _from_first_prose(kept: list[int], lines: Sequence[Line]) -> list[int]:
    """The article starts at its first paragraph: dates, kickers and headings above it go.

    (They are the page's furniture around the headline; a dateline credit must be
    among the first paragraphs to count, see detect/credits.py.)
    """
    for position, i in enumerate(kept):
        line = lines[i]
        if len(line.text) >= LEADING_LINE and line.element.tag not in HEADINGS:
            return kept[position:]
    return kept


def _keep(line: Line, container: Any, article: set[Any]) -> bool:
    if line.element not in article or line.hidden:
        return False
    if line.zone is not None and line.zone_origin is not container and line.zone_origin in article:
        return False  # a byline, caption or chrome box inside the article
    if line.furniture is not None and line.furniture is not container \
            and line.furniture in article:
        return False
    if line.link_chars > KEPT_LINK_SHARE * len(line.text):
        return False
    return line.element.tag != "h1"  # the headline is the title, not the body
