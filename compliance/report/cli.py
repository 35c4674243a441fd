"""Commands for what the legal team reads and sends: notices, suppressions, rule tests, and
reports re-rendered or compared from findings files.

They are registered on the main group in `compliance.cli`:
`notice`, `suppress`, `report` (with `render` and `diff`), and `rules_test` under `rules`.
Exit statuses follow the audit's: 2 for usage, rulebook or input errors; 1 for a
result that needs attention (an incomplete notice, a failed rule test, new findings
with --fail-on-new); 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..rulebook import Rulebook, RulebookError, default_rules_dir, load_rulebook

EXIT_ATTENTION, EXIT_FATAL = 1, 2

rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Rulebook folder or file (default: $COMPLIANCE_RULES, ./rules, or the bundled one).",
)
from_option = click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path, exists=True),
    default=None,
    help="findings.jsonl, or the report folder holding it (default: reports/).",
)


def fail(message: str, status: int = EXIT_FATAL) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


def load_rules(rules_dir: Path | None) -> Rulebook:
    try:
        return load_rulebook(rules_dir)
    except RulebookError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        fail(f"the rulebook has {len(exc.problems)} problem(s)")
        raise AssertionError from exc  # unreachable


def read_findings(source: Path | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Path]:
    from .writers import load_findings

    path = source or Path("reports")
    if not path.exists():
        fail(f"{path} does not exist; name a findings.jsonl or report folder with --from")
    try:
        findings, errors = load_findings(path)
    except (OSError, ValueError) as exc:
        fail(str(exc))
        raise AssertionError from exc
    return findings, errors, path


db_option = click.option(
    "--db",
    default=None,
    help="Audit store (SQLite path or postgresql:// URL; default: as for `compliance audit`).",
)


def open_store(db: str | None) -> Any:
    """The audit store, read-only use; exits 2 when there is none."""
    from ..store.cli import config_for, db_target
    from ..store.cli import open_store as open_existing

    target = db_target(db, config_for(None))
    if target is None:
        fail("no audit store (--db none); give the findings with --from")
    return open_existing(str(target), create=False)


def store_records(store: Any, ids: tuple[str, ...] = (), audit_id: str | None = None) -> list:
    """Finding records from the store with their lifecycle keys, by id or by audit."""
    if ids:
        rows = [store.finding(i) for i in ids]
    else:
        rows = store.findings_of_audit(audit_id) if audit_id else store.findings()
    out = []
    for row in rows:
        if row is None or (
            audit_id and audit_id not in (row.last_audit, row.record.get("audit_id"))
        ):
            continue
        out.append(
            {
                **row.record,
                "status": row.status,
                "first_seen": row.first_seen,
                "last_seen": row.last_seen,
            }
        )
    return out


def pick(findings: list[dict[str, Any]], ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """Findings named by id or by an unambiguous prefix of at least 6 characters."""
    chosen = []
    for ident in ids:
        hits = [r for r in findings if r["id"] == ident] or (
            [r for r in findings if r["id"].startswith(ident)] if len(ident) >= 6 else []
        )
        if not hits:
            fail(f"no finding {ident!r} in the findings file")
        if len({r["id"] for r in hits}) > 1:
            fail(f"{ident!r} matches several findings; give more of the id")
        chosen.append(hits[0])
    return chosen


# --- notice ------------------------------------------------------------------------------


@click.command("notice")
@click.argument("finding_ids", nargs=-1, required=True)
@from_option
@click.option(
    "--template",
    default="dmca",
    show_default=True,
    help="dmca (17 U.S.C. §512(c)(3)), dsa (EU DSA Art. 16), letter, or a template of your own "
    "in --templates.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "eml"]), default="md", show_default=True
)
@click.option(
    "--out",
    "out_dir",
    default="notices",
    show_default=True,
    help="Folder for the notices (and notices.jsonl, the log of drafted notices); '-' prints.",
)
@rules_option
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    envvar="COMPLIANCE_TEMPLATES",
    default=None,
    help="Folder of your templates ({name}.md.j2, .html.j2, .subject.j2), searched before "
    "the bundled ones [$COMPLIANCE_TEMPLATES].",
)
@click.option(
    "--signer", help="Name of the person signing (default: the claimant's signatory or agent)."
)
@click.option("--to", "recipient", help="Recipient: the site's designated agent or abuse address.")
@click.option("--date", "date", type=click.DateTime(["%Y-%m-%d"]), help="Date of the notice.")
@click.option(
    "--sent", is_flag=True, help="Record the notice as sent (status notice_sent), not only drafted."
)
@click.option(
    "--allow-incomplete", is_flag=True, help="Exit 0 even when a required element is missing."
)
@db_option
def notice_command(
    finding_ids: tuple[str, ...],
    source: Path | None,
    template: str,
    fmt: str,
    out_dir: str,
    rules_dir: Path | None,
    templates_dir: Path | None,
    signer: str | None,
    recipient: str | None,
    date: dt.datetime | None,
    sent: bool,
    allow_incomplete: bool,
    db: str | None,
) -> None:
    """Draft takedown notices for FINDING_IDS: one per rights holder and site.

    Every element the regime requires is checked in the rendered notice and
    listed; a missing element or a placeholder ("[…]") from the rulebook's
    claimant makes the exit status 1.

    \b
    Example:
      compliance notice 623b6ad624e5 45ed3938b295 --from reports --template dsa --format eml
    """
    from ..notice import NoticeError, available_templates, build_notices, notify, render
    from .writers import write_atomic

    if template not in available_templates(templates_dir):
        fail(f"no template {template!r}; choose dmca, dsa, letter or one in --templates")
    rulebook = load_rules(rules_dir)
    store = open_store(db) if source is None or db else None
    if source is None and store is not None:
        findings = [
            r for r in store_records(store) if any(r["id"].startswith(i) for i in finding_ids)
        ]
    else:
        findings, _, _ = read_findings(source)
    chosen = pick(findings, finding_ids)
    for record in chosen:
        if record.get("suppressed"):
            click.echo(f"warning: finding {record['id']} is suppressed", err=True)
    try:
        notices = build_notices(
            chosen,
            rulebook,
            template,
            signer=signer,
            recipient=recipient,
            today=date.date() if date else None,
        )
        rendered = [render(n, fmt, templates_dir) for n in notices]
    except NoticeError as exc:
        fail(str(exc))
        return
    incomplete = False
    for item in rendered:
        path = None
        if out_dir == "-":
            click.echo(item.content)
        else:
            path = Path(out_dir) / f"{item.notice.name}.{fmt}"
            write_atomic(path, item.content)
        event = notify(
            item, path, sent, log=None if out_dir == "-" else Path(out_dir) / "notices.jsonl"
        )
        if store is not None and sent:
            for finding_id in event["finding_ids"]:
                store.set_status(finding_id, "notice_sent", f"{n_label(item)} {where_of(path)}")
        where = path or "standard output"
        n = item.notice
        click.echo(
            f"{n.regime} notice to {n.domain} for {n.agency_name}: "
            f"{len(n.items)} page(s), {len(n.finding_ids)} finding(s) → {where}",
            err=True,
        )
        for element in item.elements:
            mark = "ok     " if element.ok else "MISSING"
            click.echo(
                f"  {mark} {element.key:>6}  {element.label}"
                + (f": {element.problem}" if element.problem else ""),
                err=True,
            )
        incomplete |= not item.complete
    if incomplete:
        click.echo(
            "notice(s) not ready to send: fill in the claimant in the rulebook, or give --signer",
            err=True,
        )
        if not allow_incomplete:
            sys.exit(EXIT_ATTENTION)


def n_label(item: Any) -> str:
    return f"{item.notice.regime} notice"


def where_of(path: Path | None) -> str:
    return f"({path})" if path else "(printed)"


# --- suppress ----------------------------------------------------------------------------


@click.command("suppress")
@click.argument("finding_id", required=False)
@click.option(
    "--url-pattern", help="Glob on page URLs instead of a finding id ('https://x.example/*')."
)
@click.option("--clause", help="Limit a URL pattern to one clause (or agency) id.")
@click.option(
    "--reason", required=True, help="Why the finding is waived (licence found, quotation…)."
)
@click.option("--approver", required=True, help="Who approved the waiver.")
@click.option(
    "--until",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day the waiver applies; after it the finding is reported again.",
)
@click.option("--ticket", help="Review ticket or contract reference.")
@rules_option
def suppress_command(
    finding_id: str | None,
    url_pattern: str | None,
    clause: str | None,
    reason: str,
    approver: str,
    until: dt.datetime,
    ticket: str | None,
    rules_dir: Path | None,
) -> None:
    """Waive FINDING_ID (or pages matching --url-pattern) in the rulebook's suppressions file.

    Suppressed findings stay in every report, marked, and never change the exit
    status. The entry goes into the rulebook file that already holds
    `suppressions`, else `suppressions.yaml`; the rest of the file is kept as it was.

    \b
    Example:
      compliance suppress 623b6ad624e53f2ca2c7 --reason "licence signed 2026-11-25" \\
          --approver "A. Counsel" --until 2027-06-30 --ticket LEGAL-42
    """
    from pydantic import ValidationError

    from ..rulebook.schema import Suppression
    from ..suppress import LedgerError, add_suppression

    if bool(finding_id) == bool(url_pattern):
        fail("name one FINDING_ID or one --url-pattern")
    if until.date() < dt.date.today():
        fail(f"--until {until.date()} is in the past; a waiver must run until a future date")
    root = rules_dir or default_rules_dir()
    load_rules(root)  # refuse to touch a broken rulebook
    try:
        entry = Suppression(
            id=finding_id,
            url_pattern=url_pattern,
            clause=clause,
            reason=reason,
            approver=approver,
            until=until.date(),
            ticket=ticket,
            added=dt.date.today(),
        )
        path, replaced = add_suppression(root, entry)
    except (ValidationError, LedgerError, OSError) as exc:
        fail(str(exc))
        return
    what = finding_id or f"pages matching {url_pattern}" + (f" ({clause})" if clause else "")
    click.echo(
        f"{'renewed' if replaced else 'added'} suppression of {what} until {until.date()} in {path}"
    )


# --- report render / diff ----------------------------------------------------------------


@click.group("report")
def report_group() -> None:
    """Re-render or compare audits' findings."""


@report_group.command("render")
@click.argument("audit_id", required=False)
@from_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "jsonl", "csv", "md"]),
    default="html",
    show_default=True,
)
@click.option("--out", "out", default="-", show_default=True, help="File to write; '-' prints.")
@click.option(
    "--previous",
    type=click.Path(path_type=Path, exists=True),
    help="An earlier findings file: marks each finding new or ongoing.",
)
@click.option(
    "--suppressions/--no-suppressions",
    default=True,
    show_default=True,
    help="Apply the rulebook's current suppressions (expired ones reopen with a warning).",
)
@rules_option
@db_option
def report_render(
    audit_id: str | None,
    source: Path | None,
    fmt: str,
    out: str,
    previous: Path | None,
    suppressions: bool,
    rules_dir: Path | None,
    db: str | None,
) -> None:
    """Render a report of AUDIT_ID from the audit store, or of findings read --from a file,
    without auditing again.

    From the store, the report holds the findings that audit saw or resolved,
    with their lifecycle status. With --from (a findings.jsonl or report
    folder), AUDIT_ID keeps only that audit's findings.
    """
    from ..suppress import apply_suppressions
    from .markdown import render_markdown
    from .writers import clause_links, findings_csv, load_findings, render_html, write_atomic

    lifecycle_counts = None
    if source is None and audit_id:
        store = open_store(db)
        if store.audit(audit_id) is None:
            fail(f"no audit {audit_id} in the store")
        findings = store_records(store, audit_id=audit_id)
        findings += [r for r in store.resolved_in(audit_id) if r not in findings]
        # the store's label, never --db as given: a server URL may carry a password
        errors, path = [], Path(store.label)
        statuses = [r.get("status") for r in findings]
        lifecycle_counts = {
            "new": statuses.count("new"),
            "ongoing": sum(s not in ("new", "resolved") for s in statuses),
            "resolved": statuses.count("resolved"),
        }
    else:
        findings, errors, path = read_findings(source)
    if audit_id and source is not None:
        findings = [r for r in findings if r.get("audit_id") == audit_id]
        errors = [e for e in errors if e.get("audit_id") in (None, audit_id)]
        if not findings:
            click.echo(f"warning: no finding of audit {audit_id} in {path}", err=True)
    rulebook = load_rules(rules_dir)
    warnings: tuple[str, ...] = ()
    if suppressions:
        warnings = apply_suppressions(findings, rulebook.suppressions, dt.date.today()).warnings
        for message in warnings:
            click.echo(f"warning: {message}", err=True)
    header = {
        "audit_id": audit_id or next((r.get("audit_id") for r in findings), "") or "",
        "tool": "compliance",
        "version": __version__,
        "rendered_from": str(path),
        "terms": clause_links(rulebook),
    }
    if lifecycle_counts:
        header["lifecycle"] = lifecycle_counts
    earlier = load_findings(previous)[0] if previous else None
    if fmt == "html":
        text = render_html(header, findings, errors, warnings=warnings, previous=earlier)
    elif fmt == "md":
        text = render_markdown(header, findings, errors, previous=earlier)
    elif fmt == "csv":
        text = findings_csv(findings)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in findings)
    if out == "-":
        click.echo(text, nl=False)
    else:
        write_atomic(Path(out), text)
        click.echo(f"wrote {out}", err=True)


@report_group.command("diff")
@click.argument("old", type=click.Path(path_type=Path, exists=True))
@click.argument("new", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "jsonl", "md"]), default="text", show_default=True
)
@click.option(
    "--fail-on-new",
    is_flag=True,
    help="Exit 1 when NEW has violations that OLD did not (suppressed ones never count).",
)
def report_diff(old: Path, new: Path, fmt: str, fail_on_new: bool) -> None:
    """Compare two audits' findings (files or report folders) by finding id."""
    from .diff import diff_findings, diff_lines

    before, _, _ = read_findings(old)
    after, _, _ = read_findings(new)
    diff = diff_findings(before, after)
    lines = diff_lines(diff)
    counts = diff.counts()
    if fmt == "jsonl":
        for line in lines:
            click.echo(json.dumps(line, ensure_ascii=False))
    else:
        title = (
            f"{counts['new']} new, {counts['resolved']} resolved, {counts['unchanged']} unchanged"
        )
        click.echo(f"# Findings: {title}\n" if fmt == "md" else title)
        for line in lines:
            if line["change"] == "unchanged":
                continue
            flag = " (suppressed)" if line["suppressed"] else ""
            bullet = "- " if fmt == "md" else "  "
            click.echo(
                f"{bullet}{line['change']:<9} {line['severity']:<8} {line['clause']:<28} "
                f"{line['url'] or '(no URL)'}  [{line['id']}]{flag}"
            )
    if fail_on_new and diff.new_violations():
        sys.exit(EXIT_ATTENTION)


# --- rules test --------------------------------------------------------------------------


@click.command("test")
@click.argument("path", required=False, type=click.Path(path_type=Path, exists=True))
@rules_option
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
@click.option(
    "--require-all", is_flag=True, help="Fail when an agency has no fixture expecting its clauses."
)
def rules_test(path: Path | None, rules_dir: Path | None, verbose: bool, require_all: bool) -> None:
    """Run annotated fixture pages (default: the rulebook's tests/ folder) and report every
    difference between expected and found clauses; exit 1 on any."""
    from ..ruletest import default_tests_dir, run_tests, untested_agencies

    root = rules_dir or default_rules_dir()
    rulebook = load_rules(root)
    folder = path or default_tests_dir(root)
    if not folder.exists():
        fail(f"no rule tests at {folder}")
    results = run_tests(folder, rulebook)
    if not results:
        fail(f"no fixture pages under {folder}")
    for result in results:
        if result.ok and not verbose:
            continue
        status = "PASS" if result.ok else "FAIL"
        found = ", ".join(sorted(result.found)) or "nothing"
        click.echo(f"{status} {result.path}  (found: {found})")
        for problem in result.problems:
            click.echo(f"     {problem}")
    failed = sum(not r.ok for r in results)
    untested = untested_agencies(results, rulebook)
    if untested:
        click.echo(f"agencies without a rule test: {', '.join(untested)}")
    click.echo(f"rule tests: {len(results) - failed} of {len(results)} fixture pages pass")
    if failed or (require_all and untested):
        sys.exit(EXIT_ATTENTION)
