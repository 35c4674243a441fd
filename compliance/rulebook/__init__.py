"""Load, validate and query the rulebook (agencies, licensees, policy, suppressions)."""

from __future__ import annotations

import difflib
import hashlib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .loader import Marks, Problem, RulebookError, load_yaml
from .schema import (
    Agency,
    Clause,
    Licence,
    Licensee,
    Policy,
    RuleFile,
    Suppression,
    json_schema,
)

__all__ = [
    "Agency",
    "Clause",
    "Licence",
    "Licensee",
    "Policy",
    "Problem",
    "Rulebook",
    "RulebookError",
    "Suppression",
    "default_rules_dir",
    "json_schema",
    "load_rulebook",
]

YAML_SUFFIXES = (".yaml", ".yml")


def default_rules_dir() -> Path:
    """The rulebook used when none is named: $COMPLIANCE_RULES, ./rules, or the bundled one."""
    env = os.environ.get("COMPLIANCE_RULES")
    if env:
        return Path(env)
    local = Path("rules")
    if local.is_dir() and any(local.rglob("*.yaml")):
        return local
    return Path(__file__).resolve().parent.parent.parent / "rules"


@dataclass(frozen=True)
class Rulebook:
    """A validated rulebook, indexed for the lookups judgement needs."""

    agencies: dict[str, Agency]
    licensees: dict[str, Licensee]
    policy: Policy
    suppressions: tuple[Suppression, ...]
    files: tuple[str, ...]
    digest: str
    _domain_owner: dict[str, str] = field(default_factory=dict, repr=False)

    def agency_owning(self, domain: str | None) -> Agency | None:
        """The agency whose own site `domain` is (subdomains included)."""
        for candidate in _domain_and_parents(domain):
            owner = self._domain_owner.get(candidate)
            if owner:
                return self.agencies[owner]
        return None

    def licensees_for(self, domain: str | None) -> list[Licensee]:
        """Licensees whose registered domains cover `domain` (subdomains included)."""
        names = set(_domain_and_parents(domain))
        return [lic for lic in self.licensees.values() if names & {d.lower() for d in lic.domains}]

    def licences_for(self, domain: str | None, agency: str) -> list[tuple[Licensee, Licence]]:
        """Every licence of `agency`'s content held for `domain`, current or not."""
        lineage = set(self.lineage(agency))
        return [
            (licensee, licence)
            for licensee in self.licensees_for(domain)
            for licence in licensee.licences
            if licence.agency in lineage
        ]

    def lineage(self, agency: str) -> list[str]:
        """The agency and its parents (a licence for dpa covers dpa-AFX)."""
        chain: list[str] = []
        current: str | None = agency
        while current and current not in chain and current in self.agencies:
            chain.append(current)
            current = self.agencies[current].part_of
        return chain


def _domain_and_parents(domain: str | None) -> list[str]:
    if not domain:
        return []
    parts = domain.lower().strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


def rule_files(path: Path) -> list[Path]:
    """The YAML files of a rulebook folder (or the one file named), in a stable order."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def load_rulebook(path: Path | str | None = None) -> Rulebook:
    """Load and validate every rule file under `path`; raise RulebookError listing all problems."""
    root = Path(path) if path is not None else default_rules_dir()
    if not root.exists():
        raise RulebookError([Problem(str(root), 1, 1, "no such rulebook file or folder")])
    files = rule_files(root)
    if not files:
        raise RulebookError([Problem(str(root), 1, 1, "no .yaml files in the rulebook folder")])
    problems: list[Problem] = []
    parsed: list[tuple[RuleFile, Marks]] = []
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
        data, marks, found = load_yaml(file)
        problems.extend(found)
        if found or data is None:
            continue
        if not isinstance(data, dict):
            problems.append(
                marks.problem(
                    (),
                    "a rule file must be a mapping with any of "
                    "'agencies', 'licensees', 'policy', 'suppressions'",
                )
            )
            continue
        try:
            parsed.append((RuleFile.model_validate(data), marks))
        except ValidationError as exc:
            problems.extend(_problems_from_validation(exc, marks))
    problems.extend(_cross_check(parsed))
    if problems:
        raise RulebookError(problems)
    return _assemble(parsed, tuple(str(f) for f in files), digest.hexdigest())


def _assemble(
    parsed: list[tuple[RuleFile, Marks]], files: tuple[str, ...], digest: str
) -> Rulebook:
    agencies = {a.id: a for rf, _ in parsed for a in rf.agencies}
    licensees = {lic.id: lic for rf, _ in parsed for lic in rf.licensees}
    policies = [rf.policy for rf, _ in parsed if rf.policy is not None]
    owner = {d.lower(): a.id for a in agencies.values() for d in a.own_domains}
    return Rulebook(
        agencies=agencies,
        licensees=licensees,
        policy=policies[0] if policies else Policy(),
        suppressions=tuple(s for rf, _ in parsed for s in rf.suppressions),
        files=files,
        digest=digest,
        _domain_owner=owner,
    )


def _cross_check(parsed: list[tuple[RuleFile, Marks]]) -> list[Problem]:
    """Checks that span files: unique ids, references to agencies, one policy."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}

    def claim(ident: str, marks: Marks, loc: tuple[str | int, ...]) -> None:
        line, _ = marks.at(loc)
        here = f"{marks.file}:{line}"
        if ident in seen:
            problems.append(
                marks.problem(loc, f"duplicate id {ident!r} (first defined at {seen[ident]})")
            )
        else:
            seen[ident] = here

    agency_ids = {a.id for rf, _ in parsed for a in rf.agencies}
    policy_at: str | None = None
    for rf, marks in parsed:
        for i, agency in enumerate(rf.agencies):
            claim(agency.id, marks, ("agencies", i, "id"))
            for j, marker in enumerate(agency.markers):
                claim(marker.id, marks, ("agencies", i, "markers", j, "id"))
            for j, clause in enumerate(agency.clauses):
                claim(clause.id, marks, ("agencies", i, "clauses", j, "id"))
            if agency.part_of and agency.part_of not in agency_ids:
                problems.append(
                    marks.problem(
                        ("agencies", i, "part_of"),
                        f"part_of names unknown agency {agency.part_of!r}",
                    )
                )
            for j, domain in enumerate(agency.own_domains):
                if not _looks_like_domain(domain):
                    problems.append(
                        marks.problem(
                            ("agencies", i, "own_domains", j),
                            f"{domain!r} is not a bare domain like 'afp.com'",
                        )
                    )
        for i, licensee in enumerate(rf.licensees):
            claim(licensee.id, marks, ("licensees", i, "id"))
            for j, domain in enumerate(licensee.domains):
                if not _looks_like_domain(domain):
                    problems.append(
                        marks.problem(
                            ("licensees", i, "domains", j),
                            f"{domain!r} is not a bare domain like 'dhnet.be'",
                        )
                    )
            for j, licence in enumerate(licensee.licences):
                if licence.agency not in agency_ids:
                    hint = difflib.get_close_matches(licence.agency, sorted(agency_ids), n=1)
                    more = f"; did you mean {hint[0]!r}?" if hint else ""
                    problems.append(
                        marks.problem(
                            ("licensees", i, "licences", j, "agency"),
                            f"licence names unknown agency {licence.agency!r}{more}",
                        )
                    )
        if rf.policy is not None:
            line, _ = marks.at(("policy",))
            if policy_at:
                problems.append(
                    marks.problem(("policy",), f"second 'policy' (first at {policy_at})")
                )
            else:
                policy_at = f"{marks.file}:{line}"
    return problems


def _looks_like_domain(value: str) -> bool:
    return (
        "." in value
        and "/" not in value
        and ":" not in value
        and value == value.lower()
        and not value.startswith(".")
    )


def _problems_from_validation(exc: ValidationError, marks: Marks) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _fields_at(RuleFile, loc[:-1])
            hint = difflib.get_close_matches(key, allowed, n=1)
            message = f"unknown key {key!r}"
            message += (
                f"; did you mean {hint[0]!r}?" if hint else f" (allowed: {', '.join(allowed)})"
            )
        else:
            message = error["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            if error["type"] == "missing":
                message = f"missing required key {loc[-1]!r}"
                loc = loc[:-1]
            elif loc and (isinstance(loc[-1], str) or error["type"] != "value_error"):
                message = f"{_field_path(loc)}: {message}"
        problems.append(marks.problem(loc, message))
    return problems


def _field_path(loc: tuple[str | int, ...]) -> str:
    """The tail of `loc` from its last field name: ('agencies', 0, 'credits', 2) → 'credits[2]'."""
    tail: list[str] = []
    for part in reversed(loc):
        if isinstance(part, int):
            tail.insert(0, f"[{part}]")
        else:
            tail.insert(0, str(part))
            break
    return "".join(tail)


def _fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model found by walking `loc` down from `model`."""
    current: object = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            return []
        current = _inner_model(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def _inner_model(annotation: object) -> object:
    """The BaseModel inside list[...] / Optional[...] annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
