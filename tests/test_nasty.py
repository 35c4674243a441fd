"""A corpus of hostile and broken inputs, each with its expected outcome.

Large or explosive inputs are generated here rather than committed. The rule
everywhere: one bad page is an error entry or an audited page, never a crash,
a hang or an aborted audit.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.audit import audit_pages
from compliance.engines.local import run_local
from compliance.ingest.pages import iter_pages
from compliance.model import PageError, PageResult
from compliance.rulebook import Rulebook, RulebookError, load_rulebook

from .conftest import AUDIT_TIME

PROSE = "<p>" + "The council met on Tuesday to discuss the harbour budget. " * 6 + "</p>"


def nested(depth: int) -> bytes:
    return ("<html><body>" + "<div>" * depth + PROSE + "</div>" * depth + "</body></html>").encode()


CASES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    # name: (file name, content, expected outcome: "audited" | "error")
    "empty file": ("empty.html", lambda: b"", "error"),
    "binary noise": ("noise.html", lambda: bytes(range(256)) * 64, "error"),
    "invalid utf-8": ("bad-utf8.html", lambda: b"<html><body>" + b"\xff\xfe\xfa" * 50 + PROSE.encode() + b"</body></html>", "audited"),
    "wrong charset declared": ("wrong-charset.html", lambda: ('<meta charset="iso-8859-1">' + PROSE.replace("harbour", "Hafenbecken für Ölschiffe")).encode("utf-8"), "audited"),
    "utf-16 without bom": ("utf16.html", lambda: ("<html><body>" + PROSE + "</body></html>").encode("utf-16-le"), "audited"),
    # libxml2 stops following nesting at a fixed depth: the text is lost, reported as such
    "10,000-deep nesting": ("deep.html", lambda: nested(10_000), "error"),
    "200-deep nesting": ("deep200.html", lambda: nested(200), "audited"),
    "all script": ("script.html", lambda: b"<html><head><script>" + b"var x = '(AFP)';" * 20_000 + b"</script></head><body></body></html>", "error"),
    "gzip bomb": ("bomb.html.gz", lambda: gzip.compress(b"\0" * (80 * 1024 * 1024)), "error"),
    "truncated gzip": ("cut.html.gz", lambda: gzip.compress(PROSE.encode() * 50)[:60], "error"),
    "nul bytes in markup": ("nul.html", lambda: b"<html>\0<body>\0" + PROSE.encode() + b"\0</body></html>", "audited"),
    "unclosed everything": ("unclosed.html", lambda: b"<html><body><div><p><b><i>" + PROSE.encode() * 3, "audited"),
    "xml declaration with encoding": ("xmldecl.html", lambda: b'<?xml version="1.0" encoding="utf-8"?><html><body>' + PROSE.encode() + b"</body></html>", "audited"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_nasty_page(case: str, tmp_path: Path, rulebook: Rulebook) -> None:
    name, make, expected = CASES[case]
    path = tmp_path / name
    path.write_bytes(make())
    results = list(audit_pages(iter_pages([path]), rulebook, AUDIT_TIME))
    assert len(results) == 1
    outcome = "error" if isinstance(results[0], PageError) else "audited"
    assert outcome == expected, results[0]
    if isinstance(results[0], PageError):
        assert results[0].message  # says what went wrong
    else:
        assert isinstance(results[0], PageResult)


def test_fifty_megabyte_page_is_refused_or_bounded_in_time(tmp_path: Path, rulebook: Rulebook) -> None:
    path = tmp_path / "huge.html"
    body = (PROSE * (50 * 1024 * 1024 // len(PROSE))).encode()
    path.write_bytes(b"<html><body>" + body + b"</body></html>")
    [refused] = list(iter_pages([path]))  # over the default size cap
    assert isinstance(refused, PageError) and "larger than" in refused.message
    pages = iter_pages([path], limit=64 * 1024 * 1024)
    [bounded] = list(run_local(pages, rulebook, AUDIT_TIME, workers=1, page_time_limit=3))
    # Either it is read within the limit or the limit stops it: never an unbounded wait.
    # (The limit itself is tested deterministically in test_engines.)
    if isinstance(bounded, PageError):
        assert "took longer than 3 s" in bounded.message
    else:
        assert isinstance(bounded, PageResult) and bounded.document.text.startswith("The council met")


def test_a_bad_page_never_stops_the_others(tmp_path: Path, rulebook: Rulebook) -> None:
    for name, make, _ in CASES.values():
        (tmp_path / name).write_bytes(make())
    (tmp_path / "zz-good.html").write_bytes(b"<html><body>" + PROSE.encode() + b"</body></html>")
    results = list(audit_pages(iter_pages([tmp_path]), rulebook, AUDIT_TIME))
    assert len(results) == len(CASES) + 1
    assert isinstance(results[-1], PageResult)


YAML_CASES = {
    "billion laughs": "\n".join(
        ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]),
    "python object tag": "agencies: !!python/object/apply:os.system ['true']\n",
    "python name tag": "policy: !!python/name:os.system\n",
    "duplicate keys": "policy:\n  report_threshold: 0.5\n  report_threshold: 0.9\n",
    "merge key": "base: &b {quotation_max_words: 10}\npolicy:\n  <<: *b\n",
    "not a mapping": "- just\n- a list\n",
    "binary junk": "\x00\x01\x02agencies: [",
    "catastrophic regex": "agencies:\n  - id: x\n    name: X\n    markers: [{id: x-m, kind: notice, regex: '(a|aa)+$'}]\n    clauses: [{id: x-c, prohibits: [reproduce]}]\n",
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_nasty_rulebook_is_refused_with_a_position(case: str, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(YAML_CASES[case], encoding="utf-8")
    with pytest.raises(RulebookError) as caught:
        load_rulebook(tmp_path)
    for problem in caught.value.problems:
        assert problem.file.endswith("rules.yaml") and problem.line >= 1 and problem.col >= 1
