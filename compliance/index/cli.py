"""`compliance index add|stats|remove`: build and look after a dispatch index.

Bad records are reported as `file:line: message` on standard error and
skipped; the good ones are added in one transaction. Exit status 2 when the
index cannot be opened or written, or nothing could be read at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .dispatch import Dispatch, RecordError, read_dispatches
from .store import DispatchIndex, IndexFileError

EXIT_FATAL = 2
INDEX_OPTION = click.option(
    "--index",
    "index_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The index file (SQLite).",
)


def _fatal(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_FATAL)


def _open(path: Path, read_only: bool) -> DispatchIndex:
    try:
        return DispatchIndex.open(path, read_only=read_only)
    except IndexFileError as exc:
        _fatal(str(exc))
    except OSError as exc:
        _fatal(f"cannot open {path}: {exc.strerror or exc}")
    raise AssertionError("unreachable")


@click.group("index")
def index_group() -> None:
    """Build the index of an agency's own dispatches that pages are matched against."""


@index_group.command("add")
@INDEX_OPTION
@click.option("--agency", default=None,
              help="Agency id of the dispatches (rulebook id); optional when every record "
                   "names its agency (JSONL `agency`).")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def add_command(index_path: Path, agency: str | None, files: tuple[Path, ...]) -> None:
    """Add dispatches from FILES (JSONL, NewsML-G2, NITF; folders of .txt/.html/.xml).

    A dispatch whose id is already indexed is replaced (a correction or a kill notice).

    \b
    Example:
      compliance index add --index dispatches.db --agency afp examples/dispatches/afp.jsonl
    """
    good: list[Dispatch] = []
    bad = 0
    for record in read_dispatches(files, agency=agency):
        if isinstance(record, RecordError):
            bad += 1
            click.echo(str(record), err=True)
        else:
            good.append(record)
    if not good:
        _fatal(f"no dispatch could be read ({bad} bad record{'s' if bad != 1 else ''})")
    index = _open(index_path, read_only=False)
    try:
        result = index.add(good)
    except Exception as exc:  # the transaction was rolled back: the index is as it was
        _fatal(f"cannot write {index_path}: {exc}; the index is unchanged")
    finally:
        index.close()
    click.echo(
        f"{index_path}: {result.added} added, {result.replaced} replaced, {bad} skipped"
    )


@index_group.command("stats")
@INDEX_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def stats_command(index_path: Path, as_json: bool) -> None:
    """How many dispatches the index holds, by agency, language and status."""
    with _open(index_path, read_only=True) as index:
        stats = index.stats()
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
        return
    for key, value in stats.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        click.echo(f"{key}: {value}")


@index_group.command("remove")
@INDEX_OPTION
@click.argument("ids", nargs=-1, required=True)
def remove_command(index_path: Path, ids: tuple[str, ...]) -> None:
    """Remove dispatches by id (exit status 1 when some id was not in the index)."""
    index = _open(index_path, read_only=False)
    try:
        missing = index.remove(ids)
    except Exception as exc:
        _fatal(f"cannot write {index_path}: {exc}; the index is unchanged")
    finally:
        index.close()
    for ident in missing:
        click.echo(f"{ident}: not in the index", err=True)
    click.echo(f"{index_path}: {len(ids) - len(missing)} removed")
    sys.exit(1 if missing else 0)
