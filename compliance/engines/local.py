"""The local engine: `audit_page` over a process pool, streaming, in input order.

Pages are read in the parent and sent to workers a few at a time (a bounded
window of futures), so memory does not grow with the number of pages. Each
worker receives the rulebook once and opens the dispatch index once. Each
page gets a time limit enforced inside the worker; a page that runs over it,
or crashes its worker, becomes an error record and the audit goes on.
Results come home light: without the page's bytes (the parent has them), and
without the text and blocks of a page that has no finding (as from Spark).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..audit import audit_page, safely
from ..model import Document, Page, PageError, PageResult
from ..rulebook import Rulebook

PAGE_TIME_LIMIT = 120.0  # seconds; a page taking longer is reported, not waited for
# Pages in flight per worker. Results come back in page order, so a slow page at the head
# holds the others back; once the window behind it is done, the other workers wait. Pages
# differ a hundredfold in cost: 16 keeps both workers busy where 4 let them idle (2
# workers: 139 -> 150 pages/s on the real pages), for a few megabytes of pages in memory.
WINDOW_PER_WORKER = 16

_WORKER: dict[str, Any] = {}


class PageTimeout(BaseException):
    """The page ran over its time limit (a BaseException, so no page-level handler eats it)."""


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def open_index(path: Path | str | None) -> Any:
    """The read-only dispatch index at `path`, or None."""
    if not path:
        return None
    from ..index import DispatchIndex  # the index is optional; import it only when asked for

    return DispatchIndex.open(path, read_only=True)


_SETTLED: list[bool] = []  # settle() has run in this process


def settle(index: Any) -> None:
    """With an index, load the dictionaries matching needs now and set everything loaded so
    far apart from the garbage collector (gc.freeze), once per process.

    They are a million objects that live as long as the process; a full collection would
    walk them all again (some 0.3 ms a page over a thousand pages), and with them frozen
    such collections are also made rarer (every 1,000 younger ones instead of 10). The
    youngest are collected every 5,000 allocations instead of 700: a page's short-lived
    tuples are mostly freed before a collection would visit them (GC time 0.33 → 0.21 ms
    a page).
    """
    if index is None or _SETTLED:
        return
    _SETTLED.append(True)
    from ..index.lexicon import word_langs

    word_langs()  # loads every language's dictionaries
    gc.collect()  # what is garbage now is not kept for ever
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, 5000), middle, max(old, 1000))


def _alarm(signum: int, frame: object) -> None:
    raise PageTimeout


def audit_with_limit(page: Page | PageError, rulebook: Rulebook, audit_time: dt.datetime,
                     index: Any, limit: float | None) -> PageResult | PageError:
    """`audit_page` under a wall-clock limit (SIGALRM; main thread of a process only)."""
    if isinstance(page, PageError):
        return page
    if not limit:
        return safely(page, lambda p: audit_page(p, rulebook, audit_time, index))  # type: ignore[return-value]
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        return safely(page, lambda p: audit_page(p, rulebook, audit_time, index))  # type: ignore[return-value]
    except PageTimeout:
        return PageError(page.source, page.url, "audit", f"took longer than {limit:g} s",
                         "raise --page-timeout, or report this page")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _init_worker(rulebook: Rulebook, index_path: str | None, audit_time: dt.datetime,
                 limit: float | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _WORKER.update(rulebook=rulebook, index=open_index(index_path), audit_time=audit_time,
                   limit=limit)
    settle(_WORKER["index"])


def slim(result: PageResult | PageError) -> PageResult | PageError:
    """Drop the page's bytes and text when it has no finding: only its identity goes home.

    Most pages have no finding; their text and blocks are most of what a result
    weighs, and unpickling them in the parent is the parent's largest cost per page.
    """
    if isinstance(result, PageError) or result.findings:
        return result
    page = dataclasses.replace(result.page, raw=b"")
    document = Document(
        text="", blocks=(), title=result.document.title, lang=result.document.lang,
        declared_lang=result.document.declared_lang, meta=(),
        canonical_url=result.document.canonical_url, site_name=result.document.site_name,
        published=result.document.published, links=(), ad_signals=(),
    )
    return dataclasses.replace(result, page=page, document=document)


def _work(page: Page | PageError) -> PageResult | PageError:
    # safely() catches everything but the alarm, which audit_with_limit handles
    result = slim(audit_with_limit(page, _WORKER["rulebook"], _WORKER["audit_time"],
                                   _WORKER["index"], _WORKER["limit"]))
    if isinstance(result, PageResult) and result.page.raw:
        # The parent holds the page's bytes already: sending them back would double the
        # traffic between processes, which bounds the speed-up of a second worker.
        result = dataclasses.replace(result, page=dataclasses.replace(result.page, raw=b""))
    return result


def _with_page(result: PageResult | PageError, page: Page) -> PageResult | PageError:
    """A worker's result with the page's bytes put back."""
    if isinstance(result, PageResult) and result.page.raw != page.raw:
        return dataclasses.replace(result, page=page)
    return result


def run_local(
    pages: Iterable[Page | PageError],
    rulebook: Rulebook,
    audit_time: dt.datetime,
    *,
    workers: int = 1,
    index_path: Path | str | None = None,
    page_time_limit: float | None = PAGE_TIME_LIMIT,
) -> Iterator[PageResult | PageError]:
    """Audit pages with `workers` processes (1: in this process), yielding results in order."""
    if workers <= 1:
        index = open_index(index_path)
        settle(index)
        for page in pages:
            yield audit_with_limit(page, rulebook, audit_time, index, page_time_limit)
        return
    yield from _pooled(pages, rulebook, audit_time, workers,
                       str(index_path) if index_path else None, page_time_limit)


def _pooled(pages: Iterable[Page | PageError], rulebook: Rulebook, audit_time: dt.datetime,
            workers: int, index_path: str | None,
            limit: float | None) -> Iterator[PageResult | PageError]:
    window: deque[tuple[Page | PageError, Future[PageResult | PageError] | None]] = deque()
    executor = _executor(workers, rulebook, index_path, audit_time, limit)
    try:
        for page in pages:
            if isinstance(page, PageError):
                window.append((page, None))
            else:
                window.append((page, executor.submit(_work, page)))
            while len(window) >= workers * WINDOW_PER_WORKER:
                result, executor = _next_result(window, executor, workers, rulebook, index_path,
                                                audit_time, limit)
                yield result
        while window:
            result, executor = _next_result(window, executor, workers, rulebook, index_path,
                                            audit_time, limit)
            yield result
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _executor(workers: int, rulebook: Rulebook, index_path: str | None,
              audit_time: dt.datetime, limit: float | None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, initializer=_init_worker,
                               initargs=(rulebook, index_path, audit_time, limit))


def _next_result(window: deque[tuple[Page | PageError, Future[PageResult | PageError] | None]],
                 executor: ProcessPoolExecutor, workers: int, rulebook: Rulebook,
                 index_path: str | None, audit_time: dt.datetime,
                 limit: float | None) -> tuple[PageResult | PageError, ProcessPoolExecutor]:
    """The oldest page's result; a worker killed by its page costs that page, not the audit."""
    page, future = window.popleft()
    if future is None:
        return page, executor  # type: ignore[return-value]
    assert isinstance(page, Page)
    try:
        return _with_page(future.result(), page), executor
    except BrokenProcessPool:
        # A worker died (out of memory, a crash in a C library) and took the pool with it.
        # Retry this page alone to learn whether it is the culprit, then resubmit the rest.
        executor.shutdown(wait=False, cancel_futures=True)
        result = _alone(page, rulebook, index_path, audit_time, limit)
        executor = _executor(workers, rulebook, index_path, audit_time, limit)
        for i, (other, _) in enumerate(window):
            if not isinstance(other, PageError):
                window[i] = (other, executor.submit(_work, other))
        return result, executor


def _alone(page: Page | PageError, rulebook: Rulebook, index_path: str | None,
           audit_time: dt.datetime, limit: float | None) -> PageResult | PageError:
    assert isinstance(page, Page)
    with _executor(1, rulebook, index_path, audit_time, limit) as solo:
        try:
            return _with_page(solo.submit(_work, page).result(), page)
        except BrokenProcessPool:
            return PageError(page.source, page.url, "audit", "the worker auditing this page died",
                             "the page may exhaust memory or crash the parser; it was skipped")
