"""The audit store: lifecycle across audits, incremental and idempotent runs, the lock.

Each test runs on SQLite and, when COMPLIANCE_TEST_PG names a server (as
.ci/run arranges), on a fresh PostgreSQL database of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from compliance.ingest.captures import PageGone
from compliance.ingest.pages import iter_pages
from compliance.rulebook import Rulebook, load_rulebook
from compliance.runner import EXIT_FINDINGS, EXIT_OK, run_audit
from compliance.store import Store, StoreLocked

from .conftest import RULES, fresh_pg_database, write

DAY1 = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)
DAY3 = DAY2 + dt.timedelta(days=1)

CITIES = ["PARIS", "LYON", "NANTES", "LILLE", "TOULOUSE", "BORDEAUX", "NICE", "RENNES"]


def article(n: int, credited: bool = True, extra: str = "") -> str:
    """An article page; credited ones open with an AFP dateline (a violation off licence)."""
    city = CITIES[n % len(CITIES)]
    opening = f"{city} (AFP) - " if credited else f"{city.title()}: "
    return (
        f'<html lang="en"><head><meta charset="utf-8"><title>Story {n}</title></head><body>'
        f"<article><h1>Story {n}</h1>"
        f"<p>{opening}Workers at plant number {n} voted on Tuesday to accept a new contract "
        f"after a strike that lasted nearly three weeks at two of the company's sites.</p>"
        f"<p>The agreement raises wages by {n % 7 + 2}.5 percent this year, the union said "
        f"in a statement published on its website on Tuesday evening.</p>"
        f"<p>Management said production would restart on Thursday morning. {extra}</p>"
        "</article></body></html>"
    )


def site(folder: Path, pages: dict[str, str]) -> Path:
    """Write pages and a manifest giving each its URL; returns the manifest."""
    lines = []
    for name, html in pages.items():
        write(folder / f"{name}.html", html)
        lines.append(json.dumps({"path": f"{name}.html",
                                 "url": f"https://copycat.example/{name}"}))
    return write(folder / "manifest.jsonl", "\n".join(lines) + "\n")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield str(tmp_path / "audits.sqlite")
        return
    with fresh_pg_database() as url:
        yield url


def audit(manifest: Path, rulebook: Rulebook, url: str, out: Path, now: dt.datetime,
          **kwargs: object):  # type: ignore[no-untyped-def]
    store = Store.open(url)
    try:
        return run_audit(iter_pages(manifest=manifest), rulebook, out, store=store,
                         evidence_dir=out.parent / "evidence", now=now, **kwargs)  # type: ignore[arg-type]
    finally:
        store.close()


def by_url(out: Path) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for line in (out / "findings.jsonl").read_text().splitlines():
        record = json.loads(line)
        found.setdefault(record["page"]["url"].rsplit("/", 1)[1], []).append(record)
    return found


def test_two_audits_new_open_resolved(tmp_path: Path, rulebook: Rulebook, store_url: str) -> None:
    pages = tmp_path / "crawl"
    first = site(pages, {"kept": article(1), "changed": article(2), "removed": article(3)})
    one = audit(first, rulebook, store_url, tmp_path / "r1", DAY1, fail_on="new")
    assert one.exit_status == EXIT_FINDINGS
    day1 = by_url(tmp_path / "r1")
    assert set(day1) == {"kept", "changed", "removed"}
    assert {r["status"] for rs in day1.values() for r in rs} == {"new"}

    (pages / "removed.html").unlink()
    second = site(pages, {"kept": article(1), "changed": article(2, credited=False),
                          "added": article(4)})
    two = audit(second, rulebook, store_url, tmp_path / "r2", DAY2, fail_on="new",
                resolve_missing=True)
    day2 = by_url(tmp_path / "r2")
    assert set(day2) == {"kept", "added"}
    assert [r["status"] for r in day2["kept"]] == ["open"]
    assert day2["kept"][0]["first_seen"] == DAY1.isoformat(timespec="seconds")
    assert day2["kept"][0]["last_seen"] == DAY2.isoformat(timespec="seconds")
    assert [r["status"] for r in day2["added"]] == ["new"]
    assert two.exit_status == EXIT_FINDINGS  # "added" is new
    resolved = [json.loads(x) for x in (tmp_path / "r2" / "resolved.jsonl").read_text().splitlines()]
    assert {r["page"]["url"].rsplit("/", 1)[1] for r in resolved} == {"changed", "removed"}
    assert {r["status"] for r in resolved} == {"resolved"}
    html = (tmp_path / "r2" / "report.html").read_text()
    assert "<b>1</b> new" in html and "<b>2</b> resolved" in html and "<b>1</b> ongoing" in html

    store = Store.open(store_url)
    try:
        changed_id = day1["changed"][0]["id"]
        history = store.history(changed_id)
        assert [(e["status"], e["previous"]) for e in history] == [("new", None),
                                                                    ("resolved", "new")]
        assert "no longer shown" in history[-1]["reason"]
        removed = store.history(day1["removed"][0]["id"])
        assert "not in this audit" in removed[-1]["reason"]
        counts = store.counts()
        assert counts == {"open": 1, "new": 1, "resolved": 2}
    finally:
        store.close()

    # The same audit again: nothing new, nothing resolved, no new history, exit 0 on --fail-on new
    three = audit(second, rulebook, store_url, tmp_path / "r3", DAY3, fail_on="new",
                  resolve_missing=True)
    assert three.exit_status == EXIT_OK
    day3 = by_url(tmp_path / "r3")
    assert {k: [r["status"] for r in v] for k, v in day3.items()} == {"kept": ["open"],
                                                                     "added": ["open"]}
    assert not (tmp_path / "r3" / "resolved.jsonl").exists()
    store = Store.open(store_url)
    try:
        assert store.counts() == {"open": 2, "resolved": 2}
        assert len(store.history(changed_id)) == 2
        lifecycle = store.audit(three.audit_id)
        assert lifecycle is not None and lifecycle["state"] == "complete"
        assert json.loads(lifecycle["summary"])["pages_unchanged"] == 3  # clean ones too
    finally:
        store.close()


def test_absent_pages_stay_open_and_gone_pages_resolve(tmp_path: Path, rulebook: Rulebook,
                                                        store_url: str) -> None:
    pages = tmp_path / "crawl"
    first = site(pages, {"a": article(1), "b": article(2)})
    audit(first, rulebook, store_url, tmp_path / "r1", DAY1)
    second = site(pages, {"a": article(1)})  # b not crawled this time: not proof of removal
    store = Store.open(store_url)
    try:
        run_audit([*iter_pages(manifest=second)], rulebook, tmp_path / "r2", store=store,
                  now=DAY2)
        assert store.counts() == {"open": 1, "new": 1}
        gone = PageGone("fetch", "https://copycat.example/b", 410, "2026-11-22T00:00:00Z")
        outcome = run_audit([gone], rulebook, tmp_path / "r3", store=store, now=DAY3)
        assert outcome.stats.errors == 0
        assert store.counts() == {"open": 1, "resolved": 1}
        (event,) = [e for f in store.findings(["resolved"]) for e in store.history(f.id)
                    if e["status"] == "resolved"]
        assert event["reason"] == "page gone (HTTP 410)"
    finally:
        store.close()


def test_a_resolved_finding_that_comes_back_is_new(tmp_path: Path, rulebook: Rulebook) -> None:
    url = str(tmp_path / "s.sqlite")
    pages = tmp_path / "crawl"
    audit(site(pages, {"a": article(1)}), rulebook, url, tmp_path / "r1", DAY1)
    audit(site(pages, {"a": article(1, credited=False)}), rulebook, url, tmp_path / "r2", DAY2)
    back = audit(site(pages, {"a": article(1)}), rulebook, url, tmp_path / "r3", DAY3,
                 fail_on="new")
    assert back.exit_status == EXIT_FINDINGS
    (record,) = by_url(tmp_path / "r3")["a"]
    assert record["status"] == "new" and record["first_seen"] == DAY1.isoformat(timespec="seconds")


def test_rulebook_change_judges_unchanged_pages_again(tmp_path: Path, rulebook: Rulebook) -> None:
    url = str(tmp_path / "s.sqlite")
    manifest = site(tmp_path / "crawl", {"a": article(1), "b": article(2, credited=False)})
    one = audit(manifest, rulebook, url, tmp_path / "r1", DAY1)
    assert one.stats.pages == 2
    rules = tmp_path / "rules"
    for file in RULES.rglob("*.yaml"):
        write(rules / file.relative_to(RULES), file.read_text(encoding="utf-8"))
    first = sorted(rules.rglob("*.yaml"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n# reviewed again\n", encoding="utf-8")
    changed = load_rulebook(rules)
    assert changed.digest != rulebook.digest
    two = audit(manifest, changed, url, tmp_path / "r2", DAY2)
    store = Store.open(url)
    try:
        summary = json.loads(store.audit(two.audit_id)["summary"])  # type: ignore[index]
        assert summary["pages_judged"] == 2 and summary["pages_unchanged"] == 0
        three = audit(manifest, changed, url, tmp_path / "r3", DAY3)
        summary = json.loads(store.audit(three.audit_id)["summary"])  # type: ignore[index]
        assert summary["pages_judged"] == 0 and summary["pages_unchanged"] == 2
    finally:
        store.close()


def test_second_audit_on_a_held_store_stops_at_once(tmp_path: Path, rulebook: Rulebook,
                                                     store_url: str) -> None:
    manifest = site(tmp_path / "crawl", {"a": article(1)})
    holder = Store.open(store_url)
    holder.migrate()
    try:
        with holder.locked():
            started = time.monotonic()
            with pytest.raises(StoreLocked, match="another audit holds the store"):
                audit(manifest, rulebook, store_url, tmp_path / "r1", DAY1)
            assert time.monotonic() - started < 5
            assert not (tmp_path / "r1" / "findings.jsonl").exists()
            # --wait: the second audit runs as soon as the first lets go
            timer = threading.Timer(0.5, holder._lock.release)
            timer.start()
            outcome = audit(manifest, rulebook, store_url, tmp_path / "r2", DAY1, wait=30)
            timer.join()
            assert outcome.stats.pages == 1
    finally:
        holder.close()


def test_evidence_is_kept_for_pages_with_findings(tmp_path: Path, rulebook: Rulebook,
                                                   store_url: str) -> None:
    manifest = site(tmp_path / "crawl", {"a": article(1), "clean": article(2, credited=False)})
    audit(manifest, rulebook, store_url, tmp_path / "r1", DAY1)
    files = sorted((tmp_path / "evidence").rglob("*.warc.gz"))
    assert len(files) == 1
    store = Store.open(store_url)
    try:
        (finding,) = store.findings()
        (ref,) = store.evidence_of(finding.id)
        assert files[0].name == f"{ref.warc_sha256}.warc.gz"
        assert ref.page_sha256 == finding.record["page"]["sha256"]
    finally:
        store.close()
    # A second audit of the same bytes writes no second capture
    audit(manifest, rulebook, store_url, tmp_path / "r2", DAY2)
    assert sorted((tmp_path / "evidence").rglob("*.warc.gz")) == files


def test_store_refuses_unknown_urls_and_newer_schemas(tmp_path: Path) -> None:
    from compliance.store import StoreError

    with pytest.raises(StoreError, match="unsupported store"):
        Store.open("mysql://root@localhost/x")
    with pytest.raises(StoreError, match="no audit store"):
        Store.open(tmp_path / "missing.sqlite", create=False)
    store = Store.open(tmp_path / "s.sqlite")
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(StoreError, match="newer"):
        store.migrate()
    store.close()


def test_engines_that_read_inputs_themselves_may_report_gone_pages(
        tmp_path: Path, rulebook: Rulebook) -> None:
    url = str(tmp_path / "s.sqlite")
    audit(site(tmp_path / "crawl", {"a": article(1)}), rulebook, url, tmp_path / "r1", DAY1)
    gone = PageGone("crawl.warc#1", "https://copycat.example/a", 404)
    store = Store.open(url)
    try:
        outcome = run_audit([], rulebook, tmp_path / "r2", store=store, now=DAY2,
                            engine=lambda todo: iter([*todo, gone]))
        assert outcome.lifecycle == {"new": 0, "ongoing": 0, "resolved": 1, "suppressed": 0}
    finally:
        store.close()


def test_many_findings_move_together_and_history_stays_single(tmp_path: Path,
                                                              rulebook: Rulebook) -> None:
    url = str(tmp_path / "s.sqlite")
    manifest = site(tmp_path / "crawl", {f"p{n}": article(n) for n in range(12)})
    for day in (DAY1, DAY2, DAY3):
        audit(manifest, rulebook, url, tmp_path / day.strftime("%d"), day)
    store = Store.open(url)
    try:
        assert store.counts() == {"open": 12}
        for finding in store.findings():
            assert [(e["status"], e["previous"]) for e in store.history(finding.id)] == [
                ("new", None), ("open", "new")]
            assert finding.first_seen == DAY1.isoformat(timespec="seconds")
            assert finding.last_seen == DAY3.isoformat(timespec="seconds")
    finally:
        store.close()
