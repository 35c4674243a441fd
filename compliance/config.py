"""compliance.toml: settings that keep a crontab line short, and cron-friendly output.

The file is looked up at `--config PATH`, else $COMPLIANCE_CONFIG, else
./compliance.toml, else $XDG_CONFIG_HOME/compliance/compliance.toml. Its top
level holds `audit` options by their long names (`db`, `out`, `rules`,
`fail_on`, `sitemaps`, …) plus a few settings that have no option
(`evidence_dir`, `resolve_missing`, `since_hours`, `discover_limit`,
`wait_timeout`); `[fetch]` holds the fetcher's politeness and safety knobs.
Options given on the command line win over the file. Relative paths in the
file are relative to the file, so cron can run from anywhere.

Output: a progress bar only when stderr is a terminal (never under cron),
logs as text or as one JSON object per line (`--log-format json`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ingest.fetch import FetchSettings

CONFIG_NAME = "compliance.toml"

# config key -> `compliance audit` parameter name (click's default_map uses the latter)
OPTION_KEYS = {
    "db": "db",
    "out": "out_dir",
    "rules": "rules_dir",
    "format": "formats",
    "fail_on": "fail_on",
    "max_error_ratio": "max_error_ratio",
    "max_bytes": "max_bytes",
    "quiet": "quiet",
    "wait": "wait",
    "urls": "urls",
    "sitemaps": "sitemaps",
    "feeds": "feeds",
    "allow_private": "allow_private",
    "log_format": "log_format",
    "manifest": "manifest",
    "index": "index_path",
    "workers": "workers",
}
PATH_KEYS = ("db", "out", "rules", "urls", "manifest", "evidence_dir", "index")
EXTRA_KEYS = {
    "evidence_dir": (str, None),
    "resolve_missing": (bool, False),
    "since_hours": ((int, float), 48),
    "discover_limit": (int, 500),
    "wait_timeout": ((int, float), None),
}


class ConfigError(Exception):
    """The config file is unreadable or names unknown settings: fatal, exit status 2."""


@dataclass(frozen=True)
class Config:
    """What a config file says (empty when there is none)."""

    path: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)  # audit parameters by name
    evidence_dir: Path | None = None
    resolve_missing: bool = False
    since_hours: float = 48
    discover_limit: int = 500
    wait_timeout: float | None = None  # --wait waits this long at most (None: no limit)
    fetch: FetchSettings = field(default_factory=FetchSettings)


def find_config(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    env = os.environ.get("COMPLIANCE_CONFIG")
    if env:
        return Path(env)
    local = Path(CONFIG_NAME)
    if local.is_file():
        return local
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "compliance" / CONFIG_NAME
    return user if user.is_file() else None


def load_config(explicit: Path | None = None) -> Config:
    path = find_config(explicit)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    base = path.resolve().parent
    fetch_data = data.pop("fetch", {})
    unknown = sorted(set(data) - set(OPTION_KEYS) - set(EXTRA_KEYS))
    if unknown:
        known = ", ".join(sorted({*OPTION_KEYS, *EXTRA_KEYS, "[fetch]"}))
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}; known: {known}")
    values = {}
    for key, value in data.items():
        if key in PATH_KEYS and isinstance(value, str) and "://" not in value:
            value = str(base / Path(value).expanduser())
        if key == "format" and isinstance(value, list):
            value = ",".join(value)
        values[key] = value
    extras: dict[str, Any] = {}
    for key, (kind, _default) in EXTRA_KEYS.items():
        if key in values:
            value = values.pop(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ConfigError(f"{path}: {key} has the wrong type ({value!r})")
            extras[key] = value
    if "evidence_dir" in extras:
        extras["evidence_dir"] = Path(extras["evidence_dir"])
    return Config(
        path=path,
        options={OPTION_KEYS[k]: v for k, v in values.items()},
        fetch=_fetch_settings(fetch_data, path),
        **extras,
    )


def _fetch_settings(data: Any, path: Path) -> FetchSettings:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [fetch] must be a table")
    fields = {f.name: f for f in dataclasses.fields(FetchSettings)}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{path}: unknown [fetch] setting {key!r}; known: "
                              f"{', '.join(sorted(fields))}")
        expected = type(getattr(FetchSettings(), key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if not isinstance(value, expected):
            raise ConfigError(f"{path}: [fetch] {key} should be a {expected.__name__}")
    return FetchSettings(**data)


def since(config: Config, now: dt.datetime) -> dt.datetime:
    """Discovery window: articles published in the last `since_hours`."""
    return now - dt.timedelta(hours=config.since_hours)


# --- output for people and for cron -------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for log shippers, grep and jq."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            entry.update(extra)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str, quiet: bool) -> None:
    """Warnings (and, unless quiet, progress notes) of every compliance module, on stderr."""
    logger = logging.getLogger("compliance")
    for handler in list(logger.handlers):
        if getattr(handler, "_compliance", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._compliance = True  # type: ignore[attr-defined]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("compliance: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A rich progress display on a terminal; elsewhere (cron, pipes, CI) nothing at all."""
    if not enabled or not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        yield lambda _kind: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    counts: dict[str, int] = {}
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("auditing", total=None)

        def tick(kind: str) -> None:
            counts[kind] = counts.get(kind, 0) + 1
            shown = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            bar.update(task, description=f"auditing: {shown}")

        yield tick


def log_outcome(outcome: Any) -> None:
    """The audit's summary as one structured log line (for --log-format json)."""
    stats = outcome.stats
    data = {
        "event": "audit.finished",
        "audit_id": outcome.audit_id,
        "exit_status": outcome.exit_status,
        "pages": stats.pages,
        "errors": stats.errors,
        "violations": stats.violations,
        "notes": stats.notes,
        "suppressed": getattr(stats, "suppressed", 0),
        "written": [str(p) for p in outcome.written],
    }
    data.update(getattr(outcome, "lifecycle", None) or {})
    logging.getLogger("compliance.audit").info(
        "audit %s finished", outcome.audit_id, extra={"data": data}
    )
