"""Rulebook loading and validation: every error names file:line:col."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.rulebook import RulebookError, json_schema, load_rulebook

from .conftest import RULES, write

AGENCY = """\
agencies:
  - id: acme
    name: Acme Press
    credits: [ACME]
    markers:
      - {id: acme-paren, kind: credit, regex: '\\(ACME\\)'}
    clauses:
      - id: acme-no-redistribution
        prohibits: [reproduce]
        severity: high
"""


def problems_for(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        write(tmp_path / name, text)
    with pytest.raises(RulebookError) as caught:
        load_rulebook(tmp_path)
    return [str(p) for p in caught.value.problems]


def test_valid_rulebook_loads(tmp_path: Path) -> None:
    write(tmp_path / "acme.yaml", AGENCY)
    rulebook = load_rulebook(tmp_path)
    assert set(rulebook.agencies) == {"acme"}
    assert rulebook.policy.quotation_max_words == 40  # defaults apply without a policy file


def test_syntax_error_has_position(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"bad.yaml": "agencies:\n  - id: x\n    name: [unclosed\n"})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'bad.yaml'}:4:")
    assert "YAML syntax error" in problems[0]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    text = AGENCY.replace("    credits:", "    credit:")
    problems = problems_for(tmp_path, {"acme.yaml": text})
    assert problems == [
        f"{tmp_path / 'acme.yaml'}:4:5: unknown key 'credit'; did you mean 'credits'?"
    ]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"a.yaml": AGENCY, "b.yaml": AGENCY})
    assert (
        f"{tmp_path / 'b.yaml'}:2:5: duplicate id 'acme' (first defined at {tmp_path / 'a.yaml'}:2)"
        in problems
    )
    assert any("duplicate id 'acme-paren'" in p for p in problems)
    assert any("duplicate id 'acme-no-redistribution'" in p for p in problems)


def test_invalid_regex(tmp_path: Path) -> None:
    text = AGENCY.replace("'\\(ACME\\)'", "'(ACME'")
    problems = problems_for(tmp_path, {"acme.yaml": text})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'acme.yaml'}:6:")
    assert "invalid regex" in problems[0]


def test_licence_naming_unknown_agency(tmp_path: Path) -> None:
    licensee = """\
licensees:
  - id: site
    name: Site
    domains: [site.example]
    licences:
      - agency: acne
        permits: [reproduce]
"""
    problems = problems_for(tmp_path, {"acme.yaml": AGENCY, "lic.yaml": licensee})
    assert problems == [
        f"{tmp_path / 'lic.yaml'}:6:9: licence names unknown agency 'acne'; did you mean 'acme'?"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-13-01", "invalid value '2021-13-01'"),
        ("yesterday", "valid date"),
    ],
)
def test_bad_dates(tmp_path: Path, value: str, expected: str) -> None:
    licensee = f"""\
licensees:
  - id: site
    name: Site
    domains: [site.example]
    licences:
      - agency: acme
        permits: [reproduce]
        valid_until: {value}
"""
    problems = problems_for(tmp_path, {"acme.yaml": AGENCY, "lic.yaml": licensee})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'lic.yaml'}:8:")
    assert expected in problems[0]


def test_dates_out_of_order(tmp_path: Path) -> None:
    licensee = """\
licensees:
  - id: site
    name: Site
    domains: [site.example]
    licences:
      - agency: acme
        permits: [reproduce]
        valid_from: 2025-01-01
        valid_until: 2024-01-01
"""
    problems = problems_for(tmp_path, {"acme.yaml": AGENCY, "lic.yaml": licensee})
    assert problems == [f"{tmp_path / 'lic.yaml'}:6:9: valid_until is before valid_from"]


def test_wrong_types(tmp_path: Path) -> None:
    text = AGENCY.replace("severity: high", "severity: 7").replace(
        "credits: [ACME]", "credits: ACME"
    )
    problems = problems_for(tmp_path, {"acme.yaml": text})
    assert len(problems) == 2
    assert any(":4:" in p and "credits" in p and "valid list" in p for p in problems)
    assert any(":10:" in p and "severity" in p for p in problems)


def test_unknown_action_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"acme.yaml": AGENCY.replace("[reproduce]", "[reprodce]")})
    assert len(problems) == 1 and ":9:" in problems[0] and "prohibits[0]" in problems[0]


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    text = AGENCY.replace("    name: Acme Press\n", "    name: Acme Press\n    name: Acme\n")
    problems = problems_for(tmp_path, {"acme.yaml": text})
    assert problems == [f"{tmp_path / 'acme.yaml'}:4:5: duplicate key 'name' (first at line 3)"]


def test_python_tags_are_never_constructed(tmp_path: Path) -> None:
    text = "agencies: !!python/object/apply:os.system ['echo pwned']\n"
    problems = problems_for(tmp_path, {"evil.yaml": text})
    assert len(problems) == 1 and "unsupported YAML tag" in problems[0]


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    problems = problems_for(tmp_path, {"bomb.yaml": "\n".join(lines) + "\n"})
    assert any("alias bomb" in p for p in problems)


def test_missing_required_key(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, {"acme.yaml": AGENCY.replace("    name: Acme Press\n", "")})
    assert problems == [f"{tmp_path / 'acme.yaml'}:2:5: missing required key 'name'"]


def test_marker_needs_one_pattern(tmp_path: Path) -> None:
    text = AGENCY.replace("regex: '\\(ACME\\)'", "text: x, regex: y")
    problems = problems_for(tmp_path, {"acme.yaml": text})
    assert len(problems) == 1 and "exactly one of 'regex' or 'text'" in problems[0]


def test_shipped_rulebook_is_valid_and_complete() -> None:
    rulebook = load_rulebook(RULES)
    required = {
        "afp",
        "reuters",
        "ap",
        "dpa",
        "dpa-afx",
        "efe",
        "ansa",
        "belga",
        "apa",
        "keystone-sda",
        "anp",
        "europa-press",
        "lusa",
        "pa-media",
        "kyodo",
        "jiji",
        "xinhua",
        "bloomberg",
        "upi",
        "tass",
        "anadolu",
        "pti",
        "aap",
        "kna",
        "epd",
        "sid",
        "dts",
        "unspecified",
    }
    assert required <= set(rulebook.agencies)
    for agency in rulebook.agencies.values():
        assert agency.clauses, f"{agency.id} has no clauses"
        assert agency.credits or agency.markers, f"{agency.id} has no way to be recognised"
    example = rulebook.licensees["ipm"]
    assert example.example is True


def test_json_schema_describes_rule_files() -> None:
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["properties"]) == {"agencies", "licensees", "policy", "suppressions"}
    assert schema["additionalProperties"] is False
    marker = schema["$defs"]["Marker"]
    assert set(marker["properties"]["kind"]["enum"]) == {
        "dateline",
        "credit",
        "byline",
        "source",
        "notice",
        "metadata",
    }


def test_cli_validate_reports_and_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "acme.yaml", AGENCY.replace("    credits:", "    credit:"))
    result = CliRunner().invoke(cli, ["rules", "validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown key 'credit'" in result.output
    ok = CliRunner().invoke(cli, ["rules", "validate", str(RULES)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok: ")


def test_cli_schema_and_list() -> None:
    schema = CliRunner().invoke(cli, ["rules", "schema"])
    assert schema.exit_code == 0
    assert json.loads(schema.output)["title"] == "compliance rulebook file"
    listing = CliRunner().invoke(cli, ["rules", "list", "--rules", str(RULES)])
    assert listing.exit_code == 0
    assert any(line.startswith("afp ") for line in listing.output.splitlines())
    licensees = CliRunner().invoke(
        cli, ["rules", "list", "--rules", str(RULES), "--what", "licensees"]
    )
    assert "(example)" in licensees.output


def test_broken_rulebook_stops_audit_before_work(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules" / "bad.yaml", "agencies:\n  - id: [\n")
    page = write(tmp_path / "page.html", "<html><body><p>x</p></body></html>")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["audit", str(page), "--rules", str(rules.parent), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "bad.yaml:" in result.output
    assert not out.exists()


def test_catastrophic_regex_is_refused_at_validation(tmp_path: Path) -> None:
    text = AGENCY.replace("'\\(ACME\\)'", "'(a|aa)+$'")
    problems = problems_for(tmp_path, {"acme.yaml": text})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'acme.yaml'}:6:")
    assert "backtracks catastrophically" in problems[0]
