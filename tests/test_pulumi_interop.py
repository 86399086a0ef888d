"""Pulumi programs read a terraml environment's neutral outputs (terraml.interop.pulumi).

Pulumi's mocks (`pulumi.runtime.set_mocks`) stand in for the engine and the pulumi-terraform
provider: no Pulumi CLI, no cloud. The state locations are checked against the backend block
that terraml's own stacks synthesize, so the reference reads the state the stack writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import UserError
from core.outputs import NEUTRAL_OUTPUTS
from stacks.app import load_environment
from terraml.interop import pulumi as interop  # imports no Pulumi itself

try:
    import pulumi
    import pulumi_terraform  # noqa: F401 - the extra's second package
except ImportError:  # pragma: no cover - the extra is optional
    pulumi = None

needs_pulumi = pytest.mark.skipif(pulumi is None, reason="pulumi / pulumi-terraform are not "
                                  "installed (pip install 'terraml[pulumi]')")

BASE = "name: dev\ncloud: aws\nregion: us-east-1\n"
# Remote state backends belong to a cloud: gcs state is a GCP environment's, azurerm Azure's.
CLOUD_BASE = {
    "gcs": "name: dev\ncloud: gcp\nregion: us-central1\nproject_id: acme-ml-123\n"
           "billing_account: 012345-ABCDEF-678901\n",
    "azurerm": "name: dev\ncloud: azure\nregion: eastus\n"
               "subscription_id: 00000000-0000-0000-0000-000000000000\n",
}
NEUTRAL = [name for names in NEUTRAL_OUTPUTS.values() for name in names]
TOKENS = {"local": "terraform:state:getLocalReference", "s3": "terraform:state:getS3Reference",
          "azurerm": "terraform:state:getAzureRMReference"}


def state_values(env: str = "dev", cloud: str = "aws", **changes: Any) -> dict[str, Any]:
    """Outputs as a deployed ml-<env> stack has them: every neutral name, plus extras."""
    values: dict[str, Any] = {name: f"{name}-value" for name in NEUTRAL}
    values.update(environment=env, cloud=cloud, region="us-east-1",
                  subnet_ids=["subnet-a", "subnet-b"], training_spot=True,
                  training_max_runtime_seconds=28800, training_max_parallel_jobs=2,
                  security_group_id="", query_workgroup="terraml-dev-queries",
                  access_log_bucket="terraml-dev-logs")
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


class StateMocks(pulumi.runtime.Mocks if pulumi else object):
    """Answers pulumi-terraform's state invokes with `outputs`, recording each call."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self.outputs = outputs
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        return f"{args.name}_id", dict(args.inputs)

    def call(self, args: Any) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        return {"outputs": self.outputs}


def use_mocks(outputs: dict[str, Any]) -> StateMocks:
    mocks = StateMocks(outputs)
    pulumi.runtime.set_mocks(mocks, project="app", stack="dev", preview=False)
    return mocks


def resolved(platform: interop.PlatformOutputs) -> pulumi.Output[dict[str, Any]]:
    """One Output holding every name -> value of `platform`."""
    names = list(platform)
    return pulumi.Output.all(*(platform[name] for name in names)).apply(
        lambda values: dict(zip(names, values)))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A terraml project (cdktf.json, environments/); the Pulumi program runs elsewhere."""
    (tmp_path / "cdktf.json").write_text('{"app": "python -m stacks"}\n')
    (tmp_path / "environments").mkdir()
    elsewhere = tmp_path / "pulumi-app"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    def write(extra: str = "", name: str = "dev") -> Path:
        path = tmp_path / "environments" / f"{name}.yaml"
        base = next((text for backend, text in CLOUD_BASE.items()
                     if f"backend: {backend}" in extra), BASE)
        path.write_text(base.replace("name: dev", f"name: {name}") + extra)
        return path
    return write


def synthesized_backend(env_file: Path) -> dict[str, Any]:
    """The backend block terraml's stacks synthesize for this environment file."""
    from cdktn import TerraformStack, Testing

    from stacks.backend import configure_backend

    env = load_environment(env_file)
    stack = TerraformStack(Testing.app(), env.stack_name)
    configure_backend(stack, env)
    return json.loads(Testing.synth(stack))["terraform"]["backend"]


def write_local_state(root: Path, stack: str, values: dict[str, Any]) -> Path:
    path = root / "cdktf.out" / "stacks" / stack / "terraform.tfstate"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 4, "outputs": {
        name: {"value": value, "type": "string"} for name, value in values.items()}}))
    return path


# --- one test per backend ------------------------------------------------------------------

@needs_pulumi
def test_local_backend_reads_the_state_the_stack_writes(project):
    env_file = project()
    root = env_file.parent.parent
    state = write_local_state(root, "ml-dev", state_values())
    block = synthesized_backend(env_file)["local"]
    assert state == root / "cdktf.out/stacks/ml-dev" / block["path"]
    mocks = use_mocks(state_values())

    @pulumi.runtime.test
    def check():
        platform = interop.platform_outputs(env_file, extra=["query_workgroup"])
        assert set(platform) == {*NEUTRAL, "query_workgroup"}  # access_log_bucket is not
        assert platform.bucket_raw is platform["bucket_raw"]

        def verify(values: dict[str, Any]) -> None:
            assert mocks.calls == [(TOKENS["local"], {"path": str(state.resolve())})]
            assert values["bucket_raw"] == "bucket_raw-value"
            assert values["subnet_ids"] == ["subnet-a", "subnet-b"]
            assert values["security_group_id"] == ""  # an empty value is a value
            assert values["training_spot"] is True
            assert values["training_max_runtime_seconds"] == 28800
            assert isinstance(values["training_max_runtime_seconds"], int)
            assert values["query_workgroup"] == "terraml-dev-queries"
            assert values["environment"] == "dev"
        return resolved(platform).apply(verify)

    check()


def test_local_backend_falls_back_to_the_emulator_deploy_and_state_path(project, tmp_path):
    env_file = project()
    emulator_state = tmp_path / ".terraml/local/ml-dev.tfstate"
    emulator_state.parent.mkdir(parents=True)
    emulator_state.write_text("{}")
    location = interop.state_location(load_environment(env_file))
    assert location.args == {"path": str(emulator_state.resolve())}
    own = tmp_path / "copy.tfstate"
    own.write_text("{}")
    location = interop.state_location(load_environment(env_file), state_path=own)
    assert location.args == {"path": str(own.resolve())}


@needs_pulumi
def test_s3_backend(project):
    env_file = project("state: {backend: s3, bucket: acme-tfstate, region: eu-west-1}\n")
    block = synthesized_backend(env_file)["s3"]
    mocks = use_mocks(state_values())

    @pulumi.runtime.test
    def check():
        platform = interop.platform_outputs(env_file, backend_options={"profile": "platform"})
        assert platform.location.source == "s3://acme-tfstate/terraml/dev.tfstate"

        def verify(values: dict[str, Any]) -> None:
            token, args = mocks.calls[0]
            assert token == TOKENS["s3"]
            assert args == {"bucket": "acme-tfstate", "key": "terraml/dev.tfstate",
                            "region": "eu-west-1", "profile": "platform"}
            assert {k: block[k] for k in ("bucket", "key", "region")} == {
                k: args[k] for k in ("bucket", "key", "region")}
            assert values["model_registry"] == "model_registry-value"
            assert set(values) == set(NEUTRAL)
        return resolved(platform).apply(verify)

    check()


@needs_pulumi
def test_azurerm_backend(project):
    env_file = project("state: {backend: azurerm, resource_group: rg-state, "
                       "storage_account: acmestate, container: tfstate, key: ml/dev.tfstate}\n")
    block = synthesized_backend(env_file)["azurerm"]
    mocks = use_mocks(state_values(cloud="azure"))

    @pulumi.runtime.test
    def check():
        platform = interop.platform_outputs(env_file)

        def verify(values: dict[str, Any]) -> None:
            token, args = mocks.calls[0]
            assert token == TOKENS["azurerm"]
            assert args == {"resourceGroupName": "rg-state", "storageAccountName": "acmestate",
                            "containerName": "tfstate", "key": "ml/dev.tfstate"}  # wire names
            assert platform.location.args == block  # exactly the backend the stack synthesizes
            assert values["endpoint_name"] == "endpoint_name-value"
        return resolved(platform).apply(verify)

    check()


class FakeBlob:
    def __init__(self, store: dict[str, str], name: str) -> None:
        self.store, self.name = store, name

    def download_as_text(self) -> str:
        if self.name not in self.store:
            raise LookupError(f"404 No such object: {self.name}")
        return self.store[self.name]


class FakeGcsClient:
    """The two calls of google.cloud.storage.Client the gcs reader makes."""

    def __init__(self, objects: dict[str, str]) -> None:
        self.objects = objects

    def bucket(self, name: str) -> Any:
        client = self

        class Bucket:
            def blob(self, path: str) -> FakeBlob:
                return FakeBlob(client.objects, f"{name}/{path}")
        return Bucket()


@needs_pulumi
def test_gcs_backend_reads_the_state_object(project):
    env_file = project("state: {backend: gcs, bucket: acme-tfstate}\n")
    block = synthesized_backend(env_file)["gcs"]
    outputs = {name: {"value": value, "type": "string"}
               for name, value in state_values(cloud="gcp").items()}
    outputs["api_token"] = {"value": "s3cr3t", "type": "string", "sensitive": True}
    client = FakeGcsClient({f"acme-tfstate/{block['prefix']}/default.tfstate":
                            json.dumps({"version": 4, "outputs": outputs})})
    use_mocks({})

    @pulumi.runtime.test
    def check():
        platform = interop.platform_outputs(env_file, extra=["api_token"],
                                            backend_options={"client": client})
        assert platform.location.source == "gs://acme-tfstate/terraml/dev/default.tfstate"

        def verify(args: list[Any]) -> None:
            values, secret = args
            assert values["bucket_features"] == "bucket_features-value"
            assert values["api_token"] == "s3cr3t"
            assert secret is True
        return pulumi.Output.all(resolved(platform),
                                 platform.api_token.is_secret()).apply(verify)

    check()


@needs_pulumi
def test_gcs_unreadable_state_is_one_line(project):
    env_file = project("state: {backend: gcs, bucket: acme-tfstate, prefix: ml}\n")
    use_mocks({})
    with pytest.raises(UserError, match=r"^gs://acme-tfstate/ml/default.tfstate: cannot read "
                       r"the Terraform state: LookupError: 404") as error:
        interop.platform_outputs(env_file, backend_options={"client": FakeGcsClient({})})
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match="'token' is not an option of the gcs state reader"):
        interop.platform_outputs(env_file, backend_options={"token": "x"})


# --- errors ---------------------------------------------------------------------------------

@needs_pulumi
def test_missing_neutral_output_is_named(project):
    env_file = project("state: {backend: s3, bucket: acme-tfstate}\n")
    use_mocks(state_values(bucket_models=None))

    @pulumi.runtime.test
    def check():
        return resolved(interop.platform_outputs(env_file))

    with pytest.raises(UserError, match=r"^s3://acme-tfstate/terraml/dev.tfstate: stack output "
                       r"'bucket_models' missing from the Terraform state: redeploy ml-dev"):
        check()


@needs_pulumi
@pytest.mark.parametrize(("outputs", "message"), [
    ({}, "no outputs in the Terraform state of ml-dev: deploy it first"),
    (state_values(env="prod"), "output 'environment' is 'prod', expected 'dev'"),
])
def test_empty_or_foreign_state_is_refused(project, outputs, message):
    env_file = project("state: {backend: s3, bucket: acme-tfstate}\n")
    use_mocks(outputs)

    @pulumi.runtime.test
    def check():
        return resolved(interop.platform_outputs(env_file))

    with pytest.raises(UserError, match=message):
        check()


@needs_pulumi
def test_unknown_names_and_options(project):
    env_file = project("state: {backend: s3, bucket: acme-tfstate}\n")
    use_mocks(state_values())

    @pulumi.runtime.test
    def check():
        platform = interop.platform_outputs(env_file)
        with pytest.raises(AttributeError, match=r"pass extra=\['query_workgroup'\]"):
            _ = platform.query_workgroup
        with pytest.raises(KeyError, match="not a neutral output of ml-dev"):
            _ = platform["query_workgroup"]
        return resolved(platform)

    check()
    with pytest.raises(UserError, match="'bucket' comes from terraml; set it in the "
                       "environment file's state: section"):
        interop.platform_outputs(env_file, backend_options={"bucket": "other"})
    with pytest.raises(UserError, match="'profil' is not an option of the s3 state reference; "
                       "expected one of .*profile"):
        interop.platform_outputs(env_file, backend_options={"profil": "x"})
    with pytest.raises(UserError, match="state_path: applies to the local backend only"):
        interop.platform_outputs(env_file, state_path="terraform.tfstate")


def test_missing_environment_file(tmp_path):
    with pytest.raises(UserError, match=r"nope.yaml: file not found$"):
        interop.platform_outputs(tmp_path / "nope.yaml")


def test_unknown_backend_in_the_file_is_one_line(project):
    env_file = project("state: {backend: consul}\n")
    with pytest.raises(UserError, match=r"dev.yaml:4: state.backend: expected one of "):
        interop.platform_outputs(env_file)


def test_unknown_backend_on_a_loaded_environment(project):
    env = load_environment(project())
    env.state.backend = "consul"  # e.g. a newer spec than this helper knows
    with pytest.raises(UserError, match=r"state.backend: expected one of local, s3, gcs, "
                       r"azurerm, found 'consul'") as error:
        interop.platform_outputs(env)
    assert "\n" not in str(error.value)


def test_local_backend_without_state_says_how_to_deploy(project):
    env_file = project()
    with pytest.raises(UserError, match=r"cdktf.out/stacks/ml-dev/terraform.tfstate: no "
                       r"Terraform state for ml-dev \(local backend\): deploy with "
                       r"`cdktf deploy ml-dev`"):
        interop.platform_outputs(env_file)
    with pytest.raises(UserError, match="no Terraform state file here"):
        interop.platform_outputs(env_file, state_path="missing.tfstate")


def test_missing_sdk_names_the_extra(project, monkeypatch):
    env_file = project("state: {backend: s3, bucket: acme-tfstate}\n")
    monkeypatch.setitem(sys.modules, "pulumi", None)  # import pulumi -> ImportError
    with pytest.raises(UserError, match=r"^terraml.interop.pulumi needs pulumi: "
                       r"pip install 'terraml\[pulumi\]'$"):
        interop.platform_outputs(env_file)


@needs_pulumi
def test_missing_gcs_client_library_names_it(project, monkeypatch):
    env_file = project("state: {backend: gcs, bucket: acme-tfstate}\n")
    monkeypatch.setitem(sys.modules, "google.cloud.storage", None)
    with pytest.raises(UserError, match=r"^reading gcs state needs google-cloud-storage: "
                       r"pip install google-cloud-storage \(or 'terraml\[gcp\]'\)$"):
        interop.platform_outputs(env_file)


def test_importing_the_helper_imports_no_pulumi():
    code = ("import sys; import terraml.interop.pulumi; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pulumi', 'pulumi_terraform')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.strip() == "[]"


def test_nothing_imports_the_interop_package():
    root = Path(__file__).resolve().parent.parent
    for folder in ("core", "stacks", "modules", "adapters", "cost", "terraml"):
        for source in (root / folder).rglob("*.py"):
            if "interop" in source.parts:
                continue
            assert "terraml.interop" not in source.read_text(), source
