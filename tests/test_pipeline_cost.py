"""Pipelines and tracking in the cost engine: the same file on AWS, GCP and Azure (only cloud,
region and ids changed) prices every pipeline step on all three from the steps x machine x
hours per run x runs a month (from the schedule), shows them in every report, and the same GPU
guardrails see the train step everywhere; the AWS tracking server (billed all month) is
stopped in dev by always_on_in_dev unless allowed.

The cases run through the CLI as a user does (`terraml synth`, then `terraml cost -f json`). A
cloud without its pipeline or tracking builder yet makes the case skip, naming the builder it
waits on; the record-level tests at the end price hand-written step records (the
`//.terraml.workloads` contract of stacks/workloads.py) whatever the builders do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.cron import parse
from cost.catalog import load_catalog
from cost.estimate import estimate
from cost.inputs import load_projects
from cost.policy import check
from cost.reports import infracost_json, markdown, table
from tests.conftest import run_cli
from tests.test_same_verdicts import IDS, _variant

CLOUDS = list(IDS)
STEPS = ("prepare", "train", "evaluate")
TRAINING = ("training:\n  accelerator: T4\n  count: 1\n  spot: true\n  max_runtime_hours: 8\n"
            "  gpu_hours_per_month: 40\n")
PIPELINE = ("pipeline:\n  schedule: '0 3 * * MON'\n  steps:\n"
            "    prepare:\n      image: registry.example.com/ml/prepare:1\n"
            "      command: python prepare.py\n      size: medium\n      hours: 0.5\n"
            "    train:\n      image: registry.example.com/ml/train:1\n"
            "      command: python train.py\n      hours: 2\n"
            "    evaluate:\n      image: registry.example.com/ml/evaluate:1\n"
            "      command: python evaluate.py\n      size: small\n      hours: 0.25\n"
            "      metric: auc\n      min: 0.8\n")
TRACKING = "tracking:\n  enabled: true\n"
DEV = "name: dev\ncloud: aws\nregion: us-east-1\n" + TRAINING + PIPELINE
RUNS = 4.274  # '0 3 * * MON': 52 Mondays in 2026 x 30 / 365


# -- every case, synthesized and priced once through the CLI -----------------------------

ON_DEMAND = DEV.replace("  spot: true\n", "  spot: false\n")
A100_STEP = DEV.replace("      hours: 2\n", "      hours: 2\n      accelerator: A100\n"
                        "      count: 8\n") + \
    "guardrails:\n  allowed_accelerators: [T4]\n  max_gpus: 4\n"
BY_HAND = DEV.replace("  schedule: '0 3 * * MON'\n", "")
RUNS_SET = DEV.replace("  schedule: '0 3 * * MON'\n", "  schedule: '0 3 * * MON'\n"
                       "  runs_per_month: 10\n")
SUPPRESSED = DEV + TRACKING + (
    "guardrails:\n  suppressions:\n    - rule: always_on_in_dev\n"
    "      resource: aws_sagemaker_mlflow_tracking_server.*\n"
    "      reason: shared team tracking server, approved by platform\n")
WARNED = DEV + TRACKING + "guardrails:\n  actions:\n    always_on_in_dev: warn\n"
STAGING = DEV.replace("name: dev", "name: staging") + TRACKING


def case(text: str, cloud: str, tag: str = "") -> tuple[str, str]:
    """(environment name, file): `text` on `cloud` (only cloud, region and ids changed),
    named dev[-tag]-<cloud> (its tier stays what the name it started with says)."""
    tier = re.search(r"^name: (\w+)", text, re.MULTILINE).group(1)
    body = _variant(text, cloud, tier)
    name = f"{tier}-{tag}-{cloud}" if tag else f"{tier}-{cloud}"
    return name, body.replace(f"name: {tier}-{cloud}\n", f"name: {name}\n")


CASES = dict(
    [case(DEV, c) for c in CLOUDS] + [case(ON_DEMAND, c, "ondemand") for c in CLOUDS] +
    [case(A100_STEP, c, "a100") for c in CLOUDS] + [case(DEV + TRACKING, c, "tracked")
                                                    for c in CLOUDS] +
    [case(BY_HAND, "azure", "byhand"), case(RUNS_SET, "gcp", "runs"),
     case(SUPPRESSED, "aws", "suppressed"), case(WARNED, "aws", "warned"),
     case(STAGING, "aws", "tracked")])


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict[str, dict]:
    """{environment name: its project in `terraml cost -f json`} for every case, synthesized
    by `terraml synth` in one run."""
    envs = tmp_path_factory.mktemp("pipeline-envs")
    for name, text in CASES.items():
        (envs / f"{name}.yaml").write_text(text)
    out = tmp_path_factory.mktemp("pipeline-out")
    synth = run_cli("synth", "--env-dir", str(envs), "--out", str(out))
    missing = re.search(r"the (\w+) layer is not available on (\w+)", synth.stderr)
    if synth.returncode == 2 and missing:
        pytest.skip(f"waits on the {missing.group(2)} {missing.group(1)} builder")
    assert synth.returncode == 0, synth.stderr
    priced = run_cli("cost", str(out), "-f", "json")
    assert priced.returncode == 1, priced.stderr  # some cases are blocked on purpose
    return {p["name"].removeprefix("ml-"): p for p in json.loads(priced.stdout)["projects"]}


def steps_of(project: dict) -> dict[str, dict]:
    """step name -> its priced row."""
    return {r["name"].rsplit(".", 1)[1]: r for r in project["breakdown"]["resources"]
            if r["resourceType"] == "terraml_pipeline_steps"}


def resources(project: dict, rtype: str) -> dict[str, dict]:
    return {r["name"]: r for r in project["breakdown"]["resources"] if r["resourceType"] == rtype}


def blocked(project: dict) -> dict[str, dict[str, str]]:
    """rule -> {resource: message} of the blocking verdicts."""
    found: dict[str, dict[str, str]] = {}
    for v in project["guardrails"]:
        if v["verdict"] == "block":
            found.setdefault(v["rule"], {})[v["resource"]] = v["message"]
    return found


def monthly(item: dict) -> float:
    return float(item["monthlyCost"])


# -- pricing ------------------------------------------------------------------------------

def test_the_schedule_gives_the_runs_a_month():
    assert parse("0 3 * * MON").runs_per_month() == RUNS


# Hand-computed from the catalog rows (cost/catalog/*.csv), 4.274 runs a month:
#   AWS us-east-1 (no SageMaker Processing rows: the hosting rate of the same instance stands in)
#     prepare ml.m5.xlarge  0.5 h x 4.274 x 0.23 (sagemaker-realtime-inference)      = 0.49151
#     evaluate ml.m5.large  0.25 h x 4.274 x 0.115 (sagemaker-training)               = 0.122878
#     train ml.g4dn.xlarge  2 h x 4.274 x 0.7364 x 0.2039/0.526 (managed spot ratio)  = 2.440112
#   GCP us-central1 (Compute Engine floor: no Vertex AI rows for these machines)
#     prepare e2-standard-4 0.5 h x 4.274 x 0.13402284                             = 0.286406
#     train n1-standard-8 spot 2 h x 4.274 x 0.13402 + T4 spot 2 h x 4.274 x 0.175
#     run fee (Vertex AI Pipelines) 4.274 runs x 0.03                              = 0.12822
#   Azure eastus
#     prepare Standard_D4s_v3 0.5 h x 4.274 x 0.192 (pay-as-you-go)                = 0.410304
#     evaluate Standard_D2s_v3 0.25 h x 4.274 x 0.096                              = 0.102576
#     train Standard_NC4as_T4_v3 low-priority 2 h x 4.274 x 0.132 (westeurope rate: no eastus
#     low-priority row)                                                            = 1.128336
EXPECTED = {
    "aws": {"prepare": 0.5 * RUNS * 0.23, "evaluate": 0.25 * RUNS * 0.115,
            "train": 2 * RUNS * round(0.7364 * 0.2039 / 0.526, 6)},
    "gcp": {"prepare": 0.5 * RUNS * 0.13402284, "evaluate": 0.25 * RUNS * 0.06701142,
            "train": 2 * RUNS * 0.13402 + 2 * RUNS * 0.175},
    "azure": {"prepare": 0.5 * RUNS * 0.192, "evaluate": 0.25 * RUNS * 0.096,
              "train": 2 * RUNS * 0.132},
}


def test_every_step_is_priced_on_every_cloud(report):
    for cloud in CLOUDS:
        project = report[f"dev-{cloud}"]
        steps = resources(project, "terraml_pipeline_steps")
        assert sorted(steps) == sorted(f"terraml_pipeline_steps.ml-dev-{cloud}.{s}"
                                       for s in STEPS), cloud
        unpriced = [u["name"] for u in project["breakdown"]["unpricedResources"]]
        assert not [u for u in unpriced if "pipeline" in u], (cloud, unpriced)
        for step in STEPS:
            row = steps[f"terraml_pipeline_steps.ml-dev-{cloud}.{step}"]
            assert monthly(row) == pytest.approx(EXPECTED[cloud][step], rel=1e-5), (cloud, step)
            for item in row["costComponents"]:
                assert not item["usageBased"] and float(item["monthlyCost"]) > 0
                assert item["name"].startswith(f"Pipeline step {step}")
                assert item["source"], (cloud, step, "every figure cites its source")
                assert f"{RUNS:g} runs/month" in item["note"]


def test_runs_a_month_and_their_source_are_stated_on_every_cloud(report):
    for cloud in CLOUDS:
        stated = report[f"dev-{cloud}"]["assumptions"]
        assert f"pipeline: {RUNS:g} runs/month, from schedule '0 3 * * MON': {RUNS:g} runs in " \
               "a 30-day month" in stated, (cloud, stated)
        steps = next(a for a in stated if a.startswith("pipeline steps"))
        assert "train 2 h on" in steps and "spot/low-priority" in steps, steps
        assert "prepare 0.5 h on" in steps and "evaluate 0.25 h on" in steps, steps


def test_the_run_fee_is_priced_where_sourced_and_said_where_not(report):
    (fee,) = resources(report["dev-gcp"], "terraml_pipeline_runs").values()
    assert monthly(fee) == pytest.approx(RUNS * 0.03)
    assert "tabular-workflows/pricing" in fee["costComponents"][0]["source"]
    for cloud in ("aws", "azure"):
        assert not resources(report[f"dev-{cloud}"], "terraml_pipeline_runs")
        assert any(a.startswith("pipeline run fee: ")
                   for a in report[f"dev-{cloud}"]["assumptions"]), cloud


def test_no_schedule_and_no_trigger_is_priced_at_zero_runs(report):
    project = report["dev-byhand-azure"]
    assert sorted(steps_of(project)) == sorted(STEPS)
    assert all(monthly(r) == 0 for r in steps_of(project).values())
    assert "pipeline: 0 runs/month, from no schedule and no on_new_data: runs only when " \
           "started by hand" in project["assumptions"]


def test_runs_per_month_in_the_file_wins(report):
    project = report["dev-runs-gcp"]
    assert monthly(steps_of(project)["prepare"]) == pytest.approx(0.5 * 10 * 0.13402284,
                                                                  rel=1e-6)
    assert "pipeline: 10 runs/month, from pipeline.runs_per_month" in project["assumptions"]


# -- guardrails on the train step ---------------------------------------------------------

def test_on_demand_train_step_is_blocked_like_training_on_every_cloud(report):
    for cloud in CLOUDS:
        name = f"ml-dev-ondemand-{cloud}"
        spot = blocked(report[name.removeprefix("ml-")]).get("spot_training", {})
        train = f"terraml_pipeline_steps.{name}.train"
        assert train in spot and f"terraml_training_jobs.{name}" in spot, (cloud, spot)
        assert spot[train].startswith("pipeline step train on "), spot[train]
        assert "is on-demand" in spot[train]


def test_the_train_steps_gpus_count_on_every_cloud(report):
    """A train step on A100 x8 (its own accelerator) beside T4 training: allowed_accelerators
    and max_gpus see the step, with the same verdicts on all three clouds."""
    rules = {cloud: blocked(report[f"dev-a100-{cloud}"]) for cloud in CLOUDS}
    assert {c: sorted(r) for c, r in rules.items()} == {
        c: ["allowed_accelerators", "max_gpus"] for c in CLOUDS}, rules
    for cloud in CLOUDS:
        train = f"terraml_pipeline_steps.ml-dev-a100-{cloud}.train"
        assert rules[cloud]["allowed_accelerators"] == {
            train: rules[cloud]["allowed_accelerators"][train]}, rules[cloud]
        assert rules[cloud]["allowed_accelerators"][train].startswith(
            "pipeline step train on A100, allowed: T4")
        assert next(iter(rules[cloud]["max_gpus"].values())).startswith("8 GPUs"), rules[cloud]
        step = resources(report[f"dev-a100-{cloud}"], "terraml_pipeline_steps")[train]
        assert monthly(step) > 0, (cloud, "the A100 x8 step is priced too")


def test_the_pipeline_does_not_change_the_verdicts_of_a_file_that_passes(report):
    for cloud in CLOUDS:
        assert not blocked(report[f"dev-{cloud}"]), (cloud, blocked(report[f"dev-{cloud}"]))


# -- tracking -----------------------------------------------------------------------------

def test_aws_tracking_server_is_unpriced_with_a_reason_and_blocked_in_dev(report):
    project = report["dev-tracked-aws"]
    (server,) = [u for u in project["breakdown"]["unpricedResources"]
                 if u["resourceType"] == "aws_sagemaker_mlflow_tracking_server"]
    assert "no sourced SageMaker managed MLflow rate for a Small tracking server" in \
        server["reason"]
    idle = blocked(project)["always_on_in_dev"]
    assert list(idle) == [server["name"]]
    (row,) = [r for r in project["breakdown"]["resources"] if r["name"] == server["name"]]
    assert row["monthlyCost"] is None and row["billedWhileIdle"]
    assert "bills every hour of the month, idle or not" in idle[server["name"]]


def test_tracking_bills_nothing_while_idle_on_gcp_and_azure(report):
    """Vertex AI Experiments / TensorBoard (stored data only) and Azure ML's workspace MLflow bill
    nothing while idle: always_on_in_dev has nothing to stop there (a difference between the
    clouds' services, not between terraml's verdicts)."""
    for cloud in ("gcp", "azure"):
        project = report[f"dev-tracked-{cloud}"]
        verdict = {v["rule"]: v["verdict"] for v in project["guardrails"]}
        assert verdict["always_on_in_dev"] == "pass", (cloud, verdict)
        assert any(a.startswith("tracking: ") for a in project["assumptions"]), cloud
    (board,) = [u for u in report["dev-tracked-gcp"]["breakdown"]["unpricedResources"]
                if u["resourceType"] == "google_vertex_ai_tensorboard"]
    assert "no sourced Vertex AI TensorBoard storage price" in board["reason"]
    assert "bills nothing beyond the workspace" in \
        " ".join(report["dev-tracked-azure"]["assumptions"])


def test_a_suppression_with_a_reason_allows_the_tracking_server(report):
    project = report["dev-suppressed-aws"]
    (verdict,) = [v for v in project["guardrails"] if v["rule"] == "always_on_in_dev"]
    assert verdict["verdict"] == "suppressed"
    assert verdict["reason"] == "shared team tracking server, approved by platform"
    assert not blocked(project)


def test_the_action_can_make_it_a_warning_and_other_tiers_are_not_checked(report):
    levels = {name: {v["rule"]: v["verdict"] for v in report[name]["guardrails"]}
              for name in ("dev-warned-aws", "staging-tracked-aws")}
    assert levels["dev-warned-aws"]["always_on_in_dev"] == "warn"
    assert levels["staging-tracked-aws"]["always_on_in_dev"] == "pass"


# -- every report shows it; the record contract -------------------------------------------

def _stack(tmp_path: Path, workloads: list[dict], usage: dict | None = None,
           resource: dict | None = None, provider: str = "google",
           region: str = "us-central1") -> Path:
    """A minimal synthesized stack: terraml's metadata block and `resource`."""
    path = tmp_path / "stacks" / "ml-dev" / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({
        "//": {"terraml": {"usage": usage or {"tier": "dev"}, "workloads": workloads,
                           "guardrails": {"require_spot_training": True, "max_gpus": 4}}},
        "provider": {provider: [{"region": region}]}, "resource": resource or {}}))
    return path


def _steps(spot: bool = True, runs: float = RUNS) -> list[dict]:
    common = {"kind": "pipeline_step", "resource": None, "cloud": "gcp", "region": "us-central1",
              "min_instances": 0, "max_instances": 1, "serverless": False,
              "runs_per_month": runs, "runs_source": "schedule '0 3 * * MON': 4.274 runs in a "
                                                     "30-day month"}
    cpu = {"accelerator": None, "accelerator_type": None, "gpus": 0, "spot": False}
    return [
        {**common, **cpu, "step": "prepare", "instance_type": "e2-standard-4",
         "hours_per_run": 0.5},
        {**common, "step": "train", "instance_type": "n1-standard-8", "accelerator": "T4",
         "accelerator_type": "NVIDIA_TESLA_T4", "gpus": 1, "spot": spot, "hours_per_run": 2},
        {**common, **cpu, "step": "evaluate", "instance_type": "e2-standard-2",
         "hours_per_run": 0.25},
    ]


def test_step_records_are_priced_and_shown_in_every_report(tmp_path):
    (project,) = load_projects(_stack(tmp_path, _steps()))
    cost = estimate(project, load_catalog())
    steps = {r.address: r for r in cost.resources if r.type == "terraml_pipeline_steps"}
    for step in STEPS:
        assert steps[f"terraml_pipeline_steps.ml-dev.{step}"].monthly == pytest.approx(
            EXPECTED["gcp"][step], rel=1e-5)
    verdicts = {project.name: check(project, cost, project.guardrails)}
    text = markdown([cost], verdicts)
    for step in STEPS:
        assert f"| Pipeline step {step} (" in text, step
    assert "| Pipeline runs (orchestration fee) |" in text
    assert f"pipeline: {RUNS:g} runs/month, from schedule" in text
    document = json.loads(infracost_json([cost], verdicts))["projects"][0]
    assert any(r["name"] == "terraml_pipeline_steps.ml-dev.train"
               for r in document["breakdown"]["resources"])
    from rich.console import Console

    console = Console(record=True, width=250)
    console.print(table([cost]))
    assert "terraml_pipeline_steps.ml-dev.train" in console.export_text()


def test_an_on_demand_train_step_record_is_blocked_by_spot_training(tmp_path):
    (project,) = load_projects(_stack(tmp_path, _steps(spot=False)))
    cost = estimate(project, load_catalog())
    verdicts = check(project, cost, project.guardrails)
    (spot,) = [v for v in verdicts if v.rule == "spot_training"]
    assert (spot.level, spot.resource) == ("block", "terraml_pipeline_steps.ml-dev.train")
    assert [v.level for v in verdicts if v.rule == "max_gpus"] == ["pass"]


def test_a_plan_of_a_stack_with_a_pipeline_lists_it_as_unpriced(tmp_path):
    """`terraform show -json` drops terraml's step records: the pipeline is listed as not
    priced, with the reason, rather than silently missing."""
    plan = {"format_version": "1.2", "planned_values": {
        "outputs": {"pipeline_name": {"sensitive": False, "value": "terraml-dev-training"}},
        "root_module": {"resources": []}}}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    (project,) = load_projects(tmp_path / "plan.json")
    cost = estimate(project, load_catalog())
    (entry,) = cost.unpriced
    assert entry.type == "terraml_pipeline_steps"
    assert "a terraform plan drops terraml's pipeline step records" in entry.unpriced_reason


SERVER = {"aws_sagemaker_mlflow_tracking_server": {"tracking": {
    "tracking_server_name": "terraml-dev", "tracking_server_size": "Medium",
    "role_arn": "arn:aws:iam::123456789012:role/x", "artifact_store_uri": "s3://a/mlflow"}}}


@pytest.mark.parametrize(("tier", "level"), [("dev", "block"), ("prod", "pass")])
def test_the_tracking_server_is_marked_idle_billed_and_stopped_in_dev_only(tmp_path, tier,
                                                                            level):
    (project,) = load_projects(_stack(tmp_path, [], {"tier": tier}, SERVER, "aws",
                                      "us-east-1"))
    cost = estimate(project, load_catalog())
    (server,) = cost.unpriced
    assert server.idle_billing.startswith("SageMaker managed MLflow tracking server (Medium)")
    assert "no sourced SageMaker managed MLflow rate for a Medium tracking server" in \
        server.unpriced_reason
    (verdict,) = [v for v in check(project, cost, project.guardrails)
                  if v.rule == "always_on_in_dev"]
    assert verdict.level == level


@pytest.mark.parametrize(("expression", "invocations"), [
    ("cron(0 3 ? * 2 *)", RUNS), ("rate(6 hours)", 120), ("at(2026-12-01T03:00:00)", 0)])
def test_the_schedule_is_priced_per_invocation_from_its_expression(tmp_path, expression,
                                                                   invocations):
    schedule = {"aws_scheduler_schedule": {"s": {
        "name": "s", "schedule_expression": expression,
        "flexible_time_window": {"mode": "OFF"}, "target": {"arn": "a", "role_arn": "r"}}}}
    (project,) = load_projects(_stack(tmp_path, [], None, schedule, "aws", "us-east-1"))
    (item,) = estimate(project, load_catalog()).resources[0].components
    assert item.quantity == pytest.approx(invocations / 1_000_000)
    assert item.price == 1.0 and "cloudburn.io" in item.source
    assert "14M invocations/month free per account, not subtracted" in item.note
