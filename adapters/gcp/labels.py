"""GCP labels: lowercase keys/values of letters, digits, `_` and `-` (max 63)."""

from __future__ import annotations

import re


def clean(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]


def labels(tags: dict[str, str]) -> dict[str, str]:
    return {clean(k): clean(v) for k, v in tags.items()}
