"""URL fetching against a real HTTP server on 127.0.0.1 (no other network):
robots.txt, 429 and 5xx retries, redirects, size cap, timeouts, address refusal."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpcore
import pytest

from compliance.ingest.captures import CapturedPage, PageGone, Skipped
from compliance.ingest.discover import discover
from compliance.ingest.fetch import Fetcher, FetchSettings, fetch_all, public_only
from compliance.model import PageError
from compliance.rulebook import Rulebook
from compliance.runner import run_audit
from compliance.store import Store

from .test_store import DAY1, DAY2, article

SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://{host}/news-sitemap.xml</loc></sitemap>
</sitemapindex>"""
NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>http://{host}/news/11</loc><news:news>
    <news:publication><news:name>Copycat</news:name><news:language>en</news:language></news:publication>
    <news:publication_date>2026-11-19T18:00:00Z</news:publication_date><news:title>Eleven</news:title>
  </news:news></url>
  <url><loc>http://{host}/news/12</loc><lastmod>2026-11-20T01:00:00Z</lastmod></url>
  <url><loc>http://{host}/news/13</loc><lastmod>2025-01-01T00:00:00Z</lastmod></url>
</urlset>"""
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Copycat</title>
<link>http://{host}/</link><description>all the news</description>
<item><title>Fourteen</title><link>http://{host}/news/14</link>
  <pubDate>Thu, 19 Nov 2026 20:00:00 GMT</pubDate></item>
<item><title>Old</title><link>http://{host}/news/15</link>
  <pubDate>Mon, 02 Nov 2026 20:00:00 GMT</pubDate></item>
</channel></rss>"""

HITS: Counter[str] = Counter()
STATE: dict[str, object] = {}


class Site(http.server.BaseHTTPRequestHandler):
    """A small news site with every misbehaviour the fetcher must survive."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        HITS[path] += 1
        if path == "/robots.txt":
            self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path.startswith("/news/"):
            self.send(200, article(int(path.rsplit("/", 1)[1])).encode())
        elif path == "/private/secret":
            self.send(200, article(9).encode())
        elif path == "/busy":  # too many requests once, then fine
            if HITS[path] == 1:
                self.send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            else:
                self.send(200, article(5).encode())
        elif path == "/down":
            self.send(503, b"maintenance", "text/plain")
        elif path == "/old-address":
            self.send(301, b"", headers={"Location": "/news/7"})
        elif path == "/to-file":
            self.send(302, b"", headers={"Location": "file:///etc/passwd"})
        elif path == "/gone":
            self.send(410, b"gone")
        elif path == "/report.pdf":
            self.send(200, b"%PDF-1.4", "application/pdf")
        elif path == "/huge":
            self.send(200, b"<html>" + b"x" * 50_000 + b"</html>")
        elif path == "/huge-undeclared":  # no Content-Length: the cap must bite while reading
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 1000)
            self.close_connection = True
        elif path == "/sitemap_index.xml":
            self.send(200, SITEMAP_INDEX.format(host=self.headers["Host"]).encode(), "application/xml")
        elif path == "/news-sitemap.xml":
            self.send(200, NEWS_SITEMAP.format(host=self.headers["Host"]).encode(), "application/xml")
        elif path == "/feed.xml":
            self.send(200, FEED.format(host=self.headers["Host"]).encode(), "application/rss+xml")
        elif path == "/slow":
            time.sleep(1.5)
            self.send(200, article(3).encode())
        else:
            self.send(404, b"not here")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def quick(**kwargs: object) -> FetchSettings:
    base = {"allow_private": True, "per_host_delay": 0.0, "backoff": 0.05, "retries": 2,
            "timeout": 0.5, "total_timeout": 5.0, "max_bytes": 20_000}
    base.update(kwargs)
    return FetchSettings(**base)  # type: ignore[arg-type]


def test_pages_redirects_gone_and_skipped(server: str) -> None:
    with Fetcher(quick()) as fetcher:
        page = fetcher.fetch(f"{server}/news/1")
        assert isinstance(page, CapturedPage) and page.http_status == 200
        assert page.raw == article(1).encode() and page.fetched_at and page.fetched_at.endswith("Z")
        assert ("content-type", "text/html; charset=utf-8") in page.http_headers
        moved = fetcher.fetch(f"{server}/old-address")
        assert isinstance(moved, CapturedPage)
        assert moved.url == f"{server}/news/7" and moved.redirects == (f"{server}/old-address",)
        assert moved.source == f"{server}/old-address"
        gone = fetcher.fetch(f"{server}/gone")
        assert isinstance(gone, PageGone) and gone.http_status == 410
        assert isinstance(fetcher.fetch(f"{server}/missing"), PageGone)
        pdf = fetcher.fetch(f"{server}/report.pdf")
        assert isinstance(pdf, Skipped) and pdf.reason == "not a page (application/pdf)"


def test_robots_txt_is_honoured(server: str) -> None:
    HITS.clear()
    with Fetcher(quick()) as fetcher:
        refused = fetcher.fetch(f"{server}/private/secret")
        assert isinstance(refused, PageError) and refused.stage == "robots"
        assert HITS["/private/secret"] == 0
        assert isinstance(fetcher.fetch(f"{server}/news/2"), CapturedPage)
        assert HITS["/robots.txt"] == 1  # read once per site


def test_429_is_retried_after_the_time_asked(server: str) -> None:
    HITS.clear()
    with Fetcher(quick()) as fetcher:
        started = time.monotonic()
        page = fetcher.fetch(f"{server}/busy")
        assert isinstance(page, CapturedPage)
        assert HITS["/busy"] == 2 and time.monotonic() - started >= 1.0  # Retry-After: 1
        down = fetcher.fetch(f"{server}/down")
        assert isinstance(down, PageError) and down.message == "HTTP 503"
        assert HITS["/down"] == 3  # the first try and two retries


def test_size_cap_and_timeouts(server: str) -> None:
    with Fetcher(quick(retries=0)) as fetcher:
        for path in ("/huge", "/huge-undeclared"):
            big = fetcher.fetch(server + path)
            assert isinstance(big, PageError) and "20000-byte cap" in big.message, path
        started = time.monotonic()
        slow = fetcher.fetch(f"{server}/slow")
        assert isinstance(slow, PageError) and "timed out" in slow.message
        assert time.monotonic() - started < 1.4


def test_only_public_http_addresses_are_fetched(server: str) -> None:
    with Fetcher(quick(allow_private=False)) as fetcher:
        local = fetcher.fetch(f"{server}/news/1")
        assert isinstance(local, PageError) and "private or local address" in local.message
        for url in ("file:///etc/passwd", "ftp://example.org/x", "gopher://x/"):
            refused = fetcher.fetch(url)
            assert isinstance(refused, PageError) and "only http and https" in refused.message
    with Fetcher(quick()) as fetcher:  # a redirect to another scheme is refused too
        hop = fetcher.fetch(f"{server}/to-file")
        assert isinstance(hop, PageError) and "only http and https" in hop.message
    for host in ("localhost", "127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"):
        with pytest.raises(httpcore.ConnectError, match="private or local"):
            public_only(host, 80, allow_private=False)


def test_per_host_rate_limit(server: str) -> None:
    with Fetcher(quick(per_host_delay=0.3, concurrency=4)) as fetcher:
        fetcher.fetch(f"{server}/news/1")  # robots.txt and one page
        started = time.monotonic()
        results = list(fetch_all([f"{server}/news/{n}" for n in (2, 3, 4)], fetcher))
        assert all(isinstance(r, CapturedPage) for r in results)
        assert time.monotonic() - started >= 0.3 * 3 - 0.05  # spaced, though fetched in parallel
        assert [r.url for r in results] == [f"{server}/news/{n}" for n in (2, 3, 4)]


def test_auditing_a_url_list(server: str, tmp_path: Path, rulebook: Rulebook) -> None:
    urls = [f"{server}/news/1", f"{server}/news/2", f"{server}/private/secret", f"{server}/down"]
    store = Store.open(tmp_path / "s.sqlite")
    try:
        with Fetcher(quick(retries=0)) as fetcher:
            one = run_audit(fetch_all(urls, fetcher), rulebook, tmp_path / "r1", store=store,
                            evidence_dir=tmp_path / "ev", now=DAY1, max_error_ratio=0.5)
        assert one.stats.pages == 2 and one.stats.errors == 2
        errors = [json.loads(x) for x in (tmp_path / "r1" / "errors.jsonl").read_text().splitlines()]
        assert sorted(e["stage"] for e in errors) == ["fetch", "robots"]
        assert store.counts() == {"new": 2}
        with Fetcher(quick(retries=0)) as fetcher:
            run_audit(fetch_all([f"{server}/news/1", f"{server}/gone"], fetcher), rulebook,
                      tmp_path / "r2", store=store, now=DAY2)
        assert store.counts() == {"open": 1, "new": 1}  # news/2 was not in this list: as it was
    finally:
        store.close()


def test_sitemaps_and_feeds_give_recent_articles(server: str) -> None:
    since = dt.datetime(2026, 11, 19, tzinfo=dt.UTC)
    with Fetcher(quick()) as fetcher:
        found = list(discover([f"{server}/sitemap_index.xml"], [f"{server}/feed.xml",
                                                               f"{server}/missing-feed"],
                              fetcher, since))
        urls = [x for x in found if isinstance(x, str)]
        assert urls == [f"{server}/news/12", f"{server}/news/11", f"{server}/news/14"]
        (error,) = [x for x in found if isinstance(x, PageError)]
        assert error.stage == "discover" and "missing-feed" in error.message
        pages = list(fetch_all(found, fetcher))
        assert [type(p).__name__ for p in pages] == ["CapturedPage"] * 3 + ["PageError"]
