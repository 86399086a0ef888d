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

from terraml.errors import UserError

REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")
PROVIDER_CLOUD = {"aws": "aws", "google": "gcp", "google-beta": "gcp", "azurerm": "azure",
                  "azapi": "azure"}


@dataclass
class Resource:
    address: str  # e.g. aws_s3_bucket.data_bucket-raw_A1B2
    type: str
    name: str
    values: dict[str, Any]
    count: int = 1

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
    _index: dict[str, Resource] | None = field(default=None, repr=False)
    _by_attr: dict[tuple[str, str], dict[Any, Resource]] = field(default_factory=dict,
                                                                 repr=False)

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


def _from_synth(path: Path, document: dict) -> Project:
    resources = []
    for rtype, items in (document.get("resource") or {}).items():
        if not isinstance(items, dict):
            raise UserError(f"{path}: resource.{rtype}: expected an object of resources")
        for name, values in items.items():
            if not isinstance(values, dict):
                raise UserError(f"{path}: resource.{rtype}.{name}: expected an object")
            count = values.get("count", 1)
            resources.append(Resource(f"{rtype}.{name}", rtype, name, values,
                                      count if isinstance(count, int) else 1))
    regions, tags = {}, {}
    for provider, configs in (document.get("provider") or {}).items():
        config = configs[0] if isinstance(configs, list) and configs else configs
        if isinstance(config, dict):
            cloud = PROVIDER_CLOUD.get(provider, provider)
            if config.get("region") or config.get("location"):
                regions.setdefault(cloud, config.get("region") or config.get("location"))
            for block in config.get("default_tags") or []:
                tags.update(block.get("tags") or {})
            tags.update(config.get("default_labels") or {})
    meta = (document.get("//") or {}).get("terraml") or {}
    name = path.parent.name if path.name == "cdk.tf.json" else path.stem
    return Project(name, path, resources, regions, meta.get("usage", {}), tags,
                   meta.get("guardrails", {}))


def _from_plan(path: Path, document: dict) -> Project:
    planned = (document.get("planned_values") or {}).get("root_module")
    if planned is None and "resource_changes" in document:
        resources = [Resource(c["address"], c["type"], c["name"],
                              (c.get("change") or {}).get("after") or {})
                     for c in document["resource_changes"]
                     if c.get("mode", "managed") == "managed"
                     and "delete" != ((c.get("change") or {}).get("actions") or [""])[-1]]
    else:
        resources = []
        _walk_module(path, planned or {}, resources)
    regions = {}
    config = (document.get("configuration") or {}).get("provider_config") or {}
    for key, provider in config.items():
        region = ((provider.get("expressions") or {}).get("region") or {}).get("constant_value")
        if region:
            regions.setdefault(PROVIDER_CLOUD.get(provider.get("name", key), key), region)
    return Project(path.stem, path, resources, regions)


def _walk_module(path: Path, module: dict, out: list[Resource]) -> None:
    for item in module.get("resources") or []:
        if not isinstance(item, dict) or "type" not in item:
            raise UserError(f"{path}: planned_values: expected resources with a type")
        if item.get("mode", "managed") == "managed":
            out.append(Resource(item.get("address", f"{item['type']}.{item.get('name')}"),
                                item["type"], item.get("name", ""), item.get("values") or {}))
    for child in module.get("child_modules") or []:
        _walk_module(path, child, out)
