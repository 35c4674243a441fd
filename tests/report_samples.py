"""Finding records for report tests, including the fields the dispatch index and the audit store
add (match.passages, dispatch, status, first_seen/last_seen) and hostile page text."""

from __future__ import annotations

import copy
from typing import Any

PWN = "window.__pwned"

HEADER: dict[str, Any] = {
    "audit_id": "20261120T120000Z-0badc0de",
    "started": "2026-11-20T12:00:00+00:00",
    "tool": "compliance",
    "version": "test",
    "rulebook_digest": "ab" * 32,
    "rulebook_files": 3,
    "terms": {"afp-no-translation": "https://www.afp.com/en/terms-use"},
    "lifecycle": {"new": 1, "ongoing": 1, "resolved": 2},
}


def translation_record() -> dict[str, Any]:
    """A German machine translation of a French AFP dispatch, as the index reports it."""
    return {
        "id": "a1b2c3d4e5f6a7b8c9d0",
        "audit_id": HEADER["audit_id"],
        "severity": "high",
        "confidence": 0.97,
        "level": "violation",
        "status": "new",
        "first_seen": "2026-11-20T12:00:00Z",
        "last_seen": "2026-11-20T12:00:00Z",
        "clause": {"id": "afp-no-translation", "title": "No translation without AFP's prior written consent", "agency": "afp"},
        "actions": ["reproduce", "translate"],
        "page": {
            "url": "https://nachrichten-ticker.example/vermischtes/2026/11/17/baeckerei/",
            "domain": "nachrichten-ticker.example",
            "sha256": "2018cb6c212427d8973cf4397649fb4ffedf1f42813a7473f4dc64401a47d77a",
            "fetched_at": "2026-11-20T08:17:40Z",
            "title": "In der Orne kauft ein Dorf seine letzte Bäckerei zurück",
            "lang": "de",
            "source": "examples/pages/03-translation.html",
        },
        "dispatch": {"id": "afp-20261117-0044", "lang": "fr", "title": "Dans l'Orne, un village rachète sa dernière boulangerie"},
        "match": {
            "kind": "translation",
            "score": 0.91,
            "coverage": 0.85,
            "passages": [
                {
                    "page_span": [0, 96],
                    "page_text": "Saint-Aubin-sur-Orne (AFP) - 312 Einwohner haben am Dienstag 48.500 Euro gesammelt.",
                    "dispatch_span": [0, 90],
                    "dispatch_text": "Saint-Aubin-sur-Orne (AFP) - Les 312 habitants ont réuni mardi 48 500 euros.",
                    "score": 0.93,
                }
            ],
        },
        "licence": None,
        "explanation": "Agence France-Presse content: translate not permitted for this site",
        "evidence": [
            {
                "kind": "notice",
                "marker": "afp-notice-de-mt",
                "text": "Alle Rechte der Vervielfältigung und Darstellung vorbehalten",
                "span": [1855, 1915],
                "zone": "main",
                "detail": "German rendering of AFP's French notice",
                "context": "© 2026 AFP. Alle Rechte der Vervielfältigung und Darstellung vorbehalten.",
            }
        ],
    }


def copy_record() -> dict[str, Any]:
    """A verbatim English copy on a content farm, seen in an earlier audit too."""
    return {
        "id": "0f0e0d0c0b0a09080706",
        "audit_id": HEADER["audit_id"],
        "severity": "high",
        "confidence": 0.95,
        "level": "violation",
        "status": "open",
        "first_seen": "2026-10-02T09:00:00Z",
        "last_seen": "2026-11-20T12:00:00Z",
        "clause": {"id": "afp-no-redistribution", "title": "No reproduction or redistribution without AFP's prior written consent", "agency": "afp"},
        "actions": ["reproduce", "commercialize"],
        "page": {
            "url": "https://newsflash-hub.example/news/kenya-solar-cold-rooms-98231.html",
            "domain": "newsflash-hub.example",
            "sha256": "9" * 64,
            "fetched_at": "2026-11-20T08:16:12Z",
            "title": "Solar cold rooms keep Lake Turkana's catch from rotting",
            "lang": "en",
            "source": "examples/pages/02-unlicensed-copy.html",
        },
        "dispatch": {"id": "afp-20261119-0058", "lang": "en", "title": "Solar cold rooms keep Lake Turkana's catch from rotting"},
        "match": {
            "kind": "copy",
            "score": 0.99,
            "coverage": 0.97,
            "passages": [
                {
                    "page_span": [0, 120],
                    "page_text": "LODWAR, Kenya, Nov 19, 2026 (AFP) - Fishermen on the western shore of Lake Turkana now land their catch straight into solar-powered cold rooms.",
                    "dispatch_span": [0, 120],
                    "dispatch_text": "LODWAR, Kenya, Nov 19, 2026 (AFP) - Fishermen on the western shore of Lake Turkana now land their catch straight into solar-powered cold rooms.",
                    "score": 1.0,
                }
            ],
        },
        "licence": None,
        "explanation": "Agence France-Presse content: reproduce not permitted for this site",
        "evidence": [
            {"kind": "dateline", "marker": None, "text": "LODWAR, Kenya, Nov 19, 2026 (AFP) -", "span": [0, 35], "zone": "main", "detail": "dateline credit '(AFP)' opening the article",
             "context": "LODWAR, Kenya, Nov 19, 2026 (AFP) - Fishermen on the western shore of Lake Turkana now land their catch."}
        ],
    }


def dpa_record() -> dict[str, Any]:
    """A dpa copy known from its closing credit only, waived by a suppression."""
    return {
        "id": "dddddddddddddddddddd",
        "audit_id": HEADER["audit_id"],
        "severity": "high",
        "confidence": 0.9,
        "level": "violation",
        "status": "open",
        "clause": {"id": "dpa-no-redistribution", "title": "No redistribution without dpa's permission", "agency": "dpa"},
        "actions": ["reproduce"],
        "page": {"url": "https://schlagzeilen-portal.example/wirtschaft/kesselring-4471", "domain": "schlagzeilen-portal.example",
                 "sha256": "1" * 64, "fetched_at": "2026-11-20T08:22:48Z", "title": "Brauerei insolvent", "lang": "de", "source": "p.txt"},
        "dispatch": None,
        "match": {"kind": "marker", "score": None, "coverage": None},
        "licence": None,
        "explanation": "dpa content: reproduce not permitted for this site",
        "evidence": [{"kind": "credit", "marker": None, "text": "(dpa)", "span": [900, 905], "zone": "main", "detail": "closing credit"}],
        "suppressed": {"reason": "licence being negotiated", "approver": "J. Counsel", "until": "2027-01-31", "by": "id", "pattern": None, "ticket": "LEGAL-12"},
    }


def hostile_record() -> dict[str, Any]:
    """Every page-derived field carries markup that would run if it reached the DOM."""
    record = copy.deepcopy(copy_record())
    record["id"] = "ffffffffffffffffffff"
    record["status"] = "new"
    record["page"].update(
        url=f"javascript:{PWN}='url'",
        domain='evil.example"><script>window.__pwned="domain"</script>',
        title=f'</title><script>{PWN}="title"</script>',
    )
    record["dispatch"]["title"] = f'<svg onload="{PWN}=\'svg\'"></svg>'
    record["clause"]["title"] = f'<iframe src="javascript:{PWN}=\'iframe\'"></iframe>'
    record["explanation"] = f'<img src=x onerror="{PWN}=\'explanation\'">'
    record["match"]["passages"][0]["page_text"] = f'Shore <script>{PWN}="passage"</script> (AFP) - cold rooms <img src=x onerror="{PWN}=1">'
    record["evidence"] = [
        {"kind": "notice", "marker": None, "text": f'<img src=x onerror="{PWN}=\'ev\'">', "span": [1, 2], "zone": "main",
         "detail": f'<a href="javascript:{PWN}=\'detail\'">x</a>',
         "context": f'Read <a href="javascript:{PWN}=\'context\'">more</a> <img src=x onerror="{PWN}=\'ev\'"> © AFP'}
    ]
    return record


def records() -> list[dict[str, Any]]:
    return [translation_record(), copy_record(), dpa_record()]


def command_group():  # type: ignore[no-untyped-def]
    """The main `compliance` group when it has the report commands registered, else a group
    holding them under the same names, so the CLI tests run either way."""
    import click

    from compliance.cli import cli
    from compliance.report.cli import notice_command, report_group, rules_test, suppress_command

    rules = cli.commands.get("rules")
    if (
        {"notice", "suppress", "report"} <= set(cli.commands)
        and isinstance(rules, click.Group)
        and "test" in rules.commands
    ):
        return cli
    group = click.Group("compliance")
    group.add_command(notice_command, "notice")
    group.add_command(suppress_command, "suppress")
    group.add_command(report_group, "report")
    rules_group = click.Group("rules")
    rules_group.add_command(rules_test, "test")
    group.add_command(rules_group, "rules")
    return group


def invoke(*args: str):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    return CliRunner().invoke(command_group(), list(args), catch_exceptions=False)
