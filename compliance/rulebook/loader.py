"""Read rulebook YAML keeping the line and column of every key and value.

PyYAML's composer gives nodes with marks; we build plain Python values from
them ourselves so that duplicate keys, unsupported tags and alias bombs are
reported as `file:line:col: message` instead of passing silently. Only the
safe constructors are used: a `!!python/...` tag is an error, never code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]
MAX_NODES = 200_000  # guards alias-expansion ("billion laughs") bombs
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a rule file, where it is, and what to do."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class RulebookError(Exception):
    """The rulebook is unusable; carries every problem found, sorted by place."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Marks:
    """Positions of values in one file, keyed by their path from the document root."""

    file: str
    positions: dict[Loc, tuple[int, int]]

    def at(self, loc: Loc) -> tuple[int, int]:
        """Position of `loc`, or of its nearest ancestor that exists in the file."""
        for cut in range(len(loc), -1, -1):
            pos = self.positions.get(tuple(loc[:cut]))
            if pos is not None:
                return pos
        return (1, 1)

    def problem(self, loc: Loc, message: str) -> Problem:
        line, col = self.at(loc)
        return Problem(self.file, line, col, message)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.positions: dict[Loc, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def _where(self, node: yaml.Node) -> tuple[int, int]:
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def _problem(self, node: yaml.Node, message: str) -> None:
        line, col = self._where(node)
        self.problems.append(Problem(self.file, line, col, message))

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self._problem(
                    node,
                    f"document expands to more than {MAX_NODES} values "
                    "(alias bomb?); remove the anchors/aliases",
                )
            return None
        self.positions.setdefault(loc, self._where(node))
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            self._problem(node, f"unsupported YAML tag {node.tag!r}; rule files hold plain data")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag not in yaml.SafeLoader.yaml_constructors:
            self._problem(node, f"unsupported YAML tag {node.tag!r}; rule files hold plain data")
            return None
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:
            self._problem(node, f"invalid value {node.value!r}: {exc}")
            return None

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(key_node, "merge keys ('<<') are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, "keys must be plain scalars")
                continue
            key = self._scalar(key_node)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                self._problem(key_node, f"duplicate key {key!r} (first at line {first_seen[key]})")
                continue
            first_seen[key] = line
            self.positions[(*loc, key)] = self._where(key_node)
            result[key] = self.build(value_node, (*loc, key))
        return result


def load_yaml(path: Path, display: str | None = None) -> tuple[Any, Marks, list[Problem]]:
    """Parse one YAML file into plain data plus the position of every value."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, Marks(name, {}), [Problem(name, 1, 1, f"not UTF-8 text: {exc}")]
    except OSError as exc:
        return None, Marks(name, {}), [Problem(name, 1, 1, f"cannot read: {exc.strerror}")]
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        return None, Marks(name, {}), [Problem(name, line, col, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, Marks(name, {}), [Problem(name, 1, 1, f"YAML error: {exc}")]
    documents = [d for d in documents if d is not None]
    if len(documents) > 1:
        line = documents[1].start_mark.line + 1
        return (
            None,
            Marks(name, {}),
            [Problem(name, line, 1, "more than one YAML document; keep one per file")],
        )
    if not documents:
        return {}, Marks(name, {(): (1, 1)}), []
    builder = _Builder(name)
    data = builder.build(documents[0], ())
    return data, Marks(name, builder.positions), builder.problems
