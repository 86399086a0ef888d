"""The notebooks section of the environment file (`notebooks:`), off when absent.

One managed notebook machine per user, in the platform's private network, encrypted with the
platform key, without a public address, stopped by the cloud (or its lifecycle script) after
`idle_shutdown_minutes` without activity. `terraml stop-idle` and `status` see them too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from core.types import Bool, CpuSize, Int, Num, Strict

User = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,15}$",
                            description="a user name: lower case, digits, '-'; at most 16")]


class Notebooks(Strict):
    users: list[User] = Field(description="one notebook machine per user")
    size: CpuSize = "small"
    idle_shutdown_minutes: Int = Field(60, ge=10, le=1440, description="stop a notebook "
                                       "after this many idle minutes (10 to 1440)")
    disk_gb: Int = Field(20, ge=10, le=1000, description="each notebook's own disk in GB "
                         "(10 to 1000: 10 GB is the smallest persistent disk on GCP)")
    hours_per_month: Num = Field(40, ge=0, le=744, description="expected running hours "
                                 "per notebook a month, for cost estimates")
    root_access: Bool | None = Field(None, description="root / sudo in the notebook "
                                     "(default: on in dev only)")

    @field_validator("users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("expected at least one user, found none")
        if len(set(value)) != len(value):
            raise ValueError("expected unique user names, found duplicates")
        if len(value) > 50:
            raise ValueError(f"expected at most 50 users, found {len(value)}")
        return value
