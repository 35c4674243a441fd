"""The rulebook's shape, as pydantic models.

Every model forbids unknown keys so a typo (`permit:` for `permits:`) is an
error, not a silently ignored rule. The same models export the JSON Schema
that editors use to check rule files as they are typed.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import threading
from typing import Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Action = Literal[
    "reproduce",
    "translate",
    "modify",
    "attribute",
    "archive",
    "commercialize",
    "publish_before_embargo",
    "keep_killed",
]
"""ODRL/RightsML-style actions; `attribute` is a duty, the others acts a licence may permit."""

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

MarkerKind = Literal["dateline", "credit", "byline", "source", "notice", "metadata"]

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
# Page text is hostile: marker regexes are tried on shapes that make bad patterns explode.
PROBE_SECONDS = 0.05
BACKTRACKING_PROBES = tuple(
    unit * count + tail
    for unit, count, tail in [
        ("a", 60, "!"), ("ab", 40, "!"), ("a ", 60, "!"), ("1", 60, "x"), ("AFP ", 40, "("),
        ("(", 200, ""), (" ", 500, "x"), ("é", 60, "!"), ("a.", 60, " "),
    ]
)
LANG_PATTERN = r"^[a-z]{2,3}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Marker(Strict):
    """A form in which an agency's content shows itself on a page.

    `kind` says where on the page the form must sit for it to count: a
    `dateline` opens one of the first paragraphs, a `credit` sits in a
    dateline or closing slot or alone on a short line, a `byline` in an
    author/byline element or a short line, a `source` on a short source line,
    a `notice` anywhere in visible text outside captions, `metadata` in page
    metadata only. A bare substring never counts.
    """

    id: str = Field(pattern=ID_PATTERN)
    kind: MarkerKind
    regex: str | None = Field(default=None, description="Python regular expression")
    text: str | None = Field(
        default=None, description="literal phrase; case and white space are ignored"
    )
    lang: str | None = Field(default=None, pattern=LANG_PATTERN)
    translated_from: str | None = Field(
        default=None,
        pattern=LANG_PATTERN,
        description="this form is a translation of the agency's notice from that language; "
        "finding it on a page is evidence the text was translated",
    )
    ignore_case: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _one_pattern(self) -> Marker:
        if (self.regex is None) == (self.text is None):
            raise ValueError("a marker needs exactly one of 'regex' or 'text'")
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from None
            slow = _explodes(compiled)
            if slow is not None:
                raise ValueError(
                    f"backtracks catastrophically (over {PROBE_SECONDS * 1000:.0f} ms on a "
                    f"{slow}-character probe); avoid nested or overlapping quantifiers such "
                    "as (a|aa)+ or (x+)+"
                )
        return value


class _ProbeTimeout(BaseException):
    pass


def _explodes(compiled: re.Pattern[str]) -> int | None:
    """Length of the first probe the pattern cannot finish in PROBE_SECONDS, or None.

    Markers run on Python's `re`, which cannot be interrupted; on the main thread the
    probes run under an interval timer, elsewhere under the `regex` engine's timeout.
    """
    if threading.current_thread() is not threading.main_thread():
        twin = regex.compile(compiled.pattern, regex.VERSION0 | (compiled.flags & re.IGNORECASE))
        for probe in BACKTRACKING_PROBES:
            try:
                twin.search(probe, timeout=PROBE_SECONDS)
            except TimeoutError:
                return len(probe)
        return None

    def expire(signum: int, frame: object) -> None:
        raise _ProbeTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        for probe in BACKTRACKING_PROBES:
            try:
                signal.setitimer(signal.ITIMER_REAL, PROBE_SECONDS)
                compiled.search(probe)
            except _ProbeTimeout:
                return len(probe)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return None


class Clause(Strict):
    """One term of an agency's conditions: actions it prohibits or duties it requires."""

    id: str = Field(pattern=ID_PATTERN)
    title: str | None = None
    prohibits: list[Action] = []
    requires: list[Literal["attribute"]] = []
    severity: Severity = "medium"
    terms_url: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _does_something(self) -> Clause:
        if not self.prohibits and not self.requires:
            raise ValueError("a clause must list 'prohibits' or 'requires'")
        return self


class Claimant(Strict):
    """Who speaks for the rights holder in a takedown notice.

    A value in square brackets ("[e-mail of the legal department]") is a
    placeholder: notices drafted with it are flagged as not ready to send.
    """

    rights_holder: str
    agent: str | None = Field(
        default=None, description="person or firm authorised to act for the rights holder"
    )
    signatory: str | None = Field(
        default=None, description="the individual who signs; defaults to 'agent'"
    )
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    contact_url: str | None = Field(default=None, description="public contact page")
    notes: str | None = None


class Agency(Strict):
    """A news agency: its names, how its credits look, its own sites, its terms."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    aliases: list[str] = Field(
        default=[], description="names used in running text (for mentions and source lines)"
    )
    credits: list[str] = Field(
        default=[],
        description="exact forms used inside credit slots: '(AFP)', 'Quelle: dpa', "
        "'By … | AP', '(FR mit dpa)'; matched case-sensitively",
    )
    own_domains: list[str] = []
    languages: list[str] = []
    markers: list[Marker] = []
    terms_url: str | None = None
    clauses: list[Clause] = []
    claimant: Claimant | None = None
    generic: bool = Field(
        default=False, description="stands for an unnamed agency ('Agenturen', 'wire services')"
    )
    part_of: str | None = Field(default=None, description="id of the parent agency, if any")
    notes: str | None = None

    @field_validator("languages")
    @classmethod
    def _langs(cls, value: list[str]) -> list[str]:
        for lang in value:
            if not re.fullmatch(LANG_PATTERN, lang):
                raise ValueError(f"not a language code: {lang!r} (use ISO 639-1, e.g. 'fr')")
        return value


class Licence(Strict):
    """What one licensee may do with one agency's content."""

    agency: str
    permits: list[Action]
    languages: list[str] = Field(
        default=[], description="languages the content may be published in; empty means any"
    )
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    retention_days: int | None = Field(default=None, gt=0)
    attribution: Literal["required", "optional"] = "required"
    contract: str | None = Field(default=None, description="the contract this entry relies on")
    notes: str | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Licence:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


class Licensee(Strict):
    """A site group holding licences; its registered domains include their subdomains."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    domains: list[str]
    languages: list[str] = Field(default=[], description="languages its sites publish in")
    licences: list[Licence] = []
    example: bool = Field(default=False, description="illustrative entry, not a real contract")
    notes: str | None = None


class Policy(Strict):
    """Rulebook-wide settings."""

    quotation_max_words: int = Field(default=40, ge=0)
    report_threshold: float = Field(default=0.6, ge=0.0, le=1.0)


class Suppression(Strict):
    """A reviewed decision to stop reporting a finding (kept visible, never counted)."""

    id: str | None = Field(default=None, description="finding id")
    url_pattern: str | None = Field(default=None, description="glob on the page URL")
    clause: str | None = Field(
        default=None, description="clause id (or agency id) it is limited to"
    )
    reason: str
    approver: str
    until: dt.date | None = Field(default=None, description="last day it applies")
    ticket: str | None = Field(default=None, description="review ticket or contract reference")
    added: dt.date | None = None

    @model_validator(mode="after")
    def _targets_something(self) -> Suppression:
        if not self.id and not self.url_pattern:
            raise ValueError("a suppression needs 'id' or 'url_pattern'")
        return self


class RuleFile(Strict):
    """One YAML file of the rulebook; any of the top-level keys may be present."""

    agencies: list[Agency] = []
    licensees: list[Licensee] = []
    policy: Policy | None = None
    suppressions: list[Suppression] = []


def json_schema() -> dict[str, object]:
    """JSON Schema for a rule file, for editors (yaml-language-server) and CI."""
    schema = RuleFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "compliance rulebook file"
    return schema
