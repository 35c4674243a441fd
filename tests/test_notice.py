"""Takedown notices: every element of DMCA §512(c)(3) and DSA Art. 16(2) present and filled from
the findings and the rulebook's claimant; grouping by site; escaping; templates users override."""

from __future__ import annotations

import copy
import datetime as dt
import email
import email.policy
import json
import re
from pathlib import Path

import pytest

import compliance.notice as notice_module
from compliance.notice import build_notices, check_elements, register_recorder, render
from compliance.rulebook import Rulebook, load_rulebook

from .conftest import RULES, write
from .report_samples import copy_record, invoke, translation_record

CLAIMANT = """\
    claimant:
      rights_holder: Agence France-Presse
      agent: Rights Desk of Agence France-Presse
      signatory: Jeanne Rivière
      address: 11 rue de l'Exemple, 75000 Paris, France
      email: notices@afp-rights.example
      phone: "+33 1 00 00 00 00"
"""
TODAY = dt.date(2026, 11, 21)


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    """The shipped rulebook with AFP's placeholder claimant replaced by complete data."""
    folder = tmp_path / "rules"
    for source in RULES.rglob("*.yaml"):
        target = folder / source.relative_to(RULES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    afp = folder / "agencies" / "afp.yaml"
    lines = afp.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "claimant:")
    end = start + 1
    while lines[end].startswith("      "):
        end += 1
    lines[start:end] = [CLAIMANT]
    afp.write_text("".join(lines), encoding="utf-8")
    return folder


@pytest.fixture()
def rulebook_full(rules: Path) -> Rulebook:
    return load_rulebook(rules)


def second_page_same_site() -> dict:
    record = copy.deepcopy(copy_record())
    record["id"] = "1234567890abcdef1234"
    record["page"]["url"] = "https://newsflash-hub.example/news/glacier-pipeline-98240.html"
    record["page"]["title"] = "Glacier water pipeline for an Alpine village"
    record["dispatch"] = {"id": "afp-20261118-0031", "lang": "en", "title": "Alpine village pipes glacier water"}
    return record


def findings() -> list[dict]:
    return [translation_record(), copy_record(), second_page_same_site()]


def test_findings_of_one_site_make_one_notice(rulebook_full: Rulebook) -> None:
    notices = build_notices(findings(), rulebook_full, "dmca", today=TODAY)
    assert [(n.domain, len(n.items)) for n in notices] == [
        ("nachrichten-ticker.example", 1),
        ("newsflash-hub.example", 2),
    ]
    hub = notices[1]
    assert hub.signer == "Jeanne Rivière" and hub.claimant.email == "notices@afp-rights.example"
    assert set(hub.finding_ids) == {"0f0e0d0c0b0a09080706", "1234567890abcdef1234"}
    assert hub.name == "dmca-afp-newsflash-hub.example-2026-11-21"


@pytest.mark.parametrize("fmt", ["md", "html", "eml"])
def test_dmca_notice_has_all_six_elements_filled(rulebook_full: Rulebook, fmt: str) -> None:
    hub = build_notices(findings(), rulebook_full, "dmca", today=TODAY)[1]
    rendered = render(hub, fmt)
    elements = {e.key: e for e in rendered.elements}
    assert list(elements) == ["i", "ii", "iii", "iv", "v", "vi"]
    assert all(e.ok for e in elements.values()), [e.problem for e in elements.values() if not e.ok]
    text = " ".join(rendered.plain.split())
    # (i) signature of the authorised person
    assert "/s/ Jeanne Rivière" in text
    # (ii) the works: the matched dispatches, owned by the rights holder
    assert "afp-20261119-0058" in text and "afp-20261118-0031" in text
    assert "Solar cold rooms keep Lake Turkana's catch from rotting" in text
    # (iii) the infringing material and its location
    assert "https://newsflash-hub.example/news/kenya-solar-cold-rooms-98231.html" in text
    assert "https://newsflash-hub.example/news/glacier-pipeline-98240.html" in text
    # (iv) contact information
    for value in ("11 rue de l'Exemple, 75000 Paris, France", "notices@afp-rights.example", "+33 1 00 00 00 00"):
        assert value in text
    # (v) good faith; (vi) accuracy, perjury, authority
    assert "good faith belief that use of the material in the manner complained of is not authorized" in text
    assert "accurate, and under penalty of perjury, I am authorized to act on behalf of Agence France-Presse" in text


@pytest.mark.parametrize("fmt", ["md", "html", "eml"])
def test_dsa_notice_has_all_article_16_elements_filled(rulebook_full: Rulebook, fmt: str) -> None:
    ticker = build_notices(findings(), rulebook_full, "dsa", today=TODAY)[0]
    rendered = render(ticker, fmt)
    elements = {e.key: e for e in rendered.elements}
    assert list(elements) == ["a", "b", "c", "d"] and rendered.complete
    text = " ".join(rendered.plain.split())
    # (a) substantiated explanation: rights holder, the right infringed, the clause, the evidence
    assert "Agence France-Presse holds the copyright" in text and "Directive 2001/29/EC" in text
    assert "afp-no-translation" in text and "translated" in text
    assert "Alle Rechte der Vervielfältigung und Darstellung vorbehalten" in text
    assert "a translation of the dispatch" in text and "afp-20261117-0044" in text
    # (b) exact URL
    assert "https://nachrichten-ticker.example/vermischtes/2026/11/17/baeckerei/" in text
    # (c) name and e-mail of the notifier
    assert "Name: Jeanne Rivière, for Agence France-Presse" in text
    assert "E-mail: notices@afp-rights.example" in text
    # (d) bona fide statement of accuracy and completeness
    assert "bona fide belief that the information and allegations contained in this notice are accurate and complete" in text


def test_letter_is_filled_too(rulebook_full: Rulebook) -> None:
    rendered = render(build_notices(findings(), rulebook_full, "letter", today=TODAY)[1], "md")
    assert rendered.complete
    assert "Dear Sir or Madam" in rendered.content and "Jeanne Rivière" in rendered.content


def test_placeholders_and_gaps_are_flagged(rulebook_full: Rulebook) -> None:
    shipped = load_rulebook(RULES)  # the bundled claimant has placeholders in brackets
    rendered = render(build_notices([copy_record()], shipped, "dmca", today=TODAY)[0], "md")
    problems = {e.key: e.problem for e in rendered.elements if not e.ok}
    assert set(problems) == {"i", "iv"}
    assert "placeholder" in problems["i"] and "placeholder" in problems["iv"]
    # a notice missing a statement fails its element, whatever template produced it
    hub = build_notices(findings(), rulebook_full, "dmca", today=TODAY)[1]
    text = render(hub, "md").plain.replace("penalty of perjury", "penalty")
    [vi] = [e for e in check_elements(hub, text) if e.key == "vi"]
    assert not vi.ok and "perjury" in vi.problem


def test_user_templates_override_and_are_still_checked(rulebook_full: Rulebook, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write(templates / "dmca.md.j2", "Takedown for {{ n.domain }}:\n{% for i in items %}{{ i.url }}\n{% endfor %}/s/ {{ n.signer }}\n")
    rendered = render(build_notices(findings(), rulebook_full, "dmca", today=TODAY)[1], "md", templates)
    assert rendered.content.startswith("Takedown for newsflash-hub.example:")
    missing = {e.key for e in rendered.elements if not e.ok}
    assert missing == {"ii", "iv", "v", "vi"}  # the user's template dropped them: flagged


def test_page_text_cannot_inject_markup_or_headers(rulebook_full: Rulebook) -> None:
    record = copy_record()
    record["page"]["title"] = "Solar\r\nBcc: victim@example.com [click](javascript:alert(1)) <script>x()</script>"
    notice = build_notices([record], rulebook_full, "dmca", today=TODAY)[0]
    md = render(notice, "md").content
    assert "\\[click\\](javascript:alert(1))" in md and "\\<script\\>" in md
    html = render(notice, "html").content
    assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    message = email.message_from_string(render(notice, "eml").content, policy=email.policy.default)
    assert message["Bcc"] is None
    assert message["From"] == "Rights Desk of Agence France-Presse <notices@afp-rights.example>"
    assert message["X-Compliance-Findings"] == record["id"]
    assert "Agence France-Presse content on newsflash-hub.example" in message["Subject"]
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]


def test_cli_notice_writes_files_logs_and_tells_the_store(rules: Path, tmp_path: Path) -> None:
    report = tmp_path / "reports"
    write(report / "findings.jsonl", "".join(json.dumps(r) + "\n" for r in findings()))
    heard: list[dict] = []
    register_recorder(heard.append)
    try:
        result = invoke("notice", "0f0e0d0c0b0a", "1234567890abcdef1234", "--from", str(report),
                        "--template", "dmca", "--format", "eml", "--rules", str(rules),
                        "--out", str(tmp_path / "notices"), "--date", "2026-11-21", "--sent",
                        "--to", "copyright-agent@newsflash-hub.example")
    finally:
        notice_module._RECORDERS.remove(heard.append)
    assert result.exit_code == 0, result.output
    written = tmp_path / "notices" / "dmca-afp-newsflash-hub.example-2026-11-21.eml"
    message = email.message_from_string(written.read_text(), policy=email.policy.default)
    assert message["To"] == "copyright-agent@newsflash-hub.example"
    assert re.search(r"ok +i  signature of a person authorised", result.output)
    [event] = [json.loads(x) for x in (tmp_path / "notices" / "notices.jsonl").read_text().splitlines()]
    assert event["event"] == "notice_sent" and event["complete"] is True
    assert sorted(event["finding_ids"]) == ["0f0e0d0c0b0a09080706", "1234567890abcdef1234"]
    assert event["path"] == str(written) and len(event["sha256"]) == 64
    assert heard == [event]


def test_cli_notice_exit_statuses(tmp_path: Path) -> None:
    report = tmp_path / "reports"
    write(report / "findings.jsonl", json.dumps(copy_record()) + "\n")
    incomplete = invoke("notice", copy_record()["id"], "--from", str(report), "--rules", str(RULES),
                        "--out", "-")
    assert incomplete.exit_code == 1
    assert re.search(r"MISSING +i  signature", incomplete.output) and "not ready to send" in incomplete.output
    assert "# Notice of copyright infringement" in incomplete.output
    unknown = invoke("notice", "nosuchfinding", "--from", str(report), "--rules", str(RULES))
    assert unknown.exit_code == 2 and "no finding 'nosuchfinding'" in unknown.output
    template = invoke("notice", copy_record()["id"], "--from", str(report), "--template", "fax",
                      "--rules", str(RULES))
    assert template.exit_code == 2 and "no template 'fax'" in template.output
