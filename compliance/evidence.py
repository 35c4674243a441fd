"""Evidence that holds up later: the exact bytes of a page, as WARC, addressed by hash.

Every page with a finding is kept as a small WARC file (a `warcinfo` record
naming the tool, then the page as a `response` record with its HTTP status
and headers, or a `resource` record when it came from a file) under
`evidence/ab/<sha256 of the file>.warc.gz`. Record ids and dates are derived
from the capture, so the same capture always gives the same file and name:
keeping it twice changes nothing. File names are built only from hashes we
compute, never from a URL, so no URL can lead a path out of the folder.

`export_bundle` writes a self-contained folder for one finding; `verify_bundle`
and `verify_store` re-hash everything and name what no longer matches.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from . import __version__
from .model import Page

HEX64 = re.compile(r"^[0-9a-f]{64}$")
DROPPED_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
REASONS = {200: "OK", 203: "Non-Authoritative Information", 206: "Partial Content"}


class EvidenceError(Exception):
    """Evidence cannot be written or read (a fatal condition for the command asking)."""


@dataclass(frozen=True)
class Capture:
    """How a page was captured: what a court needs besides the bytes."""

    url: str | None
    captured_at: str  # ISO 8601, UTC
    sha256: str
    raw: bytes
    content_type: str
    http_status: int | None = None
    http_headers: tuple[tuple[str, str], ...] = ()
    source: str = ""
    capture_time_known: bool = True


def capture_of(page: Page, audit_time: dt.datetime) -> Capture:
    """The capture facts of a page; a file without a capture time gets the audit's."""
    when = _utc(page.fetched_at) or audit_time.astimezone(dt.UTC)
    return Capture(
        url=page.url,
        captured_at=when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        sha256=page.sha256 or hashlib.sha256(page.raw).hexdigest(),
        raw=page.raw,
        content_type=page.content_type or "text/html",
        http_status=getattr(page, "http_status", None),
        http_headers=tuple(getattr(page, "http_headers", ()) or ()),
        source=page.source,
        capture_time_known=bool(page.fetched_at),
    )


def _utc(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def warc_bytes(capture: Capture) -> bytes:
    """The capture as a gzipped WARC file; the same capture always gives the same bytes."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    date = capture.captured_at.replace("+00:00", "Z")
    seed = f"{capture.url}|{date}|{capture.sha256}"
    info = {
        "software": f"compliance {__version__}",
        "format": "WARC File Format 1.1",
        "description": "evidence of a finding: the page exactly as captured",
        "page-sha256": capture.sha256,
        "source": capture.source,
        "capture-time": "as captured" if capture.capture_time_known else "unknown; audit time",
    }
    fields = "".join(f"{k}: {v}\r\n" for k, v in info.items()).encode()
    writer.write_record(
        writer.create_warc_record(
            "",
            "warcinfo",
            payload=io.BytesIO(fields),
            length=len(fields),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": _record_id(seed, "warcinfo"),
                "WARC-Date": date,
                "WARC-Filename": "evidence.warc.gz",
            },
        )
    )
    headers = {
        "WARC-Record-ID": _record_id(seed, "page"),
        "WARC-Date": date,
        "WARC-Warcinfo-ID": _record_id(seed, "warcinfo"),
    }
    payload = io.BytesIO(capture.raw)
    if capture.http_status is not None:
        kept = [(k, v) for k, v in capture.http_headers if k.lower() not in DROPPED_HEADERS]
        kept += [
            (f"X-Archive-Orig-{k}", v)
            for k, v in capture.http_headers
            if k.lower() in DROPPED_HEADERS
        ]
        kept.append(("Content-Length", str(len(capture.raw))))
        status = f"{capture.http_status} {REASONS.get(capture.http_status, 'OK')}"
        record = writer.create_warc_record(
            capture.url or "",
            "response",
            payload=payload,
            length=len(capture.raw),
            http_headers=StatusAndHeaders(status, kept, protocol="HTTP/1.1"),
            warc_headers_dict=headers,
        )
    else:
        record = writer.create_warc_record(
            capture.url or "",
            "resource",
            payload=payload,
            length=len(capture.raw),
            warc_content_type=capture.content_type,
            warc_headers_dict=headers,
        )
    writer.write_record(record)
    return out.getvalue()


def _record_id(seed: str, kind: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed + '|' + kind)}>"


class EvidenceFolder:
    """Content-addressed WARC files under one root folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._swept = False

    def path_for(self, warc_sha256: str) -> Path:
        """The file of a capture; anything but a sha256 hex digest is refused."""
        if not HEX64.match(warc_sha256 or ""):
            raise EvidenceError(f"not an evidence hash: {warc_sha256!r}")
        path = self.root / warc_sha256[:2] / f"{warc_sha256}.warc.gz"
        root = self.root.resolve()
        if root not in path.resolve().parents:
            raise EvidenceError(f"evidence path escapes {self.root}")
        return path

    def keep(self, capture: Capture) -> str:
        """Write the capture (once) and return its hash."""
        data = warc_bytes(capture)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists() and _sha256_file(target) == digest:
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        if not self._swept:  # once per audit: what a run killed while writing here left
            from .report.writers import sweep_stale

            sweep_stale(self.root, "*/.tmp-*")
            self._swept = True
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # "being written", until closed or the writer dies
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest


def read_capture(path: Path) -> tuple[dict[str, str], bytes, dict[str, str]]:
    """The page record of an evidence WARC: its WARC headers, payload and HTTP headers."""
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type in ("response", "resource"):
                warc = dict(record.rec_headers.headers)
                http = dict(record.http_headers.headers) if record.http_headers else {}
                return warc, record.content_stream().read(), http
    raise EvidenceError(f"{path}: no response or resource record")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- export and verification --------------------------------------------------------------


def export_bundle(store: Any, folder: EvidenceFolder, finding_id: str, dest: Path) -> Path:
    """Write `dest/<finding id>/`: WARC captures, extracted text, finding JSON, hashes."""
    from .extract.html import extract

    if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", finding_id):
        raise EvidenceError(f"not a finding id: {finding_id!r}")
    row = store.finding(finding_id)
    if row is None:
        raise EvidenceError(f"no finding {finding_id} in the store {store.label}")
    refs = store.evidence_of(finding_id)
    if not refs:
        raise EvidenceError(f"finding {finding_id} has no stored capture")
    bundle = dest / finding_id
    work = Path(tempfile.mkdtemp(prefix=f".{finding_id}.", dir=dest if dest.exists() else None))
    try:
        captures = []
        for n, ref in enumerate(refs, 1):
            source = folder.path_for(ref.warc_sha256)
            if not source.exists():
                raise EvidenceError(f"capture {ref.warc_sha256} is missing from {folder.root}")
            name = f"capture-{n}.warc.gz"
            shutil.copyfile(source, work / name)
            audit = store.audit(ref.audit_id) or {}
            captures.append(
                {
                    "file": name,
                    "warc_sha256": ref.warc_sha256,
                    "page_sha256": ref.page_sha256,
                    "url": ref.url,
                    "captured_at": ref.captured_at,
                    "audit_id": ref.audit_id,
                    "rulebook_digest": audit.get("rulebook_digest"),
                    "index_digest": audit.get("index_digest") or None,
                    "tool_version": audit.get("tool_version"),
                }
            )
        warc, payload, http = read_capture(work / captures[-1]["file"])
        content_type = http.get("Content-Type") or warc.get("Content-Type") or "text/html"
        page = Page(
            source=captures[-1]["file"], raw=payload, url=captures[-1]["url"],
            content_type=content_type.split(";")[0].strip(),
            sha256=hashlib.sha256(payload).hexdigest(),
        )
        try:
            text = extract(page).text
        except Exception as exc:  # the bundle is still whole without the text
            text = f"(text could not be extracted: {exc})"
        (work / "text.txt").write_text(text + "\n", encoding="utf-8")
        finding = {
            "finding": row.record,
            "status": row.status,
            "first_seen": row.first_seen,
            "last_seen": row.last_seen,
            "history": store.history(finding_id),
        }
        _write_json(work / "finding.json", finding)
        manifest = {
            "finding_id": finding_id,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tool": {"name": "compliance", "version": __version__},
            "store": store.label,
            "captures": captures,
            "files": {
                name: _sha256_file(work / name)
                for name in sorted(p.name for p in work.iterdir())
            },
        }
        _write_json(work / "manifest.json", manifest)
        sums = "".join(
            f"{_sha256_file(p)}  {p.name}\n" for p in sorted(work.iterdir(), key=lambda p: p.name)
        )
        (work / "SHA256SUMS").write_text(sums, encoding="utf-8")
        if bundle.exists():
            shutil.rmtree(bundle)
        os.replace(work, bundle)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return bundle


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")


def verify_bundle(bundle: Path) -> list[str]:
    """Every mismatch in an exported bundle; an empty list means it is intact."""
    problems: list[str] = []
    sums = bundle / "SHA256SUMS"
    if not sums.exists():
        return [f"{bundle}: no SHA256SUMS file"]
    listed: dict[str, str] = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for name, digest in listed.items():
        path = bundle / name
        if "/" in name or name.startswith(".") or not path.is_file():
            problems.append(f"{name}: listed in SHA256SUMS but missing")
        elif _sha256_file(path) != digest:
            problems.append(f"{name}: sha256 differs from SHA256SUMS (changed after export)")
    for path in bundle.iterdir():
        if path.name not in listed and path.name != "SHA256SUMS":
            problems.append(f"{path.name}: not listed in SHA256SUMS (added after export)")
    try:
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
        finding = json.loads((bundle / "finding.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [*problems, f"manifest.json or finding.json unreadable: {exc}"]
    for name, digest in manifest.get("files", {}).items():
        if listed.get(name) != digest:
            problems.append(f"{name}: sha256 differs between manifest.json and SHA256SUMS")
    for capture in manifest.get("captures", []):
        problems.extend(_check_capture(bundle / capture["file"], capture["warc_sha256"],
                                       capture["page_sha256"], capture["file"]))
    page_sha = ((finding.get("finding") or {}).get("page") or {}).get("sha256")
    if page_sha and page_sha not in {c["page_sha256"] for c in manifest.get("captures", [])}:
        problems.append("finding.json: its page sha256 matches none of the captures")
    return problems


def verify_store(store: Any, folder: EvidenceFolder) -> tuple[int, list[str]]:
    """Re-hash every capture the store refers to: (files checked, problems)."""
    problems: list[str] = []
    seen: set[str] = set()
    for ref in store.all_evidence():
        if ref.warc_sha256 in seen:
            continue
        seen.add(ref.warc_sha256)
        try:
            path = folder.path_for(ref.warc_sha256)
        except EvidenceError as exc:
            problems.append(str(exc))
            continue
        problems.extend(_check_capture(path, ref.warc_sha256, ref.page_sha256, str(path)))
    return len(seen), problems


def _check_capture(path: Path, warc_sha256: str, page_sha256: str, label: str) -> list[str]:
    if not path.is_file():
        return [f"{label}: missing"]
    problems = []
    if _sha256_file(path) != warc_sha256:
        problems.append(f"{label}: WARC file sha256 is not {warc_sha256} (tampered or damaged)")
    try:
        _, payload, _ = read_capture(path)
    except Exception as exc:
        return [*problems, f"{label}: unreadable WARC ({type(exc).__name__}: {exc})"]
    if hashlib.sha256(payload).hexdigest() != page_sha256:
        problems.append(f"{label}: page bytes do not hash to {page_sha256} (tampered)")
    return problems
