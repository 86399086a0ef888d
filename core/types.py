"""The value types every section of the environment spec is built from: strict numbers and
switches, bounded names, the neutral accelerator and size names, and `Strict` (the base of
every section: unknown keys are errors)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field
from pydantic import Strict as NoCoercion

ACCELERATORS = ("T4", "A10G", "L4", "A100", "H100")
CPU_SIZES = ("small", "medium", "large", "xlarge")

Accelerator = Literal["T4", "A10G", "L4", "A100", "H100"]
CpuSize = Literal["small", "medium", "large", "xlarge"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

# Numbers and switches are taken as written: no `true` for 1, no "5" for 5, no 2.0 for a
# count, no inf/nan. Every count and amount also has an upper bound (stated in its field).
Int = Annotated[int, NoCoercion()]
Num = Annotated[float, NoCoercion(), AllowInfNan(False)]
Bool = Annotated[bool, NoCoercion()]
MAX_USD = 10_000_000  # dollars a month: money settings above this are typos
MAX_GPUS = 10_000


def _no_bool(value: Any) -> Any:
    """Refuse `true`/`false` where a number is expected (pydantic takes True as 1 for Literal)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, found {value!r}")  # noqa: TRY004 (located error)
    return value


class Tier(str, Enum):
    """How protected an environment is. Dev is cheap and disposable."""

    dev = "dev"
    staging = "staging"
    prod = "prod"


class Strict(BaseModel):
    """Base for every section: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
