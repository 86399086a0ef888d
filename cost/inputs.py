"""Read what will be deployed: synthesized stacks (cdk.tf.json) or `terraform show -json`
plans, from terraml or from any Terraform project.

Contract: `load_projects(path)` returns one `Project` per stack/plan or raises a one-line
`UserError` (file and what was expected) for unreadable or foreign JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import UserError
from cost.batch import batch

REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")
PROVIDER_CLOUD = {"aws": "aws", "google": "gcp", "google-beta": "gcp", "azurerm": "azure",
                  "azapi": "azure"}


@dataclass
class Resource:
    address: str  # e.g. aws_s3_bucket.raw, aws_s3_bucket.raw[0], aws_s3_bucket.raw["a"]
    type: str
    name: str
    values: dict[str, Any]
    assumption: str = ""  # stated in reports, e.g. a count the engine could not evaluate

    @property
    def cloud(self) -> str:
        return PROVIDER_CLOUD.get(self.type.split("_", 1)[0], "other")


@dataclass
class Project:
    name: str
    source: Path
    resources: list[Resource]
    regions: dict[str, str] = field(default_factory=dict)  # cloud -> default region
    usage: dict[str, Any] = field(default_factory=dict)  # terraml's own assumptions
    tags: dict[str, str] = field(default_factory=dict)  # provider default tags/labels
    guardrails: dict[str, Any] = field(default_factory=dict)  # recorded by terraml stacks
    workloads: list[dict[str, Any]] = field(default_factory=list)  # recorded by terraml stacks
    outputs: dict[str, Any] = field(default_factory=dict)  # known output values (plans)
    _index: dict[str, Resource] | None = field(default=None, repr=False)
    _by_attr: dict[tuple[str, str], dict[Any, Resource]] = field(default_factory=dict,
                                                                 repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # derived views, computed once

    def by_address(self) -> dict[str, Resource]:
        if self._index is None:
            self._index = {r.address: r for r in self.resources}
        return self._index

    def find(self, rtype: str, attribute: str, value: Any) -> Resource | None:
        """The `rtype` resource whose `attribute` equals `value` (indexed on first use)."""
        key = (rtype, attribute)
        if key not in self._by_attr:
            self._by_attr[key] = {r.values.get(attribute): r for r in self.resources
                                  if r.type == rtype and isinstance(r.values.get(attribute),
                                                                    (str, int))}
        return self._by_attr[key].get(value) if isinstance(value, (str, int)) else None

    def resolve(self, value: Any) -> Resource | None:
        """The resource a `${type.name.attr}` reference points at (synth JSON only)."""
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if not match:
            return None
        return self.by_address().get(f"{match.group(1)}.{match.group(2)}")


@batch
def load_projects(path: Path) -> list[Project]:
    """A cdktf.out folder, a stack folder, a cdk.tf.json, or a plan JSON file."""
    if path.is_dir():
        files = sorted(path.glob("stacks/*/cdk.tf.json")) or sorted(path.glob("cdk.tf.json"))
        if not files:
            raise UserError(f"{path}: expected a cdktf.out folder with stacks/*/cdk.tf.json, "
                            "found none (run `terraml synth` first)")
        return [_load_file(f) for f in files]
    return [_load_file(path)]


def _load_file(path: Path) -> Project:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise UserError(f"{path}: expected a JSON object (Terraform JSON or plan), "
                        f"found {type(document).__name__}")
    if "planned_values" in document or "resource_changes" in document:
        return _from_plan(path, document)
    if "resource" in document or "terraform" in document:
        return _from_synth(path, document)
    raise UserError(f"{path}: expected Terraform JSON (cdk.tf.json) or a `terraform show -json` "
                    "plan (planned_values / resource_changes), found neither")


def _objects(path: Path, where: str, value: Any) -> list[dict]:
    """Terraform JSON allows an object or an array of objects wherever a block goes."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise UserError(f"{path}: {where}: expected an object (or an array of objects), "
                    f"found {type(value).__name__}")


def _from_synth(path: Path, document: dict) -> Project:
    resources: list[Resource] = []
    for group in _objects(path, "resource", document.get("resource") or {}):
        for rtype, items in group.items():
            for named in _objects(path, f"resource.{rtype}", items):
                for name, bodies in named.items():
                    for values in _objects(path, f"resource.{rtype}.{name}", bodies):
                        resources += expand(path, rtype, name, values)
    regions, tags = {}, {}
    for group in _objects(path, "provider", document.get("provider") or {}):
        for provider, configs in group.items():
            configs = configs if isinstance(configs, list) else [configs]
            config = configs[0] if configs else {}
            if not isinstance(config, dict):
                continue
            cloud = PROVIDER_CLOUD.get(provider, provider)
            region = config.get("region") or config.get("location")
            if isinstance(region, str) and "${" not in region:
                regions.setdefault(cloud, region)
            for block in _objects(path, f"provider.{provider}.default_tags",
                                  config.get("default_tags") or []):
                tags.update(_mapping(block.get("tags")))
            tags.update(_mapping(config.get("default_labels")))
    meta = _mapping(_mapping(document.get("//")).get("terraml"))
    workloads = meta.get("workloads") if isinstance(meta.get("workloads"), list) else []
    name = path.parent.name if path.name == "cdk.tf.json" else path.stem
    return Project(name, path, resources, regions, _mapping(meta.get("usage")), tags,
                   _mapping(meta.get("guardrails")),
                   [w for w in workloads if isinstance(w, dict)])


def _mapping(value: Any) -> dict:
    """`value` when it is an object; {} for anything else (an expression, a comment string)."""
    return value if isinstance(value, dict) else {}


EXPRESSION = re.compile(r"\$\{([^{}]*)\}")
BINDABLE = re.compile(r"^(count\.index|each\.key|each\.value)((?:\.[A-Za-z0-9_-]+)*)$")


def expand(path: Path, rtype: str, name: str, values: dict) -> list[Resource]:
    """One `Resource` per instance: `count` and `for_each` over literals expand (with
    `count.index`, `each.key` and `each.value[.attr]` bound in the attributes); an expression the
    engine cannot evaluate gives one instance with a stated assumption. A negative or non-numeric
    literal count, or a for_each that is neither a map nor a set, is a one-line `UserError`."""
    where = f"{path}: resource.{rtype}.{name}"
    address = f"{rtype}.{name}"
    if "count" in values and "for_each" in values:
        raise UserError(f"{where}: count and for_each: expected one of them, found both")
    if "count" in values:
        count = values["count"]
        if _is_expression(count):
            return [Resource(address, rtype, name, values, assumption=(
                f"count is an expression ({count}): priced as one instance"))]
        number = _whole_number(count)
        if number is None or number < 0:
            raise UserError(f"{where}: count: expected a whole number >= 0 or an expression, "
                            f"found {count!r}")
        return [Resource(f"{address}[{i}]", rtype, name, _bind(values, {"count.index": i}))
                for i in range(number)]
    if "for_each" in values:
        each = values["for_each"]
        if _is_expression(each):
            return [Resource(address, rtype, name, values, assumption=(
                f"for_each is an expression ({each}): priced as one instance"))]
        if isinstance(each, dict):
            pairs = list(each.items())
        elif isinstance(each, list) and all(isinstance(k, (str, int, float)) and
                                            not isinstance(k, bool) for k in each):
            pairs = [(str(k), str(k)) for k in dict.fromkeys(each)]
        else:
            raise UserError(f"{where}: for_each: expected a map, a set of strings or an "
                            f"expression, found {each!r}")
        return [Resource(f'{address}["{key}"]', rtype, name,
                         _bind(values, {"each.key": key, "each.value": value}))
                for key, value in pairs]
    return [Resource(address, rtype, name, values)]


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    return None


def _bind(value: Any, names: dict[str, Any]) -> Any:
    """`value` with `${count.index}`, `${each.key}`, `${each.value[.attr...]}` replaced."""
    if isinstance(value, dict):
        return {k: _bind(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_bind(v, names) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = EXPRESSION.fullmatch(value)
    if whole:
        found, resolved = _resolve(whole.group(1).strip(), names)
        return resolved if found else value

    def scalar(match: re.Match) -> str:
        found, resolved = _resolve(match.group(1).strip(), names)
        return str(resolved) if found and isinstance(resolved, (str, int, float)) \
            else match.group(0)
    return EXPRESSION.sub(scalar, value)


def _resolve(expression: str, names: dict[str, Any]) -> tuple[bool, Any]:
    match = BINDABLE.match(expression)
    if not match or match.group(1) not in names:
        return False, None
    value = names[match.group(1)]
    for part in filter(None, match.group(2).split(".")):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _from_plan(path: Path, document: dict) -> Project:
    planned = (document.get("planned_values") or {}).get("root_module")
    if planned is None and "resource_changes" in document:
        resources = []
        for change in _objects(path, "resource_changes", document["resource_changes"]):
            if "type" not in change or "address" not in change:
                raise UserError(f"{path}: resource_changes: expected entries with an address "
                                "and a type")
            after = (change.get("change") or {})
            if change.get("mode", "managed") == "managed" and \
                    "delete" != (after.get("actions") or [""])[-1]:
                resources.append(Resource(change["address"], change["type"],
                                          change.get("name", ""), after.get("after") or {}))
    else:
        resources = []
        _walk_module(path, planned or {}, resources)
    regions = {}
    config = (document.get("configuration") or {}).get("provider_config") or {}
    for key, provider in config.items():
        region = ((provider.get("expressions") or {}).get("region") or {}).get("constant_value")
        if region:
            regions.setdefault(PROVIDER_CLOUD.get(provider.get("name", key), key), region)
    outputs = {name: item.get("value") for name, item in
               ((document.get("planned_values") or {}).get("outputs") or {}).items()
               if isinstance(item, dict) and "value" in item}
    return Project(path.stem, path, resources, regions, outputs=outputs)


def _walk_module(path: Path, module: dict, out: list[Resource]) -> None:
    for item in module.get("resources") or []:
        if not isinstance(item, dict) or "type" not in item:
            raise UserError(f"{path}: planned_values: expected resources with a type")
        if item.get("mode", "managed") == "managed":
            out.append(Resource(item.get("address", f"{item['type']}.{item.get('name')}"),
                                item["type"], item.get("name", ""), item.get("values") or {}))
    for child in module.get("child_modules") or []:
        _walk_module(path, child, out)
