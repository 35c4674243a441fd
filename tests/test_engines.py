"""Local process pool and Spark engines: same findings as the in-process audit."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from compliance.audit import audit_pages
from compliance.engines.local import run_local
from compliance.ingest.pages import iter_pages
from compliance.model import PageError, PageResult
from compliance.rulebook import Rulebook

from .conftest import AUDIT_TIME, EXAMPLES

MANIFEST = EXAMPLES / "manifest.jsonl"


def finding_keys(results: list[PageResult | PageError]) -> list[tuple[str, ...]]:
    keys = []
    for result in results:
        if isinstance(result, PageError):
            keys.append(("error", result.source, result.message))
        else:
            keys.extend((f.id, f.clause_id, ",".join(f.actions), str(f.confidence))
                        for f in result.findings)
    return keys


def sources(results: list[PageResult | PageError]) -> list[str]:
    return [r.source if isinstance(r, PageError) else r.page.source for r in results]


def test_two_workers_match_one_in_order(rulebook: Rulebook) -> None:
    serial = list(audit_pages(iter_pages(manifest=MANIFEST), rulebook, AUDIT_TIME))
    pooled = list(run_local(iter_pages(manifest=MANIFEST), rulebook, AUDIT_TIME, workers=2))
    assert sources(pooled) == sources(serial)
    assert finding_keys(pooled) == finding_keys(serial)
    assert finding_keys(serial)  # the examples do hold findings
    # Workers do not send the page's bytes back; the parent puts its own copy in place.
    assert [r.page.raw for r in pooled if isinstance(r, PageResult)] == \
        [r.page.raw for r in serial if isinstance(r, PageResult)]
    assert all(r.page.raw for r in pooled if isinstance(r, PageResult))
    # Pages with findings keep their text; the others come home with their identity only.
    pairs = [(p, s) for p, s in zip(pooled, serial, strict=True) if isinstance(p, PageResult)]
    assert any(s.findings for _, s in pairs) and any(not s.findings for _, s in pairs)
    for pool_result, serial_result in pairs:
        assert isinstance(serial_result, PageResult)
        if serial_result.findings:
            assert pool_result.document == serial_result.document
        else:
            assert pool_result.document.text == "" and pool_result.document.blocks == ()
            assert pool_result.document.published == serial_result.document.published
            assert pool_result.document.canonical_url == serial_result.document.canonical_url


def test_page_time_limit_turns_a_slow_page_into_an_error(rulebook: Rulebook) -> None:
    pages = list(iter_pages(manifest=MANIFEST))[:2]
    for workers in (1, 2):
        results = list(run_local(pages, rulebook, AUDIT_TIME, workers=workers,
                                 page_time_limit=0.000_001))
        assert [type(r) for r in results] == [PageError, PageError]
        assert all("took longer than" in r.message for r in results)  # type: ignore[union-attr]


def test_load_errors_pass_through_in_place(rulebook: Rulebook, tmp_path: Path) -> None:
    missing = tmp_path / "missing.html"
    pages = [*iter_pages([EXAMPLES / "pages" / "06-unrelated.html"]), *iter_pages([missing])]
    results = list(run_local(pages, rulebook, AUDIT_TIME, workers=2))
    assert isinstance(results[0], PageResult) and isinstance(results[1], PageError)


spark_ready = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="pyspark and a Java runtime are needed (pip install '.[spark]'; Debian openjdk-17-jre-headless)",
)


@spark_ready
def test_spark_local_mode_matches_local_engine(rulebook: Rulebook, tmp_path: Path) -> None:
    from compliance.engines.spark import run_spark

    files = sorted(str(p) for p in (EXAMPLES / "pages").iterdir())
    local = list(run_local(iter_pages([Path(f) for f in files]), rulebook, AUDIT_TIME, workers=1))
    spark = list(run_spark(files, rulebook, AUDIT_TIME, tmp_path, audit_id="t", master="local[2]"))
    assert sources(spark) == sources(local)
    assert finding_keys(spark) == finding_keys(local)
    written = list((tmp_path / "spark" / "findings.jsonl").glob("part-*"))
    lines = [line for part in written for line in part.read_text().splitlines() if line]
    assert len(lines) == sum(len(r.findings) for r in local if isinstance(r, PageResult))
    assert (tmp_path / "spark" / "findings.parquet").is_dir()
    stripped = [r for r in spark if isinstance(r, PageResult) and not r.findings]
    assert stripped and all(r.page.raw == b"" and r.page.sha256 for r in stripped)


def test_the_spark_submit_file_runs_as_a_script(tmp_path: Path) -> None:
    """spark-submit runs a file as `__main__`, outside its package: the file the README hands
    it must import absolutely and give `compliance audit` its arguments."""
    import subprocess
    import sys

    import compliance.spark_submit as driver

    done = subprocess.run([sys.executable, driver.__file__, "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Usage: compliance audit" in done.stdout and "--engine" in done.stdout


def test_settle_freezes_what_is_loaded_once_and_only_with_an_index(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With an index, the dictionaries are loaded and set apart from the garbage collector
    once per process; without one nothing changes."""
    import gc

    from compliance.engines import local

    freezes: list[int] = []
    freeze = gc.freeze
    monkeypatch.setattr(local.gc, "freeze", lambda: freezes.append(1) or freeze())
    thresholds = gc.get_threshold()
    settled = list(local._SETTLED)
    try:
        local._SETTLED.clear()
        gc.unfreeze()
        local.settle(None)
        assert gc.get_freeze_count() == 0 and not local._SETTLED and not freezes
        local.settle(object())  # any index: only whether there is one matters
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= 5000 and gc.get_threshold()[2] >= 1000
        local.settle(object())
        assert freezes == [1]  # once per process
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        local._SETTLED[:] = settled
