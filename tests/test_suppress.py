"""Suppressions: matching, marking, expiry, the exit status, and `compliance suppress` writing the
ledger without disturbing the rest of the rulebook."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest

from compliance.ingest.pages import iter_pages
from compliance.rulebook import load_rulebook
from compliance.rulebook.schema import Suppression
from compliance.runner import run_audit
from compliance.suppress import add_suppression, apply_suppressions, matches

from .conftest import AUDIT_TIME, RULES, write
from .report_samples import copy_record, dpa_record, invoke, translation_record

TODAY = dt.date(2026, 11, 20)
COPY_PAGE = """<html lang="en"><head><meta charset="utf-8"><title>Glassworks</title></head><body><article>
<p>PARIS (AFP) - Workers at the glassworks voted on Tuesday to accept a new contract after a strike
that lasted nearly three weeks at two plants in the north of the country.</p>
<p>The agreement raises wages by 4.5 percent this year, the union said in a statement on its site.</p>
<p>Management said production restarts on Thursday at both plants.</p></article></body></html>"""


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    """A private copy of the shipped rulebook (without its rule tests) to write into."""
    target = tmp_path / "rules"
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("tests"))
    return target


def test_matching_by_id_url_glob_and_clause() -> None:
    record = copy_record()
    assert matches(Suppression(id=record["id"], reason="r", approver="a"), record)
    assert not matches(Suppression(id="other", reason="r", approver="a"), record)
    glob = Suppression(url_pattern="https://newsflash-hub.example/news/*", reason="r", approver="a")
    assert matches(glob, record)
    assert not matches(glob, translation_record())
    limited = glob.model_copy(update={"clause": "afp-no-translation"})
    assert not matches(limited, record)
    assert matches(glob.model_copy(update={"clause": "afp"}), record)  # an agency id works too


def test_live_suppression_marks_and_expired_one_reopens(caplog: pytest.LogCaptureFixture) -> None:
    live, lapsed, untouched = copy_record(), translation_record(), dpa_record()
    del untouched["suppressed"]
    ledger = [
        Suppression(id=live["id"], reason="licence signed", approver="A. Counsel", until=TODAY),
        Suppression(id=lapsed["id"], reason="quotation", approver="B. Counsel", until=dt.date(2026, 11, 19)),
    ]
    with caplog.at_level(logging.WARNING, logger="compliance.suppress"):
        outcome = apply_suppressions([live, lapsed, untouched], ledger, TODAY)
    assert outcome.suppressed == 1
    assert live["suppressed"] == {
        "reason": "licence signed", "approver": "A. Counsel", "until": "2026-11-20",
        "by": "id", "pattern": None, "ticket": None,
    }
    assert lapsed["suppressed"] is None
    assert lapsed["suppression_expired"]["until"] == "2026-11-19"
    assert untouched["suppressed"] is None and "suppression_expired" not in untouched
    [warning] = outcome.warnings
    assert lapsed["id"] in warning and "expired on 2026-11-19" in warning and "B. Counsel" in warning
    assert warning in caplog.text


def test_suppressed_findings_stay_in_reports_and_never_change_exit_status(tmp_path: Path, rules: Path) -> None:
    write(tmp_path / "p.html", COPY_PAGE)
    pages = lambda: iter_pages([tmp_path / "p.html"], url="https://copycat.example/glass")  # noqa: E731
    first = run_audit(pages(), load_rulebook(rules), tmp_path / "a", now=AUDIT_TIME)
    assert first.exit_status == 1
    [record] = [json.loads(x) for x in (tmp_path / "a" / "findings.jsonl").read_text().splitlines()]
    add_suppression(rules, Suppression(id=record["id"], reason="licence signed", approver="A. Counsel",
                                       until=dt.date(2027, 1, 31)))
    second = run_audit(pages(), load_rulebook(rules), tmp_path / "b", now=AUDIT_TIME)
    assert second.exit_status == 0
    [again] = [json.loads(x) for x in (tmp_path / "b" / "findings.jsonl").read_text().splitlines()]
    assert again["id"] == record["id"] and again["suppressed"]["approver"] == "A. Counsel"
    html = (tmp_path / "b" / "report.html").read_text()
    assert f'id="f-{record["id"]}"' in html and "Suppressed</strong> until 2027-01-31" in html
    # after the waiver's last day the finding counts again, with a warning in the report
    later = AUDIT_TIME.replace(year=2027, month=2)
    third = run_audit(pages(), load_rulebook(rules), tmp_path / "c", now=later)
    assert third.exit_status == 1
    assert "expired on 2027-01-31" in (tmp_path / "c" / "report.html").read_text()


def test_cli_suppress_writes_the_ledger_and_keeps_the_rest(rules: Path) -> None:
    policy_before = (rules / "policy.yaml").read_text()
    result = invoke("suppress", "623b6ad624e53f2ca2c7", "--reason", "licence signed 2026-11-25",
                    "--approver", "A. Counsel", "--until", "2099-06-30", "--ticket", "LEGAL-42",
                    "--rules", str(rules))
    assert result.exit_code == 0, result.output
    ledger = rules / "suppressions.yaml"
    assert f"added suppression of 623b6ad624e53f2ca2c7 until 2099-06-30 in {ledger}" in result.output
    [entry] = load_rulebook(rules).suppressions
    assert (entry.id, entry.approver, entry.until, entry.ticket) == (
        "623b6ad624e53f2ca2c7", "A. Counsel", dt.date(2099, 6, 30), "LEGAL-42")
    assert entry.added == dt.date.today()
    # a URL-pattern waiver goes into the same file, below the first, leaving it intact
    text_before = ledger.read_text()
    result = invoke("suppress", "--url-pattern", "https://press-review.example/*", "--clause", "afp",
                    "--reason", "press review, quotation", "--approver", "B. Counsel",
                    "--until", "2099-01-01", "--rules", str(rules))
    assert result.exit_code == 0, result.output
    assert ledger.read_text().startswith(text_before)
    assert len(load_rulebook(rules).suppressions) == 2
    # renewing the first replaces it in place rather than adding a duplicate
    result = invoke("suppress", "623b6ad624e53f2ca2c7", "--reason", "renewed", "--approver", "A. Counsel",
                    "--until", "2100-01-01", "--rules", str(rules))
    assert "renewed suppression" in result.output
    entries = load_rulebook(rules).suppressions
    assert [e.reason for e in entries] == ["renewed", "press review, quotation"]
    assert (rules / "policy.yaml").read_text() == policy_before


def test_ledger_edit_keeps_comments_and_other_keys(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("tests"))
    ledger = rules / "waivers.yaml"
    original = (
        "# Reviewed by legal every quarter.\n"
        "suppressions:\n"
        "  # quotation in a press review\n"
        "  - id: aaaaaaaaaaaaaaaaaaaa\n"
        "    reason: quotation\n"
        "    approver: C. Counsel\n"
        "    until: 2099-01-01\n"
        "\n"
        "# end of ledger\n"
    )
    ledger.write_text(original)
    path, replaced = add_suppression(rules, Suppression(id="bbbbbbbbbbbbbbbbbbbb", reason="licensed",
                                                        approver="D", until=dt.date(2099, 2, 2)))
    assert path == ledger and not replaced
    text = ledger.read_text()
    assert text.startswith(original.split("\n\n")[0])
    assert text.endswith("\n# end of ledger\n")
    assert "  - id: bbbbbbbbbbbbbbbbbbbb\n    reason: licensed\n" in text
    assert [s.id for s in load_rulebook(rules).suppressions] == ["aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"]


def test_cli_suppress_refuses_bad_requests(rules: Path) -> None:
    both = invoke("suppress", "abc", "--url-pattern", "x*", "--reason", "r", "--approver", "a",
                  "--until", "2099-01-01", "--rules", str(rules))
    assert both.exit_code == 2 and "one FINDING_ID or one --url-pattern" in both.output
    past = invoke("suppress", "abc", "--reason", "r", "--approver", "a", "--until", "2001-01-01",
                  "--rules", str(rules))
    assert past.exit_code == 2 and "in the past" in past.output
    missing = invoke("suppress", "abc", "--approver", "a", "--until", "2099-01-01", "--rules", str(rules))
    assert missing.exit_code == 2 and "--reason" in missing.output
    assert not (rules / "suppressions.yaml").exists()
