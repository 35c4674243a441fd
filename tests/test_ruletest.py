"""Rule tests (`compliance rules test`), and `report render` / `report diff` from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from compliance.ingest.pages import iter_pages
from compliance.rulebook import Rulebook, load_rulebook
from compliance.ruletest import read_fixture, run_tests, untested_agencies
from compliance.runner import run_audit

from .conftest import AUDIT_TIME, EXAMPLES, RULES, write
from .report_samples import copy_record, dpa_record, invoke, translation_record

PASSING = """<!-- expect: afp-no-redistribution -->
<!-- url: https://copycat.example/glass -->
<html lang="en"><body><article>
<p>PARIS (AFP) - Workers at the glassworks voted on Tuesday to accept a new contract after a strike
that lasted nearly three weeks at two plants in the north of the country.</p>
<p>The agreement raises wages by 4.5 percent this year, the union said in a statement.</p>
</article></body></html>"""


def test_shipped_rule_tests_pass_and_cover_every_agency(rulebook: Rulebook) -> None:
    results = run_tests(RULES / "tests", rulebook, AUDIT_TIME)
    failures = {str(r.path): r.problems for r in results if not r.ok}
    assert not failures
    assert untested_agencies(results, rulebook) == []
    # every agency has a fixture of its own folder that expects one of its clauses
    for agency in rulebook.agencies.values():
        own = [r for r in results if r.path.parent.name == agency.id]
        assert any(r.expected & {c.id for c in agency.clauses} for r in own), agency.id
    assert any(not r.expected for r in results)  # and negative cases exist


def test_annotations_are_read_and_removed(tmp_path: Path) -> None:
    page = write(tmp_path / "a.html", PASSING.replace("-->\n<!-- url", ", afp-no-translation -->\n<!-- url"))
    expect, raw = read_fixture(page)
    assert expect.clauses == {"afp-no-redistribution", "afp-no-translation"}
    assert expect.url == "https://copycat.example/glass" and not expect.none
    assert b"<!--" not in raw and raw.startswith(b"<html")


def test_every_difference_is_reported(tmp_path: Path, rulebook: Rulebook) -> None:
    write(tmp_path / "ok.html", PASSING)
    write(tmp_path / "missing.html", PASSING.replace("afp-no-redistribution", "afp-no-translation"))
    write(tmp_path / "unexpected.html", PASSING.replace("expect: afp-no-redistribution", "expect-none"))
    write(tmp_path / "typo.html", PASSING.replace("afp-no-redistribution", "afp-no-redistributon"))
    write(tmp_path / "bare.txt", "PARIS (AFP) - A text page with no expectations at all, long enough to read.")
    results = {r.path.name: r for r in run_tests(tmp_path, rulebook, AUDIT_TIME)}
    assert results["ok.html"].ok
    assert results["missing.html"].problems == (
        "missing: afp-no-translation",
        "unexpected: afp-no-redistribution",
    )
    assert results["unexpected.html"].problems == ("unexpected: afp-no-redistribution",)
    assert "expects unknown clause 'afp-no-redistributon'" in results["typo.html"].problems
    assert results["bare.txt"].problems[0].startswith("no expectations")


def test_cli_rules_test(tmp_path: Path) -> None:
    shipped = invoke("rules", "test", "--rules", str(RULES), "--require-all")
    assert shipped.exit_code == 0, shipped.output
    assert "fixture pages pass" in shipped.output and "FAIL" not in shipped.output
    write(tmp_path / "t" / "ok.html", PASSING)
    assert invoke("rules", "test", str(tmp_path / "t"), "--rules", str(RULES)).exit_code == 0
    write(tmp_path / "t" / "bad.html", PASSING.replace("expect: afp-no-redistribution", "expect-none"))
    failed = invoke("rules", "test", str(tmp_path / "t"), "--rules", str(RULES))
    assert failed.exit_code == 1
    assert f"FAIL {tmp_path / 't' / 'bad.html'}" in failed.output
    assert "unexpected: afp-no-redistribution" in failed.output
    assert "rule tests: 1 of 2 fixture pages pass" in failed.output
    assert invoke("rules", "test", str(tmp_path / "t"), "--rules", str(RULES), "--require-all").exit_code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert invoke("rules", "test", str(empty), "--rules", str(RULES)).exit_code == 2


def jsonl(path: Path, records: list[dict]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in records))


def test_cli_report_diff(tmp_path: Path) -> None:
    old = jsonl(tmp_path / "old.jsonl", [copy_record(), dpa_record()])
    new = jsonl(tmp_path / "new" / "findings.jsonl", [copy_record(), translation_record()])
    text = invoke("report", "diff", str(old), str(tmp_path / "new"))
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "1 new, 1 resolved, 1 unchanged"
    assert any(line.split()[:3] == ["new", "high", "afp-no-translation"] for line in lines)
    assert any(line.split()[:3] == ["resolved", "high", "dpa-no-redistribution"] and line.endswith("(suppressed)") for line in lines)
    rows = [json.loads(x) for x in invoke("report", "diff", str(old), str(new), "--format", "jsonl").output.splitlines()]
    assert {(r["change"], r["id"]) for r in rows} == {
        ("new", translation_record()["id"]),
        ("resolved", dpa_record()["id"]),
        ("unchanged", copy_record()["id"]),
    }
    assert invoke("report", "diff", str(old), str(new), "--fail-on-new").exit_code == 1
    assert invoke("report", "diff", str(new), str(new), "--fail-on-new").exit_code == 0


def test_cli_report_render_from_findings(tmp_path: Path, rulebook: Rulebook) -> None:
    out = tmp_path / "audit"
    run_audit(iter_pages(manifest=EXAMPLES / "manifest.jsonl"), rulebook, out, now=AUDIT_TIME)
    records = [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]
    html = invoke("report", "render", "--from", str(out), "--rules", str(RULES), "--out", str(tmp_path / "r.html"))
    assert html.exit_code == 0, html.output
    page = (tmp_path / "r.html").read_text()
    assert page.count('<article class="card') == len(records)
    assert "re-rendered from" in page and 'href="https://www.afp.com/en/terms-use"' in page
    md = invoke("report", "render", "--from", str(out / "findings.jsonl"), "--format", "md", "--rules", str(RULES))
    assert md.output.startswith("# Syndication compliance audit") and md.output.count("\n## ") == len(records)
    csv_out = invoke("report", "render", "--from", str(out), "--format", "csv", "--rules", str(RULES))
    assert len(csv_out.output.strip().splitlines()) == len(records) + 1
    # the audit id filters; a previous findings file marks new and ongoing findings
    audit_id = records[0]["audit_id"]
    assert len(invoke("report", "render", audit_id, "--from", str(out), "--format", "jsonl",
                      "--rules", str(RULES)).output.splitlines()) == len(records)
    jsonl(tmp_path / "prev.jsonl", records[:1])
    marked = invoke("report", "render", "--from", str(out), "--previous", str(tmp_path / "prev.jsonl"),
                    "--rules", str(RULES)).output
    assert marked.count('data-status="ongoing"') == 1 and marked.count('data-status="new"') == len(records) - 1
    # without --from the audit is read from the store; --db none means there is none
    assert invoke("report", "render", audit_id, "--db", "none", "--rules", str(RULES)).exit_code == 2


def test_cli_report_render_applies_current_suppressions(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    for source in RULES.rglob("*.yaml"):
        write(rules / source.relative_to(RULES), source.read_text(encoding="utf-8"))
    record = copy_record()
    del record["status"]
    jsonl(tmp_path / "f.jsonl", [record])
    invoke("suppress", record["id"], "--reason", "licence found", "--approver", "A. Counsel",
           "--until", "2099-01-01", "--rules", str(rules))
    assert load_rulebook(rules).suppressions
    rendered = invoke("report", "render", "--from", str(tmp_path / "f.jsonl"), "--format", "jsonl",
                      "--rules", str(rules)).output
    assert json.loads(rendered)["suppressed"]["reason"] == "licence found"
    raw = invoke("report", "render", "--from", str(tmp_path / "f.jsonl"), "--format", "jsonl",
                 "--rules", str(rules), "--no-suppressions").output
    assert "suppressed" not in json.loads(raw)


def test_cli_report_render_and_notice_with_the_audit_store(tmp_path: Path, rulebook: Rulebook) -> None:
    from compliance.store import Store

    db = str(tmp_path / "audits.db")
    store = Store.open(db)
    try:
        outcome = run_audit(iter_pages(manifest=EXAMPLES / "manifest.jsonl"), rulebook,
                            tmp_path / "out", now=AUDIT_TIME, store=store)
    finally:
        store.close()
    rendered = invoke("report", "render", outcome.audit_id, "--db", db, "--format", "jsonl",
                      "--rules", str(RULES))
    assert rendered.exit_code == 0, rendered.output
    records = [json.loads(x) for x in rendered.output.splitlines()]
    assert len(records) == outcome.stats.findings and {r["status"] for r in records} == {"new"}
    html = invoke("report", "render", outcome.audit_id, "--db", db, "--rules", str(RULES)).output
    assert f"<b>{len(records)}</b> new since the last audit" in html
    missing = invoke("report", "render", "20990101T000000Z-00000000", "--db", db, "--rules", str(RULES))
    assert missing.exit_code == 2 and "no audit" in missing.output
    # a notice marked as sent moves its findings to notice_sent in the store
    target = next(r for r in records if r["clause"]["agency"] == "afp")
    sent = invoke("notice", target["id"], "--db", db, "--template", "dsa", "--rules", str(RULES),
                  "--out", str(tmp_path / "notices"), "--sent", "--allow-incomplete")
    assert sent.exit_code == 0, sent.output
    store = Store.open(db, create=False)
    try:
        assert store.finding(target["id"]).status == "notice_sent"
    finally:
        store.close()


def test_findings_of_an_audit_are_selected_in_the_store(tmp_path: Path, rulebook: Rulebook) -> None:
    """The store's query picks exactly what reading every record and filtering would."""
    import datetime as dt

    from compliance.store import Store

    db = str(tmp_path / "audits.db")
    store = Store.open(db)
    try:
        first = run_audit(iter_pages(manifest=EXAMPLES / "manifest.jsonl"), rulebook,
                          tmp_path / "a", now=AUDIT_TIME, store=store)
        second = run_audit(iter_pages(manifest=EXAMPLES / "manifest.jsonl"), rulebook,
                           tmp_path / "b", now=AUDIT_TIME + dt.timedelta(days=1), store=store)
        every = store.findings()
        assert every
        for audit in (first.audit_id, second.audit_id):
            expected = [r.id for r in every
                        if audit in (r.last_audit, r.record.get("audit_id"))]
            assert expected  # the second audit saw the same pages: both audits have findings
            assert [r.id for r in store.findings_of_audit(audit)] == expected
        assert store.findings_of_audit("20990101T000000Z-00000000") == []
    finally:
        store.close()
