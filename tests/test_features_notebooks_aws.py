"""The feature store and per-user notebooks on AWS: the synthesized feature groups (types, offline
store in the data lake's catalog, online store only where asked, KMS), the notebook instances
(private, encrypted, IMDSv2, root access by tier, idle stop), least-privilege roles, outputs,
checkov; the idle check's behaviour; bad input through `terraml synth`; and a real Terraform
apply, clean re-plan, `status`, `stop-idle` and destroy against the emulator."""

from __future__ import annotations

import base64
import builtins
import io
import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from adapters.aws.machines import NOTEBOOK_INSTANCES
from adapters.aws.notebooks import IDLE_CHECK
from core.outputs import OPT_IN_OUTPUTS
from stacks.app import build_app, load_environment
from tests.conftest import run_cli
from tests.test_local_deploy import _skip_reason
from tests.test_pipeline_aws import by_name, role_policies
from tests.test_synth_aws import resources, synth

ENV = """\
name: {name}
tier: {tier}
cloud: aws
region: us-east-1
monitoring:
  emails: [ml-platform@example.com]
features:
  entities:
    customer: {{key: customer_id}}
    store: {{key: store_id, key_type: int}}
  groups:
    customer_profile:
      entity: customer
      source: features/customer_profile/
      features: {{tenure: int, monthly_charges: float, contract: string, churned: bool,
                 signup: timestamp}}
    store_sales:
      entity: store
      source: warehouse:store_sales
      features: {{revenue: float}}
      online: true
notebooks:
  users: [alice, bob]
  size: small
  idle_shutdown_minutes: 45
  disk_gb: 30
guardrails:
  suppressions:
    - {{rule: always_on_in_dev, resource: "*", reason: "the online store is under test"}}
"""
KEY_REF = "${aws_kms_key.key_F64E54E4.arn}"


def _env(tmp_path: Path, name: str = "fs", tier: str = "dev", text: str | None = None) -> Path:
    folder = tmp_path / "environments"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text if text is not None else ENV.format(name=name, tier=tier))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> dict:
    return synth(load_environment(_env(tmp_path_factory.mktemp("fs"))))


def groups(doc: dict) -> dict[str, dict]:
    return {g["feature_group_name"]: g for g in resources(doc, "aws_sagemaker_feature_group")}


def notebooks(doc: dict) -> dict[str, dict]:
    return {n["name"]: n for n in resources(doc, "aws_sagemaker_notebook_instance")}


# -- feature store -----------------------------------------------------------------------


def test_feature_groups_map_the_neutral_types_and_keys(stack):
    found = groups(stack)
    assert set(found) == {"terraml-fs-customer_profile", "terraml-fs-store_sales"}
    profile = found["terraml-fs-customer_profile"]
    assert profile["record_identifier_feature_name"] == "customer_id"
    assert profile["event_time_feature_name"] == "event_time"
    assert {d["feature_name"]: d["feature_type"] for d in profile["feature_definition"]} == {
        "customer_id": "String", "event_time": "String", "tenure": "Integral",
        "monthly_charges": "Fractional", "contract": "String", "churned": "Integral",
        "signup": "String"}
    sales = found["terraml-fs-store_sales"]
    assert sales["feature_definition"][0] == {"feature_name": "store_id",
                                              "feature_type": "Integral"}
    # the source is recorded (SageMaker ingests through PutRecord, it reads no source)
    assert profile["tags"]["terraml-source"] == "features/customer_profile/"
    assert sales["tags"]["terraml-source"] == "warehouse:store_sales"
    assert sales["description"] == "terraml fs: store_sales"


def test_description_fits_sagemakers_128_characters(tmp_path):
    long_source = "features/" + "/".join(["customer_profile_snapshots"] * 6) + "/"
    text = ENV.format(name="fs", tier="dev").replace("source: features/customer_profile/",
                                                     f"source: {long_source}")
    profile = groups(synth(load_environment(_env(tmp_path, text=text))))[
        "terraml-fs-customer_profile"]
    assert len(profile["description"]) <= 128
    assert profile["tags"]["terraml-source"] == long_source  # the source is kept in full


def test_offline_store_in_the_data_lake_online_store_only_where_asked(stack):
    found = groups(stack)
    (bucket,) = [k for k in stack["resource"]["aws_s3_bucket"] if "bucket-features" in k]
    (database,) = stack["resource"]["aws_glue_catalog_database"]
    for name, group in found.items():
        offline = group["offline_store_config"]
        assert offline["s3_storage_config"] == {
            "s3_uri": f"s3://${{aws_s3_bucket.{bucket}.bucket}}/feature-store/",
            "kms_key_id": KEY_REF}
        assert offline["data_catalog_config"] == {
            "catalog": "AwsDataCatalog",
            "database": f"${{aws_glue_catalog_database.{database}.name}}",
            "table_name": "features_" + name.removeprefix("terraml-fs-")}
        assert "disable_glue_table_creation" not in offline
    assert "online_store_config" not in found["terraml-fs-customer_profile"]
    assert found["terraml-fs-store_sales"]["online_store_config"] == {
        "enable_online_store": True, "security_config": {"kms_key_id": KEY_REF}}


def test_feature_store_role_writes_only_its_prefix_and_tables(stack):
    statements = role_policies(stack, "terraml-fs-feature-store")
    by_sid = {s["Sid"]: s for s in statements}
    for statement in statements:
        assert "*" not in statement["Resource"] and all("*" not in a.split(":")[1]
                                                        for a in statement["Action"])
    assert [r.split("}", 1)[1] for r in by_sid["WriteOfflineStore"]["Resource"]] == \
        ["/feature-store/*"]
    assert "s3:PutObjectAcl" in by_sid["WriteOfflineStore"]["Action"]  # as AWS's own policy
    assert by_sid["ListOfflineStore"]["Condition"] == {
        "StringLike": {"s3:prefix": ["feature-store", "feature-store/*"]}}
    tables = [r for r in by_sid["RegisterOfflineTables"]["Resource"] if ":table/" in r]
    assert [t.rsplit("/", 1)[1] for t in tables] == ["features_customer_profile",
                                                      "features_store_sales"]
    assert by_sid["UseEnvironmentKey"]["Resource"] == [KEY_REF]
    key, _ = by_name(stack, "aws_iam_role", "terraml-fs-feature-store")
    trust = json.loads(stack["resource"]["aws_iam_role"][key]["assume_role_policy"])
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "${data.aws_caller_identity.caller.account_id}"}}


def test_feature_store_outputs(stack, tmp_path):
    outputs = stack["output"]
    assert set(OPT_IN_OUTPUTS["features"]) <= set(outputs)
    assert outputs["feature_store"]["value"].endswith(".bucket}/feature-store/")
    assert set(outputs["feature_groups"]["value"]) == {"customer_profile", "store_sales"}
    assert len(outputs["feature_online_store"]["value"]) == 1
    assert "store_sales" in outputs["feature_online_store"]["value"][0]
    offline_only = ENV.format(name="fs", tier="dev").replace("      online: true\n", "")
    doc = synth(load_environment(_env(tmp_path, text=offline_only)))
    assert doc["output"]["feature_online_store"]["value"] == ""


# -- notebooks -----------------------------------------------------------------------------


def test_notebooks_are_private_encrypted_and_per_user(stack):
    found = notebooks(stack)
    assert set(found) == {"terraml-fs-alice", "terraml-fs-bob"}
    (sg_key,) = [k for k, v in stack["resource"]["aws_security_group"].items()
                 if v["name"] == "terraml-fs-notebooks"]
    for user, notebook in (("alice", found["terraml-fs-alice"]),
                           ("bob", found["terraml-fs-bob"])):
        assert notebook["instance_type"] == NOTEBOOK_INSTANCES["small"] == "ml.t3.medium"
        assert notebook["direct_internet_access"] == "Disabled"
        assert notebook["kms_key_id"] == KEY_REF
        assert notebook["volume_size"] == 30
        assert notebook["root_access"] == "Enabled"  # dev
        assert notebook["subnet_id"] == "${aws_subnet.network_private-0_A0649C48.id}"
        assert notebook["security_groups"] == [f"${{aws_security_group.{sg_key}.id}}"]
        assert notebook["instance_metadata_service_configuration"] == {
            "minimum_instance_metadata_service_version": "2"}
        assert notebook["tags"] == {"notebook-user": user}
        assert notebook["lifecycle_config_name"].startswith(
            "${aws_sagemaker_notebook_instance_lifecycle_configuration.")
    group = stack["resource"]["aws_security_group"][sg_key]
    assert "ingress" not in group or group["ingress"] == []
    assert [(e["from_port"], e["to_port"]) for e in group["egress"]] == [(443, 443)]
    # the idle stop needs no interface endpoint (billed by the hour): S3 through the gateway
    assert [e["vpc_endpoint_type"] for e in resources(stack, "aws_vpc_endpoint")] == ["Gateway"]


def test_stop_requests_reach_a_state_machine_that_stops_only_these_notebooks(stack):
    (notification,) = resources(stack, "aws_s3_bucket_notification")
    assert notification["eventbridge"] is True
    assert "data_bucket-artifacts_" in notification["bucket"]
    _, rule = by_name(stack, "aws_cloudwatch_event_rule", "terraml-fs-notebook-idle")
    pattern = json.loads(rule["event_pattern"])
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "notebooks/idle/"}]
    assert "data_bucket-artifacts_" in pattern["detail"]["bucket"]["name"][0]
    machine_key, machine = by_name(stack, "aws_sfn_state_machine", "terraml-fs-notebook-stopper")
    (target,) = [t for t in resources(stack, "aws_cloudwatch_event_target")
                 if t["arn"] == f"${{aws_sfn_state_machine.{machine_key}.arn}}"]
    assert target["rule"].endswith(".name}") and "notebook-stop-requests" in target["rule"]
    task = json.loads(machine["definition"])["States"]["StopNotebookInstance"]
    assert task["Resource"].endswith(":states:::aws-sdk:sagemaker:stopNotebookInstance")
    (stopper,) = role_policies(stack, "terraml-fs-notebook-stopper")
    assert stopper["Action"] == ["sagemaker:StopNotebookInstance"]
    assert [r.rsplit(":", 1)[1] for r in stopper["Resource"]] == [
        "notebook-instance/terraml-fs-alice", "notebook-instance/terraml-fs-bob"]
    (starter,) = role_policies(stack, "terraml-fs-notebook-idle")
    assert starter["Action"] == ["states:StartExecution"]
    assert starter["Resource"] == [f"${{aws_sfn_state_machine.{machine_key}.arn}}"]
    assert stack["output"]["notebook_stopper"]["value"] == \
        f"${{aws_sfn_state_machine.{machine_key}.arn}}"


def test_root_access_is_off_outside_dev(tmp_path):
    doc = synth(load_environment(_env(tmp_path, name="fs-stage", tier="staging")))
    assert {n["root_access"] for n in notebooks(doc).values()} == {"Disabled"}


def test_notebook_role_reads_and_writes_data_and_calls_no_sagemaker_api(stack):
    statements = role_policies(stack, "terraml-fs-notebooks")
    by_sid = {s["Sid"]: s for s in statements}
    for statement in statements:
        assert statement["Resource"] != "*" and "*" not in statement["Action"]
        assert not any(a.startswith("s3:Delete") for a in statement["Action"])
    def bucket(resource: str) -> str:
        return re.search(r"data_bucket-([a-z]+)_", resource).group(1)

    assert [bucket(r) for r in by_sid["WriteData"]["Resource"]] == ["raw", "features",
                                                                   "artifacts"]
    assert "models" in {bucket(r) for r in by_sid["ReadData"]["Resource"]}  # read only
    assert not any(a.startswith("sagemaker:") for s in statements for a in s["Action"])
    assert all(r.endswith(("terraml-fs-alice/*", "terraml-fs-bob/*"))
               for r in by_sid["WriteOwnLogs"]["Resource"])


def test_lifecycle_script_installs_a_five_minute_idle_check(stack, tmp_path):
    (config,) = resources(stack, "aws_sagemaker_notebook_instance_lifecycle_configuration")
    assert config["name"] == "terraml-fs-idle-stop"
    script = on_start(config["on_start"], bucket="terraml-fs-artifacts-123")
    assert re.search(r"^\*/5 \* \* \* \* root /usr/bin/python3 \S+ 45 terraml-fs-artifacts-123 ",
                     script, re.MULTILINE)
    assert IDLE_CHECK in script
    (tmp_path / "on-start.sh").write_text(script)
    checked = subprocess.run(["bash", "-n", str(tmp_path / "on-start.sh")], check=False)
    assert checked.returncode == 0
    compile(IDLE_CHECK, "idle-check", "exec")
    assert stack["output"]["notebooks"]["value"] == {"alice": "terraml-fs-alice",
                                                     "bob": "terraml-fs-bob"}
    assert set(OPT_IN_OUTPUTS["notebooks"]) <= set(stack["output"])


def on_start(expression: str, bucket: str) -> str:
    """The script Terraform makes of `${base64encode(join("", ["...", <bucket ref>, "..."]))}`,
    with `bucket` for the reference (checked: only the artifacts bucket's name is joined in)."""
    found = re.fullmatch(r'\$\{base64encode\(join\("", \[(".*"), '
                         r'(aws_s3_bucket\.data_bucket-artifacts_\w+\.bucket), (".*")\]\)\)\}',
                         expression, re.DOTALL)
    assert found, expression[:200]
    return json.loads(found.group(1)) + bucket + json.loads(found.group(3))


def _stamp(minutes_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - minutes_ago * 60))


@pytest.mark.parametrize(("kernels", "terminals", "reachable", "asked_ago", "stops"), [
    ([{"execution_state": "idle", "last_activity": _stamp(50)}], [], True, None, True),
    ([{"execution_state": "idle", "last_activity": _stamp(50)}],
     [{"last_activity": _stamp(10)}], True, None, False),  # a terminal was used 10 min ago
    ([{"execution_state": "busy", "last_activity": _stamp(90)}], [], True, None, False),
    ([], [], True, None, True),  # nothing open since the start, 60 min ago
    ([], [], False, None, False),  # Jupyter not answering: never stop on a failed check
    ([], [], True, 5, False),  # asked 5 minutes ago: the stop is under way
    ([], [], True, 20, True),  # asked 20 minutes ago and still running: ask again
])
def test_idle_check_asks_for_a_stop_only_after_the_idle_minutes(
        monkeypatch, kernels, terminals, reachable, asked_ago, stops):
    """The check as the instance runs it (45 minutes), against a fake Jupyter API."""
    from adapters.aws.notebooks import REQUESTED, STARTED

    answers = {"/api/kernels": kernels, "/api/terminals": terminals}
    calls: list[tuple[list[str], bytes]] = []
    marked: list[str] = []

    def urlopen(url, context=None, timeout=None):
        if not reachable:
            raise OSError("connection refused")
        return io.BytesIO(json.dumps(answers[url.removeprefix("https://localhost:8443")])
                          .encode())

    real_open = builtins.open
    metadata = {"ResourceName": "terraml-fs-alice", "ResourceArn":
                "arn:aws:sagemaker:eu-west-1:123456789012:notebook-instance/terraml-fs-alice"}
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(subprocess, "run",
                        lambda args, input, check: calls.append((args, input)))
    ages = {STARTED: 60, REQUESTED: asked_ago}
    monkeypatch.setattr("os.path.getmtime", lambda path: time.time() - ages[path] * 60)
    monkeypatch.setattr("os.path.exists", lambda path: ages.get(path) is not None)

    def fake_open(path, *args, **kwargs):
        if path == "/opt/ml/metadata/resource-metadata.json":
            return io.StringIO(json.dumps(metadata))
        if path == REQUESTED:
            marked.append(path)
            return io.StringIO()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr("sys.argv", ["idle-check", "45", "terraml-fs-artifacts"])
    # the script under test is terraml's own (the instance runs it as a file)
    exec(compile(IDLE_CHECK, "idle-check", "exec"), {"__name__": "__main__"})  # noqa: S102
    if not stops:
        assert calls == [] and marked == []
        return
    ((args, body),) = calls
    request = "s3://terraml-fs-artifacts/notebooks/idle/terraml-fs-alice"
    assert args == ["aws", "s3", "cp", "-", request, "--region", "eu-west-1"]
    assert json.loads(body)["instance"] == "terraml-fs-alice"
    assert marked == [REQUESTED]


# -- checkov and bad input -------------------------------------------------------------------


def test_checkov_reports_no_unsuppressed_failure(tmp_path):
    import os

    checkov = os.environ.get("TERRAML_CHECKOV") or shutil.which("checkov")
    if not checkov or not Path(checkov).exists():
        pytest.skip("checkov is not installed (make test installs it into .venv-checkov)")
    from tests.checkov_gate import gate

    envs = [load_environment(_env(tmp_path / "env", name=n, tier=t))
            for n, t in (("fs", "dev"), ("fs-prod", "prod"))]
    build_app(envs, outdir=str(tmp_path / "out")).synth()
    failures, _, summary = gate(checkov, tmp_path / "out")
    assert summary.get("parsing_errors") == 0
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(("change", "setting"), [
    (("      entity: customer\n      source: features/customer_profile/",
      "      source: features/customer_profile/"),
     r"features: groups\.customer_profile: expected an entity"),
    (("  idle_shutdown_minutes: 45", "  idle_shutdown_minutes: 0"),
     r"notebooks\.idle_shutdown_minutes"),
    (("source: features/customer_profile/", "source: scratch/customer_profile/"),
     r"features\.groups\.customer_profile\.source: expected one of the data buckets"),
    (("    customer_profile:\n", f"    customer_profile_{'x' * 38}:\n"),
     r"features\.groups\.customer_profile_x+: .*64 characters"),  # 66 with 'terraml-fs-'
    (("signup: timestamp", "write_time: timestamp"),
     r"features\.groups\.customer_profile\.features: 'write_time' is reserved"),
    (("revenue: float", "is_deleted: bool"),
     r"features\.groups\.store_sales\.features: 'is_deleted' is reserved"),
])
def test_bad_input_is_one_line_naming_the_setting(tmp_path, change, setting):
    text = ENV.format(name="fs", tier="dev").replace(*change)
    path = _env(tmp_path, text=text)
    result = run_cli("synth", "--env-dir", str(path.parent), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "!!" not in line]
    assert len(lines) == 1, result.stderr
    assert re.search(rf"{re.escape(str(path))}:\d+: .*{setting}", lines[0]), lines[0]
    assert not (tmp_path / "out" / "stacks").exists()


def test_notebook_names_longer_than_63_characters_are_one_line_errors(tmp_path, monkeypatch):
    from adapters.aws import notebooks as aws_notebooks
    from core.errors import UserError

    # a name of 63 letters and digits plus dashes: SageMaker counts the dashes too
    monkeypatch.setattr(aws_notebooks, "notebook_name",
                        lambda prefix, user: f"{prefix}-{user}" + "-x" * 27)
    with pytest.raises(UserError, match=r"notebooks\.users: .*63 characters") as caught:
        synth(load_environment(_env(tmp_path)))
    assert "\n" not in str(caught.value)


def test_emulator_refuses_the_offline_stores_reserved_feature_names():
    import boto3
    from moto import mock_aws

    from terraml.local import moto_server

    moto_server.install()
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        definitions = [{"FeatureName": "id", "FeatureType": "String"},
                       {"FeatureName": "event_time", "FeatureType": "String"}]
        for reserved in ("is_deleted", "write_time", "api_invocation_time"):
            with pytest.raises(sm.exceptions.ClientError, match=reserved):
                sm.create_feature_group(
                    FeatureGroupName=f"g-{reserved.replace('_', '-')}",
                    RecordIdentifierFeatureName="id", EventTimeFeatureName="event_time",
                    FeatureDefinitions=[*definitions,
                                        {"FeatureName": reserved, "FeatureType": "Integral"}],
                    OnlineStoreConfig={"EnableOnlineStore": True},
                    RoleArn="arn:aws:iam::123456789012:role/r")
        sm.create_feature_group(  # the same group without them is accepted
            FeatureGroupName="g", RecordIdentifierFeatureName="id",
            EventTimeFeatureName="event_time", FeatureDefinitions=definitions,
            OnlineStoreConfig={"EnableOnlineStore": True},
            RoleArn="arn:aws:iam::123456789012:role/r")


# -- real Terraform against the emulator ---------------------------------------------------


@pytest.mark.deploy
@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_features_and_notebooks_apply_replan_clean_run_and_destroy(tmp_path):
    import boto3

    work = tmp_path / "project"
    _env(work)
    up = run_cli("up", "--env", "fs", "--local", cwd=work)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "second plan: no changes" in up.stdout
        assert "missing" not in up.stdout
        for expected in ("feature group", "notebook instance"):
            assert expected in up.stdout, expected
        port = json.loads((work / ".terraml/local/fs.json").read_text())["port"]

        def c(service: str):
            return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}",
                                region_name="us-east-1", aws_access_key_id="test",
                                aws_secret_access_key="test")

        sm = c("sagemaker")
        sales = sm.describe_feature_group(FeatureGroupName="terraml-fs-store_sales")
        assert sales["OnlineStoreConfig"]["EnableOnlineStore"] is True
        catalog = sales["OfflineStoreConfig"]["DataCatalogConfig"]
        assert c("glue").get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
        profile = sm.describe_feature_group(FeatureGroupName="terraml-fs-customer_profile")
        assert "OnlineStoreConfig" not in profile
        tags = {t["Key"]: t["Value"] for t in sm.list_tags(
            ResourceArn=profile["FeatureGroupArn"])["Tags"]}
        assert tags["terraml-source"] == "features/customer_profile/" and tags["env"] == "fs"
        alice = sm.describe_notebook_instance(NotebookInstanceName="terraml-fs-alice")
        assert alice["DirectInternetAccess"] == "Disabled" and alice["RootAccess"] == "Enabled"
        config = sm.describe_notebook_instance_lifecycle_config(
            NotebookInstanceLifecycleConfigName=alice["NotebookInstanceLifecycleConfigName"])
        script = base64.b64decode(config["OnStart"][0]["Content"]).decode()
        outputs = json.loads((work / ".terraml/local/ml-fs.tfstate").read_text())["outputs"]
        requests = outputs["notebook_stop_requests"]["value"]  # s3://<bucket>/notebooks/idle/
        bucket = requests.removeprefix("s3://").split("/")[0]
        assert f" 45 {bucket} >> " in script and IDLE_CHECK in script  # Terraform joined it

        status = run_cli("status", "--env", "fs", cwd=work)
        assert status.returncode == 0, status.stderr
        rows = [line for line in status.stdout.splitlines() if "notebook" in line]
        assert len(rows) == 2 and all("running" in row for row in rows), status.stdout
        time.sleep(2)  # idle for longer than the 1.8 s asked for below
        idle = run_cli("stop-idle", "--env", "fs", "--idle-hours", "0.0005", cwd=work)
        assert idle.returncode == 0, idle.stdout + idle.stderr
        assert idle.stdout.count("notebook stopped") == 2, idle.stdout
        for name in ("terraml-fs-alice", "terraml-fs-bob"):
            assert sm.describe_notebook_instance(NotebookInstanceName=name)[
                "NotebookInstanceStatus"] == "Stopped"
        after = run_cli("status", "--env", "fs", cwd=work)
        assert "burn rate: $0.00/hour" in after.stdout, after.stdout
    finally:
        down = run_cli("down", "--env", "fs", "--local", cwd=work)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert "destroyed, emulator stopped" in down.stdout


def test_one_bucket_notification_when_the_pipeline_also_listens_to_the_artifacts_bucket(
        tmp_path):
    """S3 keeps one notification configuration per bucket: the pipeline's new-data trigger and
    the notebooks' stop requests on the same bucket share one resource (the first layer's)."""
    text = (Path(__file__).parent.parent / "examples/aws-mlops.yaml").read_text()
    text += ("pipeline:\n  on_new_data: artifacts/new/\n  steps:\n    train:\n"
             "      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1\n"
             "      command: python train.py\n")
    path = tmp_path / "both.yaml"
    path.write_text(text)
    doc = synth(load_environment(path))
    (notification,) = resources(doc, "aws_s3_bucket_notification")
    assert "data_bucket-artifacts_" in notification["bucket"] and notification["eventbridge"]
    assert next(iter(doc["resource"]["aws_s3_bucket_notification"])).startswith(
        "pipeline_pipeline-trigger-notification_")
    rules = [json.loads(r["event_pattern"])["detail"]["object"]["key"][0]["prefix"]
             for r in resources(doc, "aws_cloudwatch_event_rule")
             if "aws.s3" in r["event_pattern"]]
    assert sorted(rules) == ["new/", "notebooks/idle/"]
