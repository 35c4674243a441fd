"""Fetch pages from the web politely and safely, for `--urls`, `--sitemap` and `--feed`.

Politeness: robots.txt is honoured (RFC 9309: a missing file allows all, an
unreachable one disallows all), each host gets a minimum delay between
requests (or its robots Crawl-delay) and a cap on parallel requests, and
429/5xx answers are retried with backoff (Retry-After honoured, capped).
Safety: only http and https; hosts that resolve to private, loopback,
link-local or otherwise non-public addresses are refused unless
`allow_private` — checked for every redirect hop and again at connect time,
so a DNS answer that changes between the check and the connection is caught
too. Responses are capped in size and time. Every failure is a PageError.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import ipaddress
import logging
import socket
import threading
import time
import urllib.robotparser
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .. import __version__
from ..model import PageError
from .captures import CapturedPage, PageGone, Skipped

log = logging.getLogger("compliance.fetch")

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
RETRY_STATUSES = (429, 500, 502, 503, 504)
GONE = (404, 410)
REFUSED = "refused:"

Fetched = CapturedPage | PageGone | Skipped | PageError


@dataclass(frozen=True)
class FetchSettings:
    """Knobs of the fetcher; every one can be set in compliance.toml under [fetch]."""

    user_agent: str = f"compliance/{__version__} (licensing audit; +https://example.invalid/bot)"
    robots_agent: str = "compliance"  # the token robots.txt rules are matched against
    timeout: float = 20.0  # connect and read, seconds
    total_timeout: float = 60.0  # one URL from its first request: retries, redirects, drips
    retries: int = 3
    backoff: float = 1.0  # first retry delay, doubled each time
    max_retry_after: float = 120.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10
    per_host_delay: float = 1.0
    per_host_concurrency: int = 2
    concurrency: int = 8
    allow_private: bool = False
    respect_robots: bool = True


class Refused(Exception):
    """A URL we will not fetch (scheme or address); never retried."""


def public_only(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses `host` resolves to, refusing any that is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = []
    for info in infos:
        address = str(info[4][0])
        if not allow_private and not is_public(address):
            raise httpcore.ConnectError(
                f"{REFUSED} {host} resolves to {address}, a private or local address "
                "(use --allow-private to audit such hosts)"
            )
        addresses.append(address)
    return addresses


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


_DEADLINE = threading.local()  # the monotonic time the current thread's URL must be done by


def _capped(timeout: float | None) -> float | None:
    """A socket timeout no longer than what is left of the current URL's time budget.

    A server that sends one byte every few seconds never trips a per-read
    timeout; capping each read at the budget's remainder stops it mid-headers
    or mid-body all the same.
    """
    deadline: float | None = getattr(_DEADLINE, "at", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the URL's total time budget is spent")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write respects the current URL's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                    _capped(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses vetted at connect time (the last word on DNS), through
    streams that keep to the URL's deadline."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in public_only(host, port, self.allow_private):
            try:
                return DeadlineStream(super().connect_tcp(address, port, _capped(timeout),
                                                          local_address, socket_options))
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")


def guarded_client(settings: FetchSettings) -> httpx.Client:
    transport = httpx.HTTPTransport(retries=0)
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = GuardedBackend(settings.allow_private)
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(settings.timeout),
        headers={"User-Agent": settings.user_agent, "Accept": "text/html,*/*;q=0.5"},
    )


class HostGate:
    """Per-host spacing and parallelism: one `with gate.slot(host, delay):` per request."""

    def __init__(self, concurrency: int):
        self._lock = threading.Lock()
        self._hosts: dict[str, tuple[threading.Semaphore, threading.Lock, list[float]]] = {}
        self._concurrency = concurrency

    def _host(self, host: str) -> tuple[threading.Semaphore, threading.Lock, list[float]]:
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = (threading.Semaphore(self._concurrency), threading.Lock(),
                                     [0.0])
            return self._hosts[host]

    def slot(self, host: str, delay: float) -> _Slot:
        return _Slot(*self._host(host), delay)


class _Slot:
    def __init__(self, sem: threading.Semaphore, lock: threading.Lock, last: list[float],
                 delay: float):
        self.sem, self.lock, self.last, self.delay = sem, lock, last, delay

    def __enter__(self) -> None:
        self.sem.acquire()
        with self.lock:
            wait = self.last[0] + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last[0] = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.sem.release()


class Fetcher:
    """Fetches pages one URL at a time (thread-safe: `fetch_all` runs several)."""

    def __init__(self, settings: FetchSettings | None = None):
        self.settings = settings or FetchSettings()
        self.client = guarded_client(self.settings)
        self.gate = HostGate(self.settings.per_host_concurrency)
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}
        self._robots_lock = threading.Lock()
        self._origin_locks: dict[str, threading.Lock] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one page ---------------------------------------------------------------------

    def fetch(self, url: str) -> Fetched:
        """One URL, following redirects: a page, gone, skipped, or the reason it failed."""
        redirects: list[str] = []
        current = url
        budget = Budget(self.settings.total_timeout)  # shared by every hop and retry
        for _hop in range(self.settings.max_redirects + 1):
            try:
                self._check(current)
                if not self.allowed_by_robots(current):
                    return PageError(url, url, "robots", f"robots.txt disallows {current}",
                                     "the site asks crawlers not to fetch this page")
                response, body, when = self.get(current, budget=budget)
            except Refused as exc:
                return PageError(url, url, "fetch", str(exc))
            except FetchFailed as exc:
                return PageError(url, url, "fetch", str(exc), exc.hint)
            status = response.status_code
            if 300 <= status < 400 and "location" in response.headers:
                redirects.append(current)
                current = urljoin(current, response.headers["location"])
                continue
            return self._result(url, current, status, response, body, when, redirects)
        return PageError(url, url, "fetch", f"more than {self.settings.max_redirects} redirects")

    def _result(self, asked: str, final: str, status: int, response: httpx.Response,
                body: bytes, when: str, redirects: list[str]) -> Fetched:
        if status in GONE:
            return PageGone(asked, final, status, when)
        if status != 200:
            return PageError(asked, final, "fetch", f"HTTP {status}",
                             "after retries" if status in RETRY_STATUSES else "")
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media and media not in PAGE_TYPES:
            return Skipped(asked, final, f"not a page ({media})")
        return CapturedPage(
            source=asked,
            raw=body,
            url=final,
            fetched_at=when,
            content_type="text/plain" if media == "text/plain" else "text/html",
            sha256=hashlib.sha256(body).hexdigest(),
            http_status=status,
            http_headers=tuple(response.headers.multi_items()),
            redirects=tuple(redirects),
        )

    def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"{REFUSED} only http and https URLs are fetched, not {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            public_only(parts.hostname, port, self.settings.allow_private)
        except httpcore.ConnectError as exc:
            text = str(exc)
            if text.startswith(REFUSED):
                raise Refused(text) from None
            raise FetchFailed(text, "check the host name") from None

    def get(self, url: str, robots: bool = False,
            budget: Budget | None = None) -> tuple[httpx.Response, bytes, str]:
        """GET with per-host politeness, retries with backoff, and the size and time caps.

        `budget` is the URL's time allowance (`total_timeout`), started by its first
        request: waiting for a turn at a busy host is not counted, but every attempt,
        redirect and retry pause is, so no server can hold one URL longer than that.
        """
        budget = budget or Budget(self.settings.total_timeout)
        host = urlsplit(url).netloc.lower()
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            delay = self.settings.per_host_delay if robots else self._delay(url)
            try:
                with self.gate.slot(host, delay):
                    response, body = self._download(url, budget)
            except FetchFailed as exc:
                pause = self.settings.backoff * 2**attempt
                if not exc.transient or attempt == attempts - 1 or pause >= budget.left():
                    raise
                time.sleep(pause)
                continue
            when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            if response.status_code in RETRY_STATUSES and attempt < attempts - 1:
                pause = _retry_after(response) or self.settings.backoff * 2**attempt
                pause = min(pause, self.settings.max_retry_after)
                if pause >= budget.left():
                    return response, body, when  # no time left to ask again: this is the answer
                log.info("%s answered %s; retrying in %.1fs", url, response.status_code, pause)
                time.sleep(pause)
                continue
            return response, body, when
        raise AssertionError("unreachable")

    def _download(self, url: str, budget: Budget) -> tuple[httpx.Response, bytes]:
        cap = self.settings.max_bytes
        deadline = budget.start()
        _DEADLINE.at = deadline  # read by DeadlineStream, deep inside httpcore
        try:
            with self.client.stream("GET", url) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchFailed(f"response of {declared} bytes is over the {cap}-byte cap",
                                      "raise [fetch] max_bytes if the page is genuine")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise FetchFailed(f"response is over the {cap}-byte cap",
                                          "raise [fetch] max_bytes if the page is genuine")
                    if time.monotonic() > deadline:
                        raise FetchFailed(*self._overdue(url))
                    chunks.append(chunk)
                return response, b"".join(chunks)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise FetchFailed(*self._overdue(url)) from None
            raise FetchFailed(f"timed out ({type(exc).__name__})", transient=True) from None
        except httpx.TransportError as exc:
            text = str(exc)
            if text.startswith(REFUSED):
                raise FetchFailed(text) from None
            raise FetchFailed(f"{type(exc).__name__}: {text}", transient=True) from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{type(exc).__name__}: {exc}") from None
        finally:
            _DEADLINE.at = None

    def _overdue(self, url: str) -> tuple[str, str]:
        return (f"no complete answer from {url} within {self.settings.total_timeout:g}s "
                "(the server hangs or sends too slowly)",
                "raise [fetch] total_timeout if the site is merely slow")

    # --- robots.txt --------------------------------------------------------------------

    def allowed_by_robots(self, url: str) -> bool:
        if not self.settings.respect_robots:
            return True
        rules = self._rules_for(url)
        if isinstance(rules, str):
            return rules == "allow"
        return rules.can_fetch(self.settings.robots_agent, url)

    def _delay(self, url: str) -> float:
        delay = self.settings.per_host_delay
        if self.settings.respect_robots:
            rules = self._rules_for(url)
            if not isinstance(rules, str):
                asked = rules.crawl_delay(self.settings.robots_agent)
                if asked:
                    delay = max(delay, min(float(asked), 60.0))
        return delay

    def _rules_for(self, url: str) -> urllib.robotparser.RobotFileParser | str:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            lock = self._origin_locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch of robots.txt per site, sites in parallel
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin)
            return self._robots[origin]

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | str:
        try:
            response, body, _ = self.get(origin + "/robots.txt", robots=True)
        except FetchFailed as exc:
            log.warning("%s/robots.txt unreachable (%s): not fetching from this site", origin, exc)
            return "disallow"
        if 400 <= response.status_code < 500:
            return "allow"  # no robots.txt: everything is allowed
        if response.status_code >= 500:
            return "disallow"
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(body.decode("utf-8", "replace").splitlines())
        return parser


class Budget:
    """The time one URL may take, counted from its first request."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline: float | None = None

    def start(self) -> float:
        """The deadline, set by the first call."""
        if self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        return self.deadline

    def left(self) -> float:
        if self.deadline is None:
            return self.seconds
        return self.deadline - time.monotonic()


class FetchFailed(Exception):
    def __init__(self, message: str, hint: str = "", transient: bool = False):
        super().__init__(message)
        self.hint = hint
        self.transient = transient


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def read_url_list(path: Path) -> list[str]:
    """URLs of a --urls file: one per line; blank lines and # comments ignored."""
    urls = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            urls.append(line)
    return urls


def fetch_all(urls: Iterable[str | PageError], fetcher: Fetcher) -> Iterator[Fetched]:
    """Fetch many URLs in parallel (politely per host), yielding results in input order.

    Errors met before fetching (a sitemap that failed) pass through in place.
    """
    seen: set[str] = set()
    window: deque[Future[Fetched]] = deque()
    width = max(1, fetcher.settings.concurrency)
    with ThreadPoolExecutor(width, thread_name_prefix="fetch") as pool:
        for url in urls:
            if isinstance(url, PageError):
                done: Future[Fetched] = Future()
                done.set_result(url)
                window.append(done)
                continue
            if url in seen:
                continue
            seen.add(url)
            window.append(pool.submit(fetcher.fetch, url))
            while len(window) >= width * 4:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
