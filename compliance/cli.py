"""Command line: a thin layer over the library.

Exit statuses (the most severe wins): 2 fatal (usage, rulebook, input),
3 incomplete (more pages failed than --max-error-ratio allows), 1 findings at
or above --fail-on, 0 otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from . import __version__
from .audit import analyse, safely
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
        ]
    ):
        func = option(func)  # type: ignore[operator]
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
    help="Exit 1 when a violation of at least this severity is found.",
)
@click.option(
    "--max-error-ratio",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Exit 3 when a larger share of pages could not be audited.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def audit(
    pages: tuple[str, ...],
    manifest: Path | None,
    url: str | None,
    max_bytes: int,
    rules_dir: Path | None,
    out_dir: Path,
    formats: str,
    fail_on: str,
    max_error_ratio: float,
    quiet: bool,
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
    try:
        page_iter = _pages(pages, manifest, url, max_bytes)
        outcome = run_audit(
            page_iter,
            rulebook,
            out_dir,
            formats=chosen,
            fail_on=fail_on,
            max_error_ratio=max_error_ratio,
        )
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FATAL)
    except OSError as exc:
        if not _inside(exc.filename, out_dir):
            raise  # not about the reports: a bug, shown with its traceback
        click.echo(
            f"error: cannot write reports to {out_dir}: {exc.strerror or exc}; "
            "the previous reports are unchanged",
            err=True,
        )
        sys.exit(EXIT_FATAL)
    if not quiet:
        _print_summary(outcome.stats, outcome.written, outcome.audit_id)
    sys.exit(outcome.exit_status)


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
    fmt: str,
) -> None:
    """Show which agencies each page's article is credited to, with evidence; no policy applied."""
    rulebook = _load_rules(rules_dir)
    try:
        for page in _pages(pages, manifest, url, max_bytes):
            result = safely(page, lambda p: (p, analyse(p, rulebook)))
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


def main() -> None:
    cli()


__all__ = ["cli", "default_rules_dir", "main"]
