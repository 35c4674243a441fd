"""Fixed-seed coverage-guided fuzzing (atheris) of every parser of outside input, for CI,
and the inputs earlier fuzzing found, replayed as regression tests.

Each target runs in its own process (libFuzzer owns it) with a fixed seed and a fixed
number of executions, from the committed seed corpus; the test fails on a crash, a
per-input timeout or the memory limit, and shows the reproducer. Longer runs:
`fuzz/run.py` (see README, "Fuzzing").
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz import harness
from fuzz.run import TARGETS, run_target

try:
    import atheris  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_ATHERIS = False
else:
    HAVE_ATHERIS = True

needs_atheris = pytest.mark.skipif(not HAVE_ATHERIS, reason="atheris is not installed")

SEED = 20261120
# executions per target: 5-30 s each on an idle 2-core machine, startup included
CI_RUNS = {"pages": 15000, "extract": 1500, "warc": 10000, "lists": 12000, "archives": 10000,
           "rulebook": 2000, "audit": 400}
PER_INPUT_TIMEOUT = 20  # seconds; generous, since a loaded CI machine is slow
RSS_LIMIT_MB = 2048


def test_every_target_has_a_ci_budget() -> None:
    assert set(CI_RUNS) == set(TARGETS)
    for target in TARGETS:
        assert (Path(harness.__file__).parent / f"{target}.py").is_file()


@needs_atheris
@pytest.mark.parametrize("target", sorted(CI_RUNS))
def test_fixed_seed_fuzzing_finds_nothing(target: str, tmp_path: Path) -> None:
    result = run_target(target, seed=SEED, runs=CI_RUNS[target], timeout=PER_INPUT_TIMEOUT,
                        rss_limit_mb=RSS_LIMIT_MB, artifacts=tmp_path)
    assert result.outcome == "ok", (
        f"{target}: {result.outcome} after {result.executions} executions\n"
        f"reproducer ({result.reproducer}), base64: {result.reproducer_base64}\n{result.detail}")
    assert result.executions == CI_RUNS[target]  # the whole budget ran
    assert result.cov > 0 and result.distinct > CI_RUNS[target] // 2  # coverage guided it


@needs_atheris
@pytest.mark.parametrize("how", ["crash", "timeout", "oom"])
def test_the_runner_reports_a_failing_target_with_its_reproducer(how: str, tmp_path: Path) -> None:
    result = run_target("canary", seed=SEED, runs=5000, timeout=2, rss_limit_mb=512,
                        artifacts=tmp_path, env={"FUZZ_CANARY": how})
    assert result.outcome == how, result.detail
    assert result.reproducer and Path(result.reproducer).parent == tmp_path
    assert base64.b64decode(result.reproducer_base64 or "").startswith(b"!")


# A parent that touched 1 GB and freed it: its child inherits the 1 GB peak (ru_maxrss)
# across exec, which libFuzzer's -rss_limit_mb used to read as the child's own memory.
_FROM_A_BIG_PARENT = """
import json, resource, sys
from dataclasses import asdict
from pathlib import Path
from fuzz.run import run_target

hoard = bytearray(1 << 30)
for at in range(0, len(hoard), 4096):
    hoard[at] = 1
del hoard
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
result = run_target("canary", seed=int(sys.argv[1]), runs=5000, timeout=2, rss_limit_mb=512,
                    artifacts=Path(sys.argv[2]), env={"FUZZ_CANARY": sys.argv[3]})
print(json.dumps({"peak_mb": peak_mb, **asdict(result)}))
"""


@needs_atheris
@pytest.mark.parametrize("how", ["timeout", "oom"])
def test_the_parent_s_peak_memory_is_not_the_child_s(how: str, tmp_path: Path) -> None:
    """A big pytest process made the timeout canary report `oom` (a flaky test)."""
    done = subprocess.run([sys.executable, "-c", _FROM_A_BIG_PARENT, str(SEED), str(tmp_path),
                           how], cwd=Path(harness.__file__).parent.parent, capture_output=True,
                          text=True, timeout=300, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["peak_mb"] > 1000  # the parent really was over the limit
    assert result["outcome"] == how, result["detail"]
    assert base64.b64decode(result["reproducer_base64"] or "").startswith(b"!")


# Inputs the fuzzer found, each replayed through its target's `one_input` (no atheris
# needed): (target, input, what went wrong before the fix).
REGRESSIONS: list[tuple[str, bytes, str]] = [
    ("warc", b"\x00WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 4\r\n\r\nabcd\r\n\r\n",
     "a response record without WARC-Target-URI: AttributeError inside warcio escaped"),
    ("archives", b"\x04<p>Storm hits the coast.</p></`x><p>Ferries stop.</p>",
     "a dispatch .html with a bogus comment: lxml's QName of a comment, ValueError escaped"),
    ("archives", b"\x02<nitf><head><docdata><doc-id id-string='x1'/></docdata></head><body>"
                 b"<body.content><!-- note --><p>Storm hits.</p></body.content></body></nitf>",
     "an NITF body holding a comment: the same ValueError, for every XML archive"),
    ("rulebook", b"agencies:\n  - id: x\n    name: X\n    markers: [{id: x-m, kind: notice, "
                 b"regex: '(?i)all rights reserved'}]\n    clauses: [{id: x-c, prohibits: [reproduce]}]\n",
     "a marker with a global flag (?i) validated, then re.error joining the markers: every "
     "page of the audit failed (found writing this target's invariant, not by random search)"),
    ("archives", b'"embargo<pubStat"stat:canceled"/>_until": ',
     "a dispatch .html whose broken markup gives a tag name QName refuses: ValueError escaped"),
    ("lists", b'\x00{"path": "p\\u0000ages/01.html", "url": "https://example.test/a"}',
     "a manifest path holding NUL: ValueError from Path.resolve escaped iter_pages"),
    ("lists", b'\x00{"path": 1}',
     "a manifest path that is a number: TypeError joining it to the folder"),
    ("lists", b'\x00{"path": "a.html", "url": ["https://example.test/a"]}',
     "a manifest URL that is a list reached the page as its URL"),
]


@pytest.fixture
def scratch_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Targets write their input files under the test's own temporary folder."""
    monkeypatch.setattr(harness, "_SCRATCH", [tmp_path])
    return tmp_path


@pytest.mark.parametrize(("target", "data", "why"), REGRESSIONS,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(REGRESSIONS)])
def test_fuzzer_finding_stays_fixed(target: str, data: bytes, why: str, scratch_in: Path) -> None:
    module = importlib.import_module(f"fuzz.{target}")
    module.one_input(data)  # raises (the test fails) if the invariant is broken again


def test_a_warc_record_warcio_cannot_parse_is_an_error_entry(tmp_path: Path) -> None:
    from compliance.ingest.warc import iter_warc
    from compliance.model import PageError

    path = tmp_path / "no-uri.warc"
    path.write_bytes(REGRESSIONS[0][1][1:])
    [item] = list(iter_warc(path, 1024))
    assert isinstance(item, PageError) and item.message.startswith("damaged WARC file")


@pytest.mark.parametrize("regex", ["(?i)all rights reserved by xnews",
                                   "by (XNews), \\1",  # joined, \1 meant the other's group
                                   "(?P<who>XNews), XNews"])
def test_markers_that_cannot_be_joined_still_match(regex: str, tmp_path: Path) -> None:
    from compliance.detect.credits import build_tables, detect_credits
    from compliance.extract.html import extract
    from compliance.model import Page
    from compliance.rulebook import load_rulebook

    # a second marker before it, so a numbered group would shift if the two were joined
    (tmp_path / "rules.yaml").write_text(
        "agencies:\n  - id: xnews\n    name: XNews\n    markers:\n"
        "      - {id: xnews-a, kind: notice, regex: '(q)\\\\1zz'}\n"
        f"      - {{id: xnews-b, kind: notice, regex: '{regex}'}}\n"
        "    clauses: [{id: xnews-c, prohibits: [reproduce]}]\n", encoding="utf-8")
    rulebook = load_rulebook(tmp_path)
    page = Page(source="p", content_type="text/html", raw=(
        b"<html><body><p>The council met on Tuesday to discuss the harbour budget.</p>"
        b"<p>All rights reserved by XNews, XNews.</p></body></html>"))
    found = detect_credits(extract(page), build_tables(rulebook))
    assert [e.marker for e in found if e.agency == "xnews"] == ["xnews-b"]


@pytest.mark.parametrize("line", ['{"path": "p\\u0000.html"}', '{"path": 1}',
                                  '{"path": "a.html", "url": {"href": "x"}}'])
def test_a_manifest_line_of_the_wrong_shape_is_an_input_error(line: str, tmp_path: Path) -> None:
    from compliance.ingest.pages import InputError, read_manifest

    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"manifest\.jsonl:1: '(path|url)'"):
        read_manifest(manifest)
