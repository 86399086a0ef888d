"""Load YAML into plain Python data while remembering where each value came from.

`load_with_lines(path)` returns `(data, lines)` where `lines` maps a key path
(a tuple of mapping keys and list indexes) to the 1-based line it was written on.
Pydantic's error locations are the same kind of tuple, so a validation error can
be reported as `file:line: field.path: ...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.errors import UserError

LinePath = tuple[str | int, ...]


def load_with_lines(path: Path) -> tuple[Any, dict[LinePath, int]]:
    """Parse `path`; raise `UserError` (one line) on unreadable or malformed YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read file: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise UserError(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}:1: invalid YAML: {exc}") from None
    if node is None:
        raise UserError(f"{path}:1: (root): expected a mapping of settings, found an empty file")
    lines: dict[LinePath, int] = {}
    data = _to_python(node, (), lines, path)
    return data, lines


def _to_python(node: yaml.Node, where: LinePath, lines: dict[LinePath, int], path: Path) -> Any:
    lines[where] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, path)
            if isinstance(key, (dict, list)) or key is None:
                raise UserError(
                    f"{path}:{key_node.start_mark.line + 1}: {_dotted(where) or '(root)'}: "
                    "expected a plain key, found a complex or empty key"
                )
            key = str(key)
            if key in result:
                raise UserError(
                    f"{path}:{key_node.start_mark.line + 1}: {_dotted((*where, key))}: "
                    "duplicate key (each setting may appear once)"
                )
            child = (*where, key)
            result[key] = _to_python(value_node, child, lines, path)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*where, i), lines, path) for i, item in enumerate(node.value)]
    return _scalar(node, path)


_CONSTRUCTOR = yaml.SafeLoader("")


def _scalar(node: yaml.Node, path: Path) -> Any:
    """Construct a scalar with YAML 1.1 safe rules (ints, floats, bools, null, str)."""
    if not isinstance(node, yaml.ScalarNode):
        return {} if isinstance(node, yaml.MappingNode) else []
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise UserError(f"{path}:{node.start_mark.line + 1}: invalid YAML value: {exc}") from None


def _dotted(where: LinePath) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def dotted(where: LinePath) -> str:
    """Render a key path as `a.b[0].c` (the form used in error messages)."""
    return _dotted(where)


def nearest_line(where: LinePath, lines: dict[LinePath, int]) -> int:
    """The line of `where`, or of its closest written ancestor (for missing keys)."""
    probe = tuple(where)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get((), 1)
