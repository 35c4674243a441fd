"""Find a watch-listed site's recent articles from its sitemaps or its RSS/Atom feeds.

Parsing is left to maintained libraries (ultimate-sitemap-parser for
sitemaps, sitemap indexes, news sitemaps and robots.txt `Sitemap:` lines;
feedparser for RSS and Atom); every request goes through our Fetcher, so
discovery is as polite and as safe as page fetching. An entry counts as
recent when its publication (or last-modified) date is within the window;
an entry without a date is kept, up to a cap per source.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import feedparser
from usp.fetch_parse import SitemapFetcher
from usp.objects.sitemap import InvalidSitemap
from usp.tree import sitemap_tree_for_homepage
from usp.web_client.abstract_client import (
    AbstractWebClient,
    AbstractWebClientResponse,
    AbstractWebClientSuccessResponse,
    WebClientErrorResponse,
)

from ..model import PageError
from .fetch import Fetcher, FetchFailed, Refused

log = logging.getLogger("compliance.discover")
logging.getLogger("usp").setLevel(logging.WARNING)  # it narrates every fetch at INFO


@dataclass(frozen=True)
class Discovered:
    url: str
    published: dt.datetime | None
    source: str  # the sitemap or feed it came from


class _Response(AbstractWebClientSuccessResponse):
    def __init__(self, url: str, status: int, headers: dict[str, str], body: bytes):
        self._url, self._status, self._headers, self._body = url, status, headers, body

    def status_code(self) -> int:
        return self._status

    def status_message(self) -> str:
        return ""

    def header(self, case_insensitive_name: str) -> str | None:
        return self._headers.get(case_insensitive_name.lower())

    def raw_data(self) -> bytes:
        return self._body

    def url(self) -> str:
        return self._url


class _Error(WebClientErrorResponse):
    pass


class PoliteClient(AbstractWebClient):
    """ultimate-sitemap-parser's web client, backed by our Fetcher."""

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher

    def set_max_response_data_length(self, max_response_data_length: int | None) -> None:
        pass  # the Fetcher's own size cap applies

    def get(self, url: str) -> AbstractWebClientResponse:
        try:
            self.fetcher._check(url)
            if not self.fetcher.allowed_by_robots(url):
                return _Error(f"robots.txt disallows {url}", False)
            response, body, _ = self.fetcher.get(url)
        except (Refused, FetchFailed) as exc:
            return _Error(str(exc), False)
        if response.status_code >= 400:
            return _Error(f"HTTP {response.status_code}", False)
        headers = {k.lower(): v for k, v in response.headers.items()}
        return _Response(str(response.url), response.status_code, headers, body)


def from_sitemap(url: str, fetcher: Fetcher) -> list[Discovered]:
    """Pages listed by a sitemap (or, for a site's root URL, by all the sitemaps it declares)."""
    client = PoliteClient(fetcher)
    if urlsplit(url).path in ("", "/"):
        tree = sitemap_tree_for_homepage(url, web_client=client)
    else:
        tree = SitemapFetcher(url=url, recursion_level=0, web_client=client).sitemap()
        if isinstance(tree, InvalidSitemap):
            raise DiscoveryFailed(f"sitemap {url}: {tree.reason}")
    found = []
    for page in tree.all_pages():
        story = page.news_story
        when = (story.publish_date if story and story.publish_date else None) or page.last_modified
        found.append(Discovered(page.url, _aware(when), url))
    return found


def from_feed(url: str, fetcher: Fetcher) -> list[Discovered]:
    """Article links of an RSS or Atom feed, with their publication dates."""
    try:
        fetcher._check(url)
        if not fetcher.allowed_by_robots(url):
            raise DiscoveryFailed(f"robots.txt disallows the feed {url}")
        response, body, _ = fetcher.get(url)
    except (Refused, FetchFailed) as exc:
        raise DiscoveryFailed(f"feed {url}: {exc}") from None
    if response.status_code != 200:
        raise DiscoveryFailed(f"feed {url}: HTTP {response.status_code}")
    parsed = feedparser.parse(body)  # bytes: feedparser never fetches anything itself
    if parsed.bozo and not parsed.entries:
        raise DiscoveryFailed(f"feed {url}: not a feed ({parsed.get('bozo_exception')})")
    found = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        when = dt.datetime.fromtimestamp(calendar.timegm(stamp), dt.UTC) if stamp else None
        found.append(Discovered(link, when, url))
    return found


class DiscoveryFailed(Exception):
    pass


def _aware(when: dt.datetime | None) -> dt.datetime | None:
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def recent(found: Iterable[Discovered], since: dt.datetime | None, limit: int) -> list[str]:
    """URLs published since `since` (undated ones too), newest first, at most `limit`."""
    kept = [d for d in found if since is None or d.published is None or d.published >= since]
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    kept.sort(key=lambda d: d.published or floor, reverse=True)
    return [d.url for d in kept[:limit]]


def discover(
    sitemaps: Iterable[str], feeds: Iterable[str], fetcher: Fetcher,
    since: dt.datetime | None, limit: int = 500,
) -> Iterator[str | PageError]:
    """Recent article URLs of every sitemap and feed; a source that fails is an error entry."""
    sources = [(u, from_sitemap) for u in sitemaps] + [(u, from_feed) for u in feeds]
    for url, read in sources:
        try:
            found = read(url, fetcher)
        except DiscoveryFailed as exc:
            yield PageError(url, url, "discover", str(exc))
            continue
        except Exception as exc:  # a broken sitemap must not end the audit
            yield PageError(url, url, "discover", f"{type(exc).__name__}: {exc}")
            continue
        urls = recent(found, since, limit)
        log.info("%s: %d entries, %d recent", url, len(found), len(urls))
        yield from urls
