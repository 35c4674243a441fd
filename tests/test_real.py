"""End to end on the seed page, the bundled examples and real pages from ../shared/data."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

from compliance.audit import audit_pages
from compliance.cli import cli
from compliance.ingest.pages import iter_pages
from compliance.model import PageError
from compliance.rulebook import Rulebook

from .conftest import AUDIT_TIME, EXAMPLES, RULES, SHARED_DATA, needs_shared


@needs_shared
def test_seed_page_is_an_afp_translation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            str(SHARED_DATA / "seed-page.txt"),
            "--url",
            "https://zoekmenu.example/nieuws/1",
            "--rules",
            str(RULES),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]
    afp = {f["clause"]["id"]: f for f in findings if f["clause"]["agency"] == "afp"}
    assert {"afp-no-redistribution", "afp-no-translation"} <= set(afp)
    translation = afp["afp-no-translation"]
    assert {"reproduce", "translate"} <= set(translation["actions"])
    assert translation["page"]["lang"] == "de" and translation["level"] == "violation"
    texts = [e["text"] for e in translation["evidence"]]
    assert any("Alle Rechte der Vervielfältigung und Darstellung vorbehalten" in t for t in texts)
    assert any(t.startswith("© 2021 AFP") for t in texts)
    assert any("Quelle: www.dhnet.be" in t for t in texts)  # the source line, a French licensee
    assert any("dépèches AFP" in t for t in texts)  # the French feed-section residue


def test_bundled_examples_behave_as_documented(tmp_path: Path) -> None:
    expected = json.loads((EXAMPLES / "expected.json").read_text())
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "--manifest",
            str(EXAMPLES / "manifest.jsonl"),
            "--rules",
            str(RULES),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output
    assert (out / "errors.jsonl").read_text() == ""
    findings = [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]
    matches = CliRunner().invoke(
        cli, ["match", "--manifest", str(EXAMPLES / "manifest.jsonl"), "--rules", str(RULES)]
    )
    attributed = {
        Path(r["page"]["path"]).name: [a["agency"] for a in r["attributions"]]
        for r in map(json.loads, matches.output.splitlines())
    }
    for name, want in expected.items():
        got = [
            f
            for f in findings
            if Path(f["page"]["source"]).name == name and f["level"] == "violation"
        ]
        assert attributed[name] == want["agencies"], name
        assert bool(got) == want["findings"], (name, [f["clause"]["id"] for f in got])
        actions = {a for f in got for a in f["actions"]}
        assert actions == set(want["actions"]), (name, actions)


@needs_shared
def test_real_pages_never_crash(rulebook: Rulebook) -> None:
    """A sample of real pages from every source folder: each is audited or is an error entry."""
    root = SHARED_DATA / "html-pages"
    files = sorted(p for p in root.rglob("*") if p.name.endswith((".html", ".html.gz")))
    sample = random.Random(7).sample(files, 120)
    results = list(audit_pages(iter_pages(sample), rulebook, AUDIT_TIME))
    assert len(results) == len(sample)
    errors = [r for r in results if isinstance(r, PageError)]
    assert len(errors) <= 2, errors
