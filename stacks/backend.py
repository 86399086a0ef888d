"""Terraform state backend from the environment's `state:` section (cloud-neutral)."""

from __future__ import annotations

from cdktn import AzurermBackend, GcsBackend, LocalBackend, S3Backend, TerraformStack

from core.spec import Environment


def configure_backend(stack: TerraformStack, env: Environment, *,
                      local_state: str | None = None) -> None:
    """Local state by default; `local_state` (emulator deploys) forces a local file there."""
    state = env.state
    key = state.key or f"terraml/{env.name}.tfstate"
    if local_state or state.backend == "local":
        LocalBackend(stack, path=local_state or "terraform.tfstate")
    elif state.backend == "s3":
        S3Backend(stack, bucket=state.bucket, key=key, region=state.region or env.region,
                  encrypt=True, use_lockfile=state.use_lockfile)
    elif state.backend == "gcs":
        GcsBackend(stack, bucket=state.bucket, prefix=state.prefix or f"terraml/{env.name}")
    else:
        AzurermBackend(stack, resource_group_name=state.resource_group,
                       storage_account_name=state.storage_account,
                       container_name=state.container, key=key)
