"""Command line: a thin layer over the library.

Exit statuses (the most severe wins): 2 fatal (usage, rulebook, input, store),
4 another audit holds the store, 3 incomplete (more pages failed than
--max-error-ratio allows), 1 findings at or above --fail-on, 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
import errno
import importlib.util
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from . import __version__
from .audit import analyse, safely
from .engines.local import default_workers, run_local
from .ingest.pages import MAX_PAGE_BYTES, InputError, iter_pages
from .model import Page, PageError
from .report.records import match_error_record, match_record
from .report.writers import FORMATS
from .rulebook import (
    Rulebook,
    RulebookError,
    default_rules_dir,
    json_schema,
    load_rulebook,
)
from .runner import EXIT_FATAL, FAIL_ON_CHOICES, run_audit
from .store.cli import apply_config, audit_inputs, audit_store, finish_output

RULES_OPTION = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Rulebook folder or file (default: $COMPLIANCE_RULES, ./rules, or the bundled one).",
)


def _load_rules(rules_dir: Path | None) -> Rulebook:
    """Load the rulebook or stop with exit status 2 before any work."""
    try:
        return load_rulebook(rules_dir)
    except RulebookError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(
            f"error: the rulebook has {count} problem{'s' if count != 1 else ''}; "
            "nothing was audited",
            err=True,
        )
        sys.exit(EXIT_FATAL)


def _page_inputs(pages: tuple[str, ...]) -> list[Path]:
    """PAGES arguments; '-' reads one path per line from standard input."""
    paths: list[Path] = []
    for item in pages:
        if item == "-":
            paths.extend(Path(line.strip()) for line in sys.stdin if line.strip())
        else:
            paths.append(Path(item))
    return paths


def _pages(
    pages: tuple[str, ...], manifest: Path | None, url: str | None, max_bytes: int
) -> Iterator[Page | PageError]:
    paths = _page_inputs(pages)
    if not paths and manifest is None:
        raise click.UsageError("name pages (files, folders or '-') or a --manifest")
    return iter_pages(paths, manifest=manifest, url=url, limit=max_bytes)


def _page_options(func: object) -> object:
    for option in reversed(
        [
            click.argument("pages", nargs=-1),
            click.option(
                "--manifest",
                type=click.Path(path_type=Path, dir_okay=False),
                help="JSONL of {path, url, fetched_at} giving local files their address.",
            ),
            click.option("--url", help="The original address of the single page given."),
            click.option(
                "--max-bytes",
                type=int,
                default=MAX_PAGE_BYTES,
                show_default=True,
                help="Pages larger than this (after gunzip) are refused.",
            ),
            RULES_OPTION,
            click.option(
                "--index",
                "index_path",
                type=click.Path(path_type=Path, dir_okay=False),
                default=None,
                help="Dispatch index (from `compliance index add`) to match page text against.",
            ),
        ]
    ):
        func = option(func)  # type: ignore[operator]
    return func


def _open_index(index_path: Path | None) -> Any:
    """The read-only dispatch index, or exit 2 naming the file and what to do."""
    if index_path is None:
        return None
    from .index import DispatchIndex, IndexFileError

    if not index_path.is_file():
        click.echo(f"error: {index_path}: no such dispatch index; build one with "
                   "`compliance index add --index FILE --agency ID DISPATCHES…`", err=True)
        sys.exit(EXIT_FATAL)
    try:
        return DispatchIndex.open(index_path, read_only=True)
    except IndexFileError as exc:
        click.echo(f"error: {index_path}: {exc}", err=True)
        sys.exit(EXIT_FATAL)


def _index_digest(index_path: Path | None) -> str:
    """Changes whenever the index file does: the store re-audits unchanged pages then."""
    if index_path is None:
        return ""
    stat = index_path.stat()
    return f"{index_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _store_options(func: Any) -> Any:
    """Audit store, web inputs and cron output options (compliance/store/cli.py)."""
    for option in reversed([
        click.option("--db", default=None,
                     help="Audit store: a SQLite file, postgresql://…, or 'none' [default: "
                          "config, $COMPLIANCE_DB, ~/.local/share/compliance/audits.sqlite]."),
        click.option("--wait", is_flag=True,
                     help="When another audit holds the store, wait for it instead of "
                          "exiting with status 4."),
        click.option("--urls", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="File of URLs to fetch and audit, one per line."),
        click.option("--sitemap", "sitemaps", multiple=True,
                     help="Sitemap URL (or a site's root) whose recent articles are audited."),
        click.option("--feed", "feeds", multiple=True,
                     help="RSS/Atom feed URL whose recent articles are audited."),
        click.option("--allow-private", is_flag=True,
                     help="Let fetching reach private and loopback addresses."),
        click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                     show_default=True, help="Logs and summary as text or JSON lines."),
        click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
                     default=None, is_eager=True, callback=apply_config,
                     help="compliance.toml [default: $COMPLIANCE_CONFIG, ./compliance.toml, "
                          "~/.config/compliance/compliance.toml]."),
    ]):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
def cli() -> None:
    """Find unlicensed republication of news-agency dispatches on web pages."""


@cli.command()
@_page_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("reports"),
    show_default=True,
    help="Folder for the reports.",
)
@click.option(
    "--format",
    "formats",
    default="jsonl,html,csv",
    show_default=True,
    help="Comma-separated: jsonl, html, csv (errors.jsonl is always written).",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_CHOICES),
    default="low",
    show_default=True,
    help="Exit 1 when a violation of at least this severity is found "
    "('new': only violations the audit store has not seen before).",
)
@click.option(
    "--max-error-ratio",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Exit 3 when a larger share of pages could not be audited.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Processes auditing pages [default: the machine's cores].")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
              show_default=True, help="Where pages are audited: a local process pool or Spark.")
@click.option("--master", default=None,
              help="Spark master URL (with --engine spark), e.g. local[4] or spark://host:7077.")
@click.option("--page-timeout", type=click.FloatRange(min=0, min_open=True), default=120.0,
              show_default=True, help="Seconds one page may take; slower pages become errors.")
@_store_options
def audit(
    pages: tuple[str, ...],
    manifest: Path | None,
    url: str | None,
    max_bytes: int,
    rules_dir: Path | None,
    index_path: Path | None,
    workers: int | None,
    engine: str,
    master: str | None,
    page_timeout: float,
    out_dir: Path,
    formats: str,
    fail_on: str,
    max_error_ratio: float,
    quiet: bool,
    db: str | None = None,
    wait: bool = False,
    urls: Path | None = None,
    sitemaps: tuple[str, ...] = (),
    feeds: tuple[str, ...] = (),
    allow_private: bool = False,
    log_format: str = "text",
    config_path: Path | None = None,
) -> None:
    """Audit PAGES against the rulebook and write findings and reports to --out.

    \b
    Example:
      compliance audit examples/pages --manifest examples/manifest.jsonl --out reports
    """
    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise click.BadParameter(
            f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}",
            param_hint="--format",
        )
    rulebook = _load_rules(rules_dir)
    index = _open_index(index_path)
    started = dt.datetime.now(dt.UTC)
    try:
        if engine == "spark":
            page_iter: Iterable[Any] = ()
            runner = _spark_engine(pages, rulebook, started, out_dir, index_path, master,
                                   page_timeout)
        else:
            page_iter = audit_inputs(lambda: _pages(pages, manifest, url, max_bytes),
                                     bool(pages or manifest), urls, sitemaps, feeds, allow_private)
            runner = _local_engine(rulebook, started, index_path, workers or default_workers(),
                                   page_timeout)
        with audit_store(db, wait, quiet, log_format) as store_kwargs:
            outcome = run_audit(
                page_iter,
                rulebook,
                out_dir,
                formats=chosen,
                fail_on=fail_on,
                max_error_ratio=max_error_ratio,
                now=started,
                index=index,
                index_digest=_index_digest(index_path),
                engine=runner,
                **store_kwargs,
            )
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    except OSError as exc:
        if not _inside(exc.filename, out_dir):
            raise  # not about the reports: a bug, shown with its traceback
        where = exc.filename or out_dir
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        click.echo(
            f"error: cannot write {where}: {exc.strerror or exc}; the previous reports in "
            f"{out_dir} are unchanged ({'free some space' if full else 'fix that'}, "
            "then run the audit again)",
            err=True,
        )
        sys.exit(EXIT_FATAL)
    if not quiet and log_format == "text":
        _print_summary(outcome.stats, outcome.written, outcome.audit_id)
    finish_output(outcome, quiet, log_format)
    sys.exit(outcome.exit_status)


def _local_engine(rulebook: Rulebook, started: dt.datetime, index_path: Path | None,
                  workers: int, page_timeout: float) -> Any:
    def engine(todo: Iterable[Page | PageError]) -> Iterator[Any]:
        return run_local(todo, rulebook, started, workers=workers, index_path=index_path,
                         page_time_limit=page_timeout)
    return engine


def _spark_engine(pages: tuple[str, ...], rulebook: Rulebook, started: dt.datetime,
                  out_dir: Path, index_path: Path | None, master: str | None,
                  page_timeout: float) -> Any:
    """Spark reads the inputs itself on the executors: PAGES are file paths or Hadoop URIs."""
    if importlib.util.find_spec("pyspark") is None:
        raise click.UsageError("the Spark engine needs pyspark: pip install 'compliance[spark]'")
    from .engines.spark import run_spark

    if not pages:
        raise click.UsageError("--engine spark needs PAGES: WARC or page files, or URIs")
    uris = [str(Path(p).resolve()) if "://" not in p else p for p in pages]

    def engine(todo: Iterable[Page | PageError]) -> Iterator[Any]:
        return run_spark(uris, rulebook, started, out_dir,
                         audit_id=started.strftime("%Y%m%dT%H%M%SZ"), master=master,
                         index_path=index_path, page_time_limit=page_timeout)
    return engine


def _inside(filename: object, folder: Path) -> bool:
    if not filename:
        return True  # e.g. ENOSPC on a write: it happened while writing the reports
    try:
        Path(str(filename)).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _print_summary(stats: object, written: list[Path], audit_id: str) -> None:
    s = stats  # AuditStats
    click.echo(f"audit {audit_id}: {s.pages} pages audited, {s.errors} not audited")  # type: ignore[attr-defined]
    click.echo(
        f"  {s.violations} violations on {s.pages_with_findings} pages"  # type: ignore[attr-defined]
        + (f", {s.notes} notes below threshold" if s.notes else "")
    )  # type: ignore[attr-defined]
    for title, counter in (
        ("severity", s.by_severity),
        ("agency", s.by_agency),  # type: ignore[attr-defined]
        ("site", s.by_domain),
    ):  # type: ignore[attr-defined]
        if counter:
            top = ", ".join(f"{k} {v}" for k, v in counter.most_common(8))
            click.echo(f"  by {title}: {top}")
    for path in written:
        click.echo(f"  wrote {path}")


@cli.command()
@_page_options
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "text"]), default="jsonl", show_default=True
)
def match(
    pages: tuple[str, ...],
    manifest: Path | None,
    url: str | None,
    max_bytes: int,
    rules_dir: Path | None,
    index_path: Path | None,
    fmt: str,
) -> None:
    """Show which agencies each page's article is credited to or copied from, with evidence;
    no policy applied."""
    rulebook = _load_rules(rules_dir)
    index = _open_index(index_path)
    try:
        for page in _pages(pages, manifest, url, max_bytes):
            if not isinstance(page, Page | PageError):
                continue  # a record that is not a page (skipped WARC record, page gone)
            result = safely(page, lambda p: (p, analyse(p, rulebook, index)))
            if isinstance(result, PageError):
                record = match_error_record(result)
            else:
                record = match_record(*result)  # type: ignore[misc]
            if fmt == "jsonl":
                click.echo(json.dumps(record, ensure_ascii=False))
            else:
                _print_match(record)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)


def _print_match(record: dict[str, object]) -> None:
    page = record["page"]
    click.echo(f"{page['path']}  [{page.get('lang') or '?'}]  {page.get('url') or ''}")  # type: ignore[index, union-attr]
    if "error" in record:
        click.echo(f"  error: {record['error']['message']}")  # type: ignore[index]
    for attribution in record["attributions"]:  # type: ignore[union-attr]
        click.echo(
            f"  {attribution['agency']}  {attribution['kind']}  "
            f"confidence {attribution['confidence']}"
        )
        for e in attribution["evidence"][:4]:
            click.echo(f"    {e['kind']:<9} {e['zone']:<8} {e['text'][:90]!r}")
    if not record["attributions"]:
        click.echo("  no attribution")


@cli.group()
def rules() -> None:
    """Validate, list and describe the rulebook."""


@rules.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def rules_validate(path: Path | None) -> None:
    """Check every rule file; print problems as file:line:col: message (exit 2 if any)."""
    rulebook = _load_rules(path)
    click.echo(
        f"ok: {len(rulebook.files)} files, {len(rulebook.agencies)} agencies, "
        f"{len(rulebook.licensees)} licensees, "
        f"{sum(len(a.markers) for a in rulebook.agencies.values())} markers, "
        f"{sum(len(a.clauses) for a in rulebook.agencies.values())} clauses"
    )


@rules.command("list")
@RULES_OPTION
@click.option(
    "--what",
    type=click.Choice(["agencies", "licensees", "clauses"]),
    default="agencies",
    show_default=True,
)
def rules_list(rules_dir: Path | None, what: str) -> None:
    """List agencies, licensees or clauses of the rulebook."""
    rulebook = _load_rules(rules_dir)
    if what == "agencies":
        for agency in sorted(rulebook.agencies.values(), key=lambda a: a.id):
            click.echo(
                f"{agency.id:<16} {agency.name:<40} {len(agency.markers):>3} markers  "
                f"{len(agency.clauses):>2} clauses  credits: {', '.join(agency.credits[:6])}"
            )
    elif what == "licensees":
        for licensee in sorted(rulebook.licensees.values(), key=lambda x: x.id):
            flag = " (example)" if licensee.example else ""
            click.echo(f"{licensee.id:<16} {licensee.name}{flag}: {', '.join(licensee.domains)}")
            for licence in licensee.licences:
                click.echo(
                    f"    {licence.agency:<12} permits {', '.join(licence.permits)}; "
                    f"languages {', '.join(licence.languages) or 'any'}; "
                    f"{licence.valid_from or '…'} to {licence.valid_until or '…'}"
                )
    else:
        for agency in sorted(rulebook.agencies.values(), key=lambda a: a.id):
            for clause in agency.clauses:
                what_it_does = ", ".join(
                    [*clause.prohibits, *(f"requires {r}" for r in clause.requires)]
                )
                click.echo(f"{clause.id:<32} {clause.severity:<8} {what_it_does}")


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rule file (for editors and CI)."""
    click.echo(json.dumps(json_schema(), indent=2))


def _register_commands() -> None:
    """Command groups that live beside the parts of the library they drive."""
    from .index.cli import index_group
    from .report.cli import notice_command, report_group, rules_test, suppress_command
    from .store.cli import register as register_store_commands

    cli.add_command(index_group, "index")
    register_store_commands(cli)
    cli.add_command(notice_command, "notice")
    cli.add_command(suppress_command, "suppress")
    cli.add_command(report_group, "report")
    rules.add_command(rules_test, "test")


_register_commands()


def main() -> None:
    cli()


__all__ = ["cli", "default_rules_dir", "main"]
