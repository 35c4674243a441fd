"""Commands over the audit store (`history`, `evidence export`, `evidence verify`) and the
helpers `compliance audit` uses to open the store and gather web inputs.

Exit statuses: 0 done (for `evidence verify`: everything intact); 1 `evidence
verify` found a mismatch (tampering or damage); 2 fatal (no such store or
finding, unreadable config); 4 (`audit` only) another audit holds the store.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..config import (
    Config,
    ConfigError,
    configure_logging,
    load_config,
    log_outcome,
    progress,
    since,
)
from ..evidence import EvidenceError, EvidenceFolder, export_bundle, verify_bundle, verify_store
from ..ingest.discover import discover
from ..ingest.fetch import Fetched, Fetcher, fetch_all, read_url_list
from ..model import PageError
from .lifecycle import STATUSES
from .lock import StoreError, StoreLocked
from .store import Store, default_db_path

EXIT_OK, EXIT_PROBLEMS, EXIT_FATAL, EXIT_LOCKED = 0, 1, 2, 4
NO_STORE = ("none", "off", "")


def config_for(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)


def db_target(db: str | None, config: Config) -> str | None:
    """Where the store is: --db, the config file, $COMPLIANCE_DB, else the per-user file.
    `--db none` audits without a store."""
    chosen = db if db is not None else config.options.get("db") or os.environ.get("COMPLIANCE_DB")
    if chosen is None:
        return str(default_db_path())
    return None if str(chosen).strip().lower() in NO_STORE else str(chosen)


def evidence_root(target: str, config: Config) -> Path:
    """The evidence folder: the config's, $COMPLIANCE_EVIDENCE, else beside a SQLite store
    (or in the per-user data folder for a server store)."""
    if config.evidence_dir is not None:
        return config.evidence_dir
    env = os.environ.get("COMPLIANCE_EVIDENCE")
    if env:
        return Path(env)
    if "://" in target and not target.startswith("sqlite:"):
        return default_db_path().parent / "evidence"
    path = Path(target.removeprefix("sqlite:///")).expanduser()
    return path.parent / "evidence"


def open_store(target: str, create: bool = True) -> Store:
    try:
        store = Store.open(target, create=create)
        if not create:
            store.check_readable()
        return store
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)


def web_inputs(
    urls_file: Path | None, sitemaps: tuple[str, ...], feeds: tuple[str, ...],
    allow_private: bool, config: Config,
) -> Iterator[Fetched]:
    """Pages fetched from a URL list and from what sitemaps and feeds announce."""
    settings = config.fetch
    if allow_private and not settings.allow_private:
        from dataclasses import replace

        settings = replace(settings, allow_private=True)
    listed: list[str | PageError] = []
    if urls_file is not None:
        try:
            listed.extend(read_url_list(urls_file))
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"cannot read --urls {urls_file}: {exc}") from None
    with Fetcher(settings) as fetcher:
        window = since(config, dt.datetime.now(dt.UTC))
        found = discover(sitemaps, feeds, fetcher, window, config.discover_limit)
        yield from fetch_all(_chain(listed, found), fetcher)


def _chain(*parts: Any) -> Iterator[Any]:
    for part in parts:
        yield from part


# --- commands -----------------------------------------------------------------------------

DB_OPTION = click.option(
    "--db", default=None,
    help="Audit store: a SQLite file or postgresql://… (default: config, $COMPLIANCE_DB, "
         "~/.local/share/compliance/audits.sqlite).",
)
CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="compliance.toml to read (default: $COMPLIANCE_CONFIG, ./compliance.toml, "
         "~/.config/compliance/compliance.toml).",
)
HISTORY_COLUMNS = ["id", "status", "severity", "level", "agency", "clause", "first_seen",
                   "last_seen", "url", "reason"]


@click.command()
@click.argument("finding_id", required=False)
@DB_OPTION
@CONFIG_OPTION
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES),
              help="Only findings in this status (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]), default="table",
              show_default=True)
@click.option("--limit", type=int, default=None, help="At most this many findings.")
def history(finding_id: str | None, db: str | None, config_path: Path | None,
            statuses: tuple[str, ...], fmt: str, limit: int | None) -> None:
    """List findings with their lifecycle, or one finding's history of status changes.

    \b
    Examples:
      compliance history --status new --status open
      compliance history --format csv > findings.csv
      compliance history 3f9a0c1d2e4b5a6c7d8e
    """
    config = config_for(config_path)
    target = db_target(db, config)
    if target is None:
        raise click.UsageError("history needs a store; --db none has none")
    store = open_store(target, create=False)
    try:
        if finding_id:
            _one(store, finding_id, fmt)
            return
        # streamed: a store of a million findings is listed a page of rows at a time
        _listing((_row(f) for f in store.iter_findings(statuses, limit, with_record=False)), fmt)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    finally:
        store.close()


def _listing(rows: Iterator[dict[str, Any]], fmt: str) -> None:
    """Write rows as they come, a chunk of lines per write, never the whole list at once."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
    if fmt == "csv":
        writer.writeheader()
    count = 0
    for count, row in enumerate(rows, 1):
        if fmt == "jsonl":
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            writer.writerow({k: _cell(row.get(k)) for k in HISTORY_COLUMNS})
        else:
            if count == 1:
                buffer.write(_TABLE_HEADER + "\n")
            buffer.write(_table_line(row) + "\n")
        if count % 1000 == 0:
            click.echo(buffer.getvalue(), nl=False)
            buffer.seek(0)
            buffer.truncate()
    if fmt == "table" and count == 0:
        buffer.write("no findings\n")
    click.echo(buffer.getvalue(), nl=False)


def _row(finding: Any) -> dict[str, Any]:
    return {
        "id": finding.id, "status": finding.status, "severity": finding.severity,
        "level": finding.level, "agency": finding.agency, "clause": finding.clause_id,
        "first_seen": finding.first_seen, "last_seen": finding.last_seen,
        "first_audit": finding.first_audit, "last_audit": finding.last_audit,
        "url": finding.url, "reason": finding.reason,
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


_TABLE_HEADER = (f"{'id':<20}  {'status':<11} {'severity':<8} {'first seen':<10} "
                 f"{'last seen':<10} {'clause':<28} url")


def _table_line(r: dict[str, Any]) -> str:
    return (f"{r['id']:<20}  {r['status']:<11} {r['severity']:<8} "
            f"{r['first_seen'][:10]:<10} {r['last_seen'][:10]:<10} "
            f"{r['clause'][:28]:<28} {r['url'] or ''}")


def _one(store: Store, finding_id: str, fmt: str) -> None:
    finding = store.finding(finding_id)
    if finding is None:
        click.echo(f"error: no finding {finding_id} in {store.label}", err=True)
        sys.exit(EXIT_FATAL)
    events = store.history(finding_id)
    if fmt == "jsonl":
        for event in events:
            click.echo(json.dumps({"id": finding_id, **event}, ensure_ascii=False))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["id", "at", "audit_id", "status",
                                                    "previous", "reason"])
        writer.writeheader()
        for event in events:
            writer.writerow({"id": finding_id, **{k: _cell(v) for k, v in event.items()}})
        click.echo(buffer.getvalue(), nl=False)
        return
    click.echo(f"{finding_id}  {finding.status}  {finding.severity}  {finding.clause_id}")
    click.echo(f"  {finding.url or '(URL unknown)'}")
    click.echo(f"  first seen {finding.first_seen}, last seen {finding.last_seen}")
    for event in events:
        was = f" (was {event['previous']})" if event["previous"] else ""
        click.echo(f"  {event['at']}  {event['status']}{was}: {event['reason'] or ''}"
                   f"  [audit {event['audit_id']}]")


@click.group()
def evidence() -> None:
    """Export and verify the evidence kept for findings."""


@evidence.command("export")
@click.argument("finding_id")
@DB_OPTION
@CONFIG_OPTION
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("evidence-export"), show_default=True,
              help="Folder to write the bundle into (as OUT/FINDING_ID/).")
def evidence_export(finding_id: str, db: str | None, config_path: Path | None,
                    out_dir: Path) -> None:
    """Write a self-contained bundle for FINDING_ID: the WARC capture(s), the extracted text,
    the finding as JSON with its history, tool and rulebook versions, and SHA256SUMS."""
    config = config_for(config_path)
    target = db_target(db, config)
    if target is None:
        raise click.UsageError("evidence needs a store; --db none has none")
    store = open_store(target, create=False)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        bundle = export_bundle(store, EvidenceFolder(evidence_root(target, config)),
                               finding_id, out_dir)
    except (EvidenceError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    finally:
        store.close()
    click.echo(str(bundle))


@evidence.command("verify")
@click.argument("bundle", required=False, type=click.Path(path_type=Path, file_okay=False))
@DB_OPTION
@CONFIG_OPTION
def evidence_verify(bundle: Path | None, db: str | None, config_path: Path | None) -> None:
    """Re-hash an exported BUNDLE, or (without one) every capture the store refers to.

    Exit 0 when everything matches, 1 when anything was changed or is missing.
    """
    if bundle is not None:
        if not bundle.is_dir():
            click.echo(f"error: no bundle folder {bundle}", err=True)
            sys.exit(EXIT_FATAL)
        problems = verify_bundle(bundle)
        checked = f"bundle {bundle}"
    else:
        config = config_for(config_path)
        target = db_target(db, config)
        if target is None:
            raise click.UsageError("evidence needs a store; --db none has none")
        store = open_store(target, create=False)
        try:
            count, problems = verify_store(store, EvidenceFolder(evidence_root(target, config)))
        finally:
            store.close()
        checked = f"{count} capture{'s' if count != 1 else ''} of {store.label}"
    for problem in problems:
        click.echo(f"TAMPERED: {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {checked}", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"ok: {checked} intact")


def register(cli: click.Group) -> None:
    """Add `history` and `evidence` to the main command group."""
    cli.add_command(history)
    cli.add_command(evidence)


# --- glue for `compliance audit` ----------------------------------------------------------

CONFIG_META = "compliance.config"


def apply_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """Eager --config callback: the file's settings become the command's defaults."""
    config = config_for(value)
    ctx.meta[CONFIG_META] = config
    ctx.default_map = {**config.options, **(ctx.default_map or {})}
    return value


def current_config() -> Config:
    ctx = click.get_current_context(silent=True)
    config = ctx.meta.get(CONFIG_META) if ctx else None
    return config if isinstance(config, Config) else config_for(None)


def audit_inputs(
    local: Any, has_local: bool, urls_file: Path | None, sitemaps: tuple[str, ...],
    feeds: tuple[str, ...], allow_private: bool,
) -> Iterator[Any]:
    """Local pages (files, folders, WARCs, manifest) then fetched ones, as one stream.

    `local` is called only when PAGES or --manifest were given (or when there is
    nothing else, to report the usage error)."""
    web = urls_file is not None or bool(sitemaps) or bool(feeds)
    parts: list[Any] = []
    if has_local or not web:
        parts.append(local())
    if web:
        parts.append(web_inputs(urls_file, sitemaps, feeds, allow_private, current_config()))
    return _chain(*parts)


@contextlib.contextmanager
def audit_store(db: str | None, wait: bool, quiet: bool, log_format: str) -> Iterator[dict]:
    """The store-related keyword arguments of run_audit; turns store failures into exit 2 and
    a held lock into exit 4 with a message naming the holder."""
    config = current_config()
    configure_logging(log_format, quiet)
    target = db_target(db, config)
    store = open_store(target) if target else None
    extra: dict[str, Any] = {"store": store, "resolve_missing": config.resolve_missing}
    if store is not None:
        extra["evidence_dir"] = evidence_root(target, config)  # type: ignore[arg-type]
        extra["wait"] = (config.wait_timeout or float("inf")) if wait else None
    try:
        with progress(not quiet and log_format == "text") as tick:
            extra["progress"] = tick
            yield extra
    except StoreLocked as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    finally:
        if store is not None:
            store.close()


def finish_output(outcome: Any, quiet: bool, log_format: str) -> None:
    """After the audit: the lifecycle line (text) or one JSON summary line (json)."""
    if log_format == "json":
        if not quiet:
            log_outcome(outcome)
        return
    if quiet or not outcome.lifecycle:
        return
    life = outcome.lifecycle
    click.echo(f"  since the previous audit: {life['new']} new, {life['ongoing']} ongoing, "
               f"{life['resolved']} resolved, {life['suppressed']} suppressed")
