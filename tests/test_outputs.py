"""Outputs: findings.jsonl per the contract, CSV, escaped HTML, errors, exit statuses, atomicity."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.ingest.pages import iter_pages
from compliance.rulebook import Rulebook
from compliance.runner import run_audit

from .conftest import AUDIT_TIME, RULES, write

HOSTILE = """<html lang="en"><head><meta charset="utf-8">
<title>Glass &lt;script&gt;alert("title")&lt;/script&gt;</title></head><body><article>
<p>PARIS (AFP) - Workers at the &lt;img src=x onerror=alert(1)&gt; glassworks voted on Tuesday to
accept a new contract after a strike that lasted nearly three weeks at two plants.</p>
<p>The agreement raises wages by 4.5 percent this year, the union said in a statement on its site.</p>
<p><a href="javascript:alert(2)">More</a> Management said production restarts on Thursday.</p>
</article></body></html>"""
CLEAN = (
    "<html><body><p>"
    + "A quiet local story about a bakery that opened. " * 8
    + "</p></body></html>"
)


def audit_folder(tmp_path: Path, rulebook: Rulebook, **kwargs: object):  # type: ignore[no-untyped-def]
    pages = tmp_path / "pages"
    write(pages / "hostile.html", HOSTILE)
    write(pages / "clean.html", CLEAN)
    (pages / "empty.txt").write_bytes(b"")
    manifest = write(
        tmp_path / "m.jsonl",
        "\n".join(
            [
                '{"path": "pages/hostile.html", "url": "https://copycat.example/glass", '
                '"fetched_at": "2026-11-20T09:00:00Z"}',
                '{"path": "pages/clean.html", "url": "https://bakery.example/"}',
                '{"path": "pages/empty.txt", "url": "https://empty.example/"}',
            ]
        ),
    )
    return run_audit(
        iter_pages(manifest=manifest), rulebook, tmp_path / "out", now=AUDIT_TIME, **kwargs
    )  # type: ignore[arg-type]


def test_findings_jsonl_follows_the_contract(tmp_path: Path, rulebook: Rulebook) -> None:
    outcome = audit_folder(tmp_path, rulebook, max_error_ratio=0.5)
    lines = (tmp_path / "out" / "findings.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["clause"]["id"] for r in records} == {"afp-no-redistribution"}
    record = records[0]
    assert set(record) >= {
        "id",
        "audit_id",
        "severity",
        "confidence",
        "clause",
        "actions",
        "page",
        "dispatch",
        "match",
        "licence",
        "evidence",
    }
    assert record["audit_id"] == outcome.audit_id
    assert record["page"]["url"] == "https://copycat.example/glass"
    assert record["page"]["domain"] == "copycat.example"
    assert len(record["page"]["sha256"]) == 64
    assert record["match"] == {"kind": "marker", "score": None, "coverage": None}
    assert record["dispatch"] is None
    assert record["evidence"][0]["kind"] == "dateline"
    assert isinstance(record["evidence"][0]["span"], list)
    assert outcome.exit_status == 1


def test_errors_jsonl_and_incomplete_status(tmp_path: Path, rulebook: Rulebook) -> None:
    outcome = audit_folder(tmp_path, rulebook)
    [error] = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert error["source"].endswith("empty.txt") and error["stage"] == "extract"
    assert error["url"] == "https://empty.example/"
    assert outcome.stats.pages == 2 and outcome.stats.errors == 1
    assert outcome.exit_status == 3  # default --max-error-ratio 0


def test_csv_has_one_row_per_finding(tmp_path: Path, rulebook: Rulebook) -> None:
    audit_folder(tmp_path, rulebook, max_error_ratio=1)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "findings.csv").read_text())))
    assert len(rows) == 1
    assert rows[0]["clause"] == "afp-no-redistribution" and rows[0]["licence_status"] == "none"


def test_html_report_escapes_page_content(tmp_path: Path, rulebook: Rulebook) -> None:
    audit_folder(tmp_path, rulebook, max_error_ratio=1)
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.lower().count("<script") == 1  # the report's own, allowed by hash in the CSP
    assert "onerror=alert(1)>" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_fail_on_thresholds(tmp_path: Path, rulebook: Rulebook) -> None:
    assert audit_folder(tmp_path, rulebook, max_error_ratio=1, fail_on="critical").exit_status == 0
    assert audit_folder(tmp_path, rulebook, max_error_ratio=1, fail_on="high").exit_status == 1
    assert audit_folder(tmp_path, rulebook, max_error_ratio=1, fail_on="none").exit_status == 0


def test_jsonl_only_audit_keeps_no_findings_in_memory(tmp_path: Path, rulebook: Rulebook) -> None:
    from compliance.report.writers import ReportWriter

    kept: list[ReportWriter] = []
    original = ReportWriter.__init__

    def spy(self: ReportWriter, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        kept.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReportWriter, "__init__", spy)
        outcome = audit_folder(tmp_path, rulebook, max_error_ratio=1, formats=("jsonl",))
        new_only = audit_folder(tmp_path, rulebook, max_error_ratio=1, formats=("jsonl",),
                                fail_on="new")
        lenient = audit_folder(tmp_path, rulebook, max_error_ratio=1, formats=("jsonl",),
                               fail_on="critical")
    assert kept[0].findings == [] and sum(kept[0].verdicts.values()) == outcome.stats.findings == 1
    assert (outcome.exit_status, new_only.exit_status, lenient.exit_status) == (1, 1, 0)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["errors.jsonl",
                                                                    "findings.jsonl"]


def test_failed_audit_leaves_previous_reports_intact(tmp_path: Path, rulebook: Rulebook) -> None:
    audit_folder(tmp_path, rulebook, max_error_ratio=1)
    out = tmp_path / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def crash(result: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        audit_folder(tmp_path, rulebook, on_result=crash)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # no temporary files left, nothing half-written


def test_cli_audit_end_to_end(tmp_path: Path) -> None:
    page = write(tmp_path / "p.html", HOSTILE)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            str(page),
            "--url",
            "https://copycat.example/x",
            "--rules",
            str(RULES),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "1 violations on 1 pages" in result.output
    assert {p.name for p in out.iterdir()} == {
        "findings.jsonl",
        "errors.jsonl",
        "findings.csv",
        "report.html",
    }
    usage = CliRunner().invoke(cli, ["audit", "--rules", str(RULES)])
    assert usage.exit_code == 2


def test_cli_match_prints_one_line_per_page(tmp_path: Path) -> None:
    write(tmp_path / "a.html", HOSTILE)
    write(tmp_path / "b.html", CLEAN)
    result = CliRunner().invoke(cli, ["match", str(tmp_path), "--rules", str(RULES)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [len(r["attributions"]) for r in records] == [1, 0]
    first = records[0]["attributions"][0]
    assert first["agency"] == "afp" and first["kind"] == "marker" and first["dispatch_id"] is None
    assert first["evidence"][0]["text"] == "PARIS (AFP) -"
