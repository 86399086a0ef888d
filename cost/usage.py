"""Infracost-compatible usage files (`resource_usage`, `resource_type_default_usage`,
`[*]` wildcards in addresses). Validated on load; errors name the file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.errors import UserError


def load_usage(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: usage file not found") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        raise UserError(f"{path}:{line}: invalid YAML in usage file") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with resource_usage / "
                        "resource_type_default_usage, found " + type(data).__name__)
    unknown = sorted(set(data) - {"version", "resource_usage", "resource_type_default_usage"})
    if unknown:
        raise UserError(f"{path}: {unknown[0]}: unknown key (expected version, resource_usage, "
                        "resource_type_default_usage)")
    for section in ("resource_usage", "resource_type_default_usage"):
        block = data.get(section) or {}
        if not isinstance(block, dict):
            raise UserError(f"{path}: {section}: expected a mapping of address -> usage")
        for address, values in block.items():
            if not isinstance(values, dict):
                raise UserError(f"{path}: {section}.{address}: expected a mapping of usage keys")
            _check_values(path, f"{section}.{address}", values)
    return data


# Usage keys whose value is a name, not a quantity (Infracost's and terraml's pricers).
TEXT_KEYS = {"machine_type", "accelerator_type", "instance_type", "storage_class", "os",
             "operating_system", "tier", "sku", "protocol", "in_use_by"}


def _check_values(path: Path, where: str, values: dict) -> None:
    """Usage values: numbers >= 0; strings for the keys that name things (`machine_type`);
    nested mappings of them (Infracost's `standard: {storage_gb: 100}`)."""
    for key, value in values.items():
        if isinstance(value, dict):
            _check_values(path, f"{where}.{key}", value)
        elif key in TEXT_KEYS:
            if not isinstance(value, str) or not value.strip():
                raise UserError(f"{path}: {where}.{key}: expected a name (string), "
                                f"found {value!r}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not 0 <= value < float("inf"):
            raise UserError(f"{path}: {where}.{key}: expected a number >= 0, found {value!r}")
