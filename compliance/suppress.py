"""Suppressions: reviewed decisions to stop counting a finding, kept visible in every report.

A suppression names a finding by id, or pages by a URL glob (optionally one
clause). Matching findings stay in the outputs with a `suppressed` block so a
reader sees what was waived, by whom and until when; they never change the
exit status. A suppression past its `until` date no longer applies: the
finding is reported again and a warning says so, so nothing stays waived by
oversight.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .rulebook.schema import Suppression

log = logging.getLogger("compliance.suppress")

SUPPRESSIONS_FILE = "suppressions.yaml"


@dataclass(frozen=True)
class Outcome:
    """What applying the ledger did: how many findings it waived, and which waivers lapsed."""

    suppressed: int
    warnings: tuple[str, ...]


def matches(suppression: Suppression, record: dict[str, Any]) -> bool:
    """Does this ledger entry name this finding (by id, or by URL glob and optional clause)?"""
    if suppression.id and suppression.id != record.get("id"):
        return False
    if suppression.url_pattern:
        url = (record.get("page") or {}).get("url") or ""
        if not url or not fnmatch.fnmatchcase(url, suppression.url_pattern):
            return False
    if suppression.clause:
        clause = record.get("clause") or {}
        if suppression.clause not in (clause.get("id"), clause.get("agency")):
            return False
    return True


def suppression_record(suppression: Suppression) -> dict[str, Any]:
    """The `suppressed` block written on a finding."""
    return {
        "reason": suppression.reason,
        "approver": suppression.approver,
        "until": suppression.until.isoformat() if suppression.until else None,
        "by": "id" if suppression.id else "url_pattern",
        "pattern": suppression.url_pattern,
        "ticket": suppression.ticket,
    }


def is_expired(suppression: Suppression, today: dt.date) -> bool:
    return suppression.until is not None and today > suppression.until


def apply_suppressions(
    records: Iterable[dict[str, Any]],
    suppressions: Sequence[Suppression],
    today: dt.date,
) -> Outcome:
    """Mark finding records in place: `suppressed` is the waiver block or None.

    A live suppression wins over a lapsed one naming the same finding; a
    finding named only by lapsed ones is reopened: `suppressed` is None,
    `suppression_expired` says which waiver ran out, and a warning is logged.
    """
    count = 0
    warnings: list[str] = []
    for record in records:
        named = [s for s in suppressions if matches(s, record)]
        live = [s for s in named if not is_expired(s, today)]
        record.pop("suppression_expired", None)
        if live:
            record["suppressed"] = suppression_record(live[0])
            count += 1
            continue
        record["suppressed"] = None
        if named:
            lapsed = max(named, key=lambda s: s.until or dt.date.min)
            record["suppression_expired"] = suppression_record(lapsed)
            message = (
                f"suppression of finding {record.get('id')} "
                f"({(record.get('page') or {}).get('url') or 'unknown URL'}) expired on "
                f"{lapsed.until}; approved by {lapsed.approver}: {lapsed.reason}. "
                "The finding is reported again."
            )
            warnings.append(message)
            log.warning(message)
    return Outcome(count, tuple(warnings))


def is_suppressed(record: dict[str, Any]) -> bool:
    return bool(record.get("suppressed"))


# --- writing the ledger -------------------------------------------------------------------


class LedgerError(Exception):
    """The suppression could not be written; the rulebook is left as it was."""


def ledger_file(rules_path: Path) -> Path:
    """The rulebook file that holds suppressions: the first with a `suppressions` key, else
    `suppressions.yaml` in the rulebook folder."""
    from .rulebook import rule_files

    if rules_path.is_file():
        return rules_path
    for file in rule_files(rules_path):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(line.startswith("suppressions:") for line in text.splitlines()):
            return file
    return rules_path / SUPPRESSIONS_FILE


def add_suppression(rules_path: Path, entry: Suppression) -> tuple[Path, bool]:
    """Write `entry` into the rulebook's ledger, leaving every other line of the file as it was.

    The YAML is composed (safe loader) only to find where the `suppressions`
    list and its items sit; the new item is spliced into the text there, so
    comments and formatting elsewhere survive byte for byte. An entry naming
    the same finding (same id, or same URL pattern and clause) is replaced
    rather than duplicated: renewing a waiver is a small change in review. The
    rulebook is loaded with the new file before it is swapped in; if it would
    not load, nothing is written. Returns the file and whether an entry was replaced.
    """
    import yaml

    from .report.writers import write_atomic
    from .rulebook import RulebookError, load_rulebook

    target = ledger_file(rules_path)
    original = target.read_text(encoding="utf-8") if target.exists() else ""
    try:
        root = yaml.compose(original, Loader=yaml.SafeLoader) if original.strip() else None
    except yaml.YAMLError as exc:
        raise LedgerError(f"{target}: not valid YAML: {exc}") from None
    item = entry.model_dump(exclude_none=True)  # dates stay dates: written unquoted
    text, replaced = _splice(original, root, item, entry)
    _check_loads(target, text, rules_path, load_rulebook, RulebookError)
    write_atomic(target, text)
    return target, replaced


def _render_item(item: dict[str, Any], indent: int) -> list[str]:
    import yaml

    dumped = yaml.safe_dump([item], sort_keys=False, allow_unicode=True, width=100)
    return [" " * indent + line + "\n" for line in dumped.splitlines()]


def _splice(text: str, root: Any, item: dict[str, Any], entry: Suppression) -> tuple[str, bool]:
    """The file's text with `item` added to (or replacing its match in) `suppressions`."""
    import yaml

    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if root is None:
        header = (
            "# Reviewed suppressions: each waives findings for a reason, approved by someone,\n"
            "# until a date. Written by `compliance suppress`; suppressed findings stay in\n"
            "# reports, marked, and never change the exit status.\n"
        )
        return "".join(lines) + (header if not lines else "") + "suppressions:\n" + "".join(
            _render_item(item, 2)
        ), False
    if not isinstance(root, yaml.MappingNode):
        raise LedgerError("the ledger file is not a mapping; cannot add a suppression")
    for key, value in root.value:
        if key.value != "suppressions":
            continue
        if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
            indent = value.value[0].start_mark.column - 2
            for node in value.value:
                if isinstance(node, yaml.MappingNode) and _same_target(
                    {k.value: v.value for k, v in node.value}, entry
                ):
                    first = node.start_mark.line
                    lines[first : _last_line(node) + 1] = _render_item(item, indent)
                    return "".join(lines), True
            end = _last_line(value)
            lines[end + 1 : end + 1] = _render_item(item, indent)
            return "".join(lines), False
        # `suppressions:` with nothing, null or a flow list: rewrite that key as a block list
        first = key.start_mark.line
        end = value.end_mark.line
        if value.end_mark.column == 0 and end > first:
            end -= 1
        existing = yaml.safe_load("".join(lines[first : end + 1])) or {}
        block = ["suppressions:\n"]
        for old in existing.get("suppressions") or []:
            block += _render_item(old, 2)
        block += _render_item(item, 2)
        lines[first : end + 1] = block
        return "".join(lines), False
    return "".join(lines) + "suppressions:\n" + "".join(_render_item(item, 2)), False


def _last_line(node: Any) -> int:
    """The last line a node's own text is on (block collections end where the next token starts,
    so descend to their last scalar)."""
    import yaml

    while (
        isinstance(node, yaml.MappingNode | yaml.SequenceNode)
        and node.value
        and not node.flow_style
    ):
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    mark = node.end_mark
    return mark.line - (1 if mark.column == 0 else 0)


def _same_target(existing: dict[str, Any], entry: Suppression) -> bool:
    if entry.id:
        return bool(existing.get("id") == entry.id)
    return (
        not existing.get("id")
        and existing.get("url_pattern") == entry.url_pattern
        and existing.get("clause") == entry.clause
    )


def _check_loads(target: Path, text: str, rules_path: Path, load: Any, error: type) -> None:
    """Load the rulebook as it would be with `text` in `target`; refuse if it breaks."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if rules_path.is_file():
            trial = Path(tmp) / rules_path.name
            trial.write_text(text, encoding="utf-8")
        else:
            trial = Path(tmp) / "rules"
            shutil.copytree(rules_path, trial, ignore=shutil.ignore_patterns("tests"))
            (trial / target.relative_to(rules_path)).write_text(text, encoding="utf-8")
        try:
            load(trial)
        except error as exc:
            raise LedgerError(
                f"the suppression would break the rulebook, nothing written:\n{exc}"
            ) from None
