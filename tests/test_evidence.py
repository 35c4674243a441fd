"""Evidence: WARC captures addressed by hash, export bundles, and verification that catches
a single changed byte."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance import __version__
from compliance.cli import cli
from compliance.evidence import (
    Capture,
    EvidenceError,
    EvidenceFolder,
    read_capture,
    verify_bundle,
    warc_bytes,
)
from compliance.ingest.pages import iter_pages
from compliance.rulebook import Rulebook
from compliance.runner import run_audit
from compliance.store import Store

from .test_store import DAY1, article, site


@pytest.fixture()
def audited(tmp_path: Path, rulebook: Rulebook) -> tuple[Path, str]:
    """A store holding one finding with its capture; returns (store path, finding id)."""
    manifest = site(tmp_path / "crawl", {"story": article(1), "hostile": article(2)})
    text = manifest.read_text().replace("copycat.example/hostile",
                                        "copycat.example/../../../escape/%2e%2e/x")
    manifest.write_text(text)
    db = tmp_path / "store" / "audits.sqlite"
    store = Store.open(db)
    try:
        run_audit(iter_pages(manifest=manifest), rulebook, tmp_path / "out", store=store,
                  evidence_dir=db.parent / "evidence", now=DAY1)
        finding = next(f for f in store.findings() if f.url and f.url.endswith("/story"))
    finally:
        store.close()
    return db, finding.id


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_export_then_verify_then_tamper(audited: tuple[Path, str], tmp_path: Path) -> None:
    db, finding_id = audited
    runner = CliRunner()
    done = runner.invoke(cli, ["evidence", "export", finding_id, "--db", str(db),
                               "--out", str(tmp_path / "bundles")])
    assert done.exit_code == 0, done.output
    bundle = Path(done.output.strip())
    assert bundle == tmp_path / "bundles" / finding_id
    assert sorted(p.name for p in bundle.iterdir()) == [
        "SHA256SUMS", "capture-1.warc.gz", "finding.json", "manifest.json", "text.txt"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["tool"] == {"name": "compliance", "version": __version__}
    (capture,) = manifest["captures"]
    assert len(capture["rulebook_digest"]) == 64 and capture["url"].endswith("/story")
    finding = json.loads((bundle / "finding.json").read_text())
    assert finding["finding"]["id"] == finding_id and finding["status"] == "new"
    assert [e["status"] for e in finding["history"]] == ["new"]
    assert "Workers at plant number 1 voted" in (bundle / "text.txt").read_text()
    warc, payload, _ = read_capture(bundle / "capture-1.warc.gz")
    assert payload == article(1).encode() and warc["WARC-Target-URI"].endswith("/story")

    ok = runner.invoke(cli, ["evidence", "verify", str(bundle)])
    assert ok.exit_code == 0 and "intact" in ok.output

    flip_byte(bundle / "capture-1.warc.gz", 200)
    bad = runner.invoke(cli, ["evidence", "verify", str(bundle)])
    assert bad.exit_code == 1
    assert "TAMPERED: capture-1.warc.gz" in bad.output


def test_a_changed_page_byte_is_caught_even_with_rehashed_sums(audited: tuple[Path, str],
                                                               tmp_path: Path) -> None:
    """Someone edits the page inside the WARC and rewrites SHA256SUMS to match: the
    capture no longer hashes to the page sha256 the finding records."""
    db, finding_id = audited
    store = Store.open(db)
    from compliance.evidence import export_bundle

    bundle = export_bundle(store, EvidenceFolder(db.parent / "evidence"), finding_id, tmp_path)
    store.close()
    warc = bundle / "capture-1.warc.gz"
    forged = warc_bytes(Capture("https://copycat.example/story", "2026-11-20T03:00:00Z",
                                "0" * 64, article(1).replace("AFP", "XYZ").encode(), "text/html"))
    warc.write_bytes(forged)
    import hashlib

    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
                   for p in sorted(bundle.iterdir()) if p.name != "SHA256SUMS")
    (bundle / "SHA256SUMS").write_text(sums)
    problems = verify_bundle(bundle)
    assert any("page bytes do not hash" in p for p in problems)
    assert any("differs between manifest.json and SHA256SUMS" in p for p in problems)


def test_store_evidence_verification(audited: tuple[Path, str]) -> None:
    db, _ = audited
    runner = CliRunner()
    ok = runner.invoke(cli, ["evidence", "verify", "--db", str(db)])
    assert ok.exit_code == 0 and "2 captures" in ok.output
    victim = sorted((db.parent / "evidence").rglob("*.warc.gz"))[0]
    flip_byte(victim, victim.stat().st_size - 5)
    bad = runner.invoke(cli, ["evidence", "verify", "--db", str(db)])
    assert bad.exit_code == 1 and victim.name.removesuffix(".warc.gz") in bad.output
    victim.unlink()
    gone = runner.invoke(cli, ["evidence", "verify", "--db", str(db)])
    assert gone.exit_code == 1 and "missing" in gone.output


def test_evidence_paths_never_leave_the_folder(audited: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = audited
    folder = EvidenceFolder(db.parent / "evidence")
    for name in ("../../etc/passwd", "/etc/passwd", "a" * 63, "A" * 64, "0" * 64 + "/.."):
        with pytest.raises(EvidenceError):
            folder.path_for(name)
    root = (db.parent / "evidence").resolve()
    for path in (db.parent / "evidence").rglob("*"):
        assert root in path.resolve().parents
    assert not any(p.name == "escape" for p in tmp_path.rglob("*"))  # a URL names no file
    runner = CliRunner()
    refused = runner.invoke(cli, ["evidence", "export", "../../x", "--db", str(db),
                                  "--out", str(tmp_path / "b")])
    assert refused.exit_code == 2 and "not a finding id" in refused.output


def test_same_capture_same_file() -> None:
    capture = Capture("https://x.example/a", "2026-11-20T03:00:00Z", "ab" * 32, b"<p>x</p>",
                      "text/html", 200, (("Content-Encoding", "gzip"), ("Server", "s")))
    assert warc_bytes(capture) == warc_bytes(capture)
    later = Capture(*[*capture.__dict__.values()][:1], "2026-11-21T03:00:00Z",
                    *[*capture.__dict__.values()][2:])
    assert warc_bytes(later) != warc_bytes(capture)


def test_history_command_formats(audited: tuple[Path, str]) -> None:
    db, finding_id = audited
    runner = CliRunner()
    table = runner.invoke(cli, ["history", "--db", str(db)])
    assert table.exit_code == 0 and finding_id in table.output
    lines = runner.invoke(cli, ["history", "--db", str(db), "--format", "jsonl",
                                "--status", "new"]).output.splitlines()
    assert {json.loads(x)["status"] for x in lines} == {"new"} and len(lines) == 2
    csv_out = runner.invoke(cli, ["history", "--db", str(db), "--format", "csv"]).output
    assert csv_out.splitlines()[0].startswith("id,status,severity")
    one = runner.invoke(cli, ["history", finding_id, "--db", str(db)])
    assert "first seen" in one.output and "new: first seen" in one.output
    assert runner.invoke(cli, ["history", "--status", "resolved", "--db", str(db)]).output \
        .strip() == "no findings"
    missing = runner.invoke(cli, ["history", "--db", str(db.parent / "none.sqlite")])
    assert missing.exit_code == 2 and "no audit store" in missing.output


def test_capture_time_of_a_file_without_one_is_the_audit_time() -> None:
    from compliance.evidence import capture_of
    from compliance.model import Page

    page = Page(source="a.html", raw=b"<p>x</p>", url=None, sha256="")
    capture = capture_of(page, dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC))
    assert capture.captured_at == "2026-11-20T03:00:00Z" and not capture.capture_time_known


def test_an_unwritable_evidence_folder_stops_the_audit_cleanly(tmp_path: Path) -> None:
    manifest = site(tmp_path / "crawl", {"story": article(1)})
    blocker = tmp_path / "evidence"
    blocker.write_text("a file where the evidence folder should be")
    runner = CliRunner()
    done = runner.invoke(cli, ["audit", "--manifest", str(manifest), "--db",
                               str(tmp_path / "audits.sqlite"), "--out", str(tmp_path / "out"),
                               "--workers", "1"])
    assert done.exit_code == 2
    assert "cannot write evidence" in done.output
    assert not (tmp_path / "out" / "findings.jsonl").exists()
