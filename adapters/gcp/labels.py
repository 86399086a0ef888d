"""GCP labels: lowercase keys/values of letters, digits, `_` and `-` (max 63)."""

from __future__ import annotations

import re
from collections.abc import Mapping


def clean(text: str) -> str:
    """`text` as a valid label key or value."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]


def labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags as GCP labels."""
    return {clean(k): clean(v) for k, v in tags.items()}
