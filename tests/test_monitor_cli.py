"""`terraml monitor baseline|run|status` through the CLI, over a fake runtime.

The fake stands in for a cloud's `CloudRuntime` (`runtime_class` is patched, so the real
outputs loading, guardrails and console run): it answers the four drift calls from a
scripted `Cloud` and fails the test on any other runtime call. The environment files are the
shipped examples/<cloud>-mlops.yaml, so every command is checked on the three clouds' files.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from adapters.runtime import (
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    CloudRuntime,
    DriftBaseline,
    DriftRun,
    FeatureDrift,
)
from tests.conftest import ROOT

CLOUDS = ("aws", "gcp", "azure")
DAY = datetime(2026, 11, 1, 6, tzinfo=timezone.utc)
FEATURES = ["tenure", "monthly_charges", "contract"]
THRESHOLDS = {"tenure": 0.3, "monthly_charges": 0.2, "contract": 0.3}  # as in the examples


@dataclass
class Cloud:
    """What the fake runtime answers: baselining job states in order, the run a start
    creates (its states in order), and the runs already there (newest first)."""

    baselines: list[DriftBaseline] = field(default_factory=list)
    started: list[DriftRun] = field(default_factory=list)
    runs: list[DriftRun] = field(default_factory=list)
    calls: list[tuple] = field(default_factory=list)
    opened: int = 0


class FakeRuntime(CloudRuntime):
    cloud = "fake"
    world = Cloud()

    def __init__(self, env, outputs) -> None:
        super().__init__(env, outputs)
        self.world.opened += 1

    def start_drift_baseline(self, data_uri, progress):
        self.world.calls.append(("start_drift_baseline", data_uri))
        progress("summarizing the training data")
        return _next(self.world.baselines)

    def drift_baseline(self, job):
        self.world.calls.append(("drift_baseline", job))
        return _next(self.world.baselines)

    def start_drift_run(self):
        self.world.calls.append(("start_drift_run",))
        return _next(self.world.started)

    def drift_runs(self, limit=20):
        self.world.calls.append(("drift_runs", limit))
        return ([_next(self.world.started)] if self.world.started else []) + self.world.runs


def _next(states: list):
    """The next scripted state; the last one stays."""
    return states.pop(0) if len(states) > 1 else states[0]


def _unused(name: str):
    def method(self, *args, **kwargs):
        raise AssertionError(f"terraml monitor must not call {name}")
    return method


for _name in sorted(FakeRuntime.__abstractmethods__):
    setattr(FakeRuntime, _name, _unused(_name))
FakeRuntime.__abstractmethods__ = frozenset()


@pytest.fixture
def world(monkeypatch) -> Cloud:
    cloud = Cloud()
    monkeypatch.setattr(FakeRuntime, "world", cloud)
    monkeypatch.setattr("terraml.runtime.commands.runtime_class", lambda name: FakeRuntime)
    return cloud


def project(tmp_path: Path, cloud: str = "aws", *, extra: str = "", drift: bool = True,
            outputs: dict | None = None) -> Path:
    """A project folder with examples/<cloud>-mlops.yaml as its one environment and the
    stack outputs of a deployed drift layer in outputs.json."""
    text = (ROOT / f"examples/{cloud}-mlops.yaml").read_text()
    if not drift:
        text = re.sub(r"  drift:\n(    .*\n)+", "", text)
    (tmp_path / "environments").mkdir(exist_ok=True)
    (tmp_path / f"environments/{cloud}-mlops.yaml").write_text(text + extra)
    scheme = {"aws": "s3", "gcp": "gs", "azure": "azureml"}[cloud]
    values = {"environment": f"{cloud}-mlops", "cloud": cloud,
              "drift_monitor": f"terraml-{cloud}-mlops-drift",
              "drift_baseline_uri": f"{scheme}://artifacts/drift/baseline/",
              "drift_features": FEATURES, "drift_thresholds": THRESHOLDS}
    (tmp_path / "outputs.json").write_text(json.dumps(values if outputs is None else outputs))
    return tmp_path


def terraml(capsys, where: Path, *args: str) -> tuple[int, str, str]:
    """`terraml ...` in this process (the fake runtime is patched in), on `where`'s files."""
    from terraml import cli

    argv, sys.argv = sys.argv, ["terraml", *args, "--env-dir", str(where / "environments"),
                                "--outputs", str(where / "outputs.json")]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def flat(text: str) -> str:
    return " ".join(text.split())


def scores(run_id: str, when: datetime, values: dict[str, float | None],
           state: str = SUCCEEDED) -> DriftRun:
    features = [FeatureDrift(name, score, THRESHOLDS[name],
                             score is None or score > THRESHOLDS[name])
                for name, score in values.items()]
    return DriftRun(run_id, state, when, features)


# -- baseline ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cloud", CLOUDS)
def test_baseline_follows_the_job_and_prints_where_it_is(tmp_path, capsys, world, cloud):
    where = project(tmp_path, cloud)
    uri = json.loads((where / "outputs.json").read_text())["drift_baseline_uri"]
    world.baselines = [DriftBaseline("job-1", PENDING, uri),
                       DriftBaseline("job-1", RUNNING, uri, detail="Processing"),
                       DriftBaseline("job-1", SUCCEEDED, uri, features=FEATURES)]
    code, out, err = terraml(capsys, where, "monitor", "baseline", "--env", f"{cloud}-mlops",
                             "--data", "s3://raw/churn/train.csv", "--poll", "0.01")
    assert code == 0, err
    assert world.calls == [("start_drift_baseline", "s3://raw/churn/train.csv"),
                           ("drift_baseline", "job-1"), ("drift_baseline", "job-1")]
    assert "baseline job: job-1" in out
    assert f"baseline: {uri}" in out
    assert "features: tenure, monthly_charges, contract (3)" in out
    assert out.strip().endswith("status: succeeded")


def test_baseline_no_wait_starts_it_and_returns(tmp_path, capsys, world):
    world.baselines = [DriftBaseline("job-2", RUNNING, "s3://artifacts/drift/baseline/")]
    code, out, err = terraml(capsys, project(tmp_path), "monitor", "baseline", "--env",
                             "aws-mlops", "--data", "s3://raw/train.csv", "--no-wait")
    assert code == 0, err
    assert world.calls == [("start_drift_baseline", "s3://raw/train.csv")]
    assert "baseline job: job-2" in out and "status: running" in out
    assert "features:" not in out


def test_a_failed_baseline_exits_1_with_its_reason(tmp_path, capsys, world):
    uri = "s3://artifacts/drift/baseline/"
    world.baselines = [DriftBaseline("job-3", RUNNING, uri),
                       DriftBaseline("job-3", FAILED, uri, detail="no header row in train.csv")]
    code, out, err = terraml(capsys, project(tmp_path), "monitor", "baseline", "--env",
                             "aws-mlops", "--data", "s3://raw/train.csv", "--poll", "0.01")
    assert code == 3, err
    assert "status: failed - no header row in train.csv" in out
    assert "features:" not in out


def test_a_baseline_still_running_at_the_timeout_exits_1(tmp_path, capsys, world):
    world.baselines = [DriftBaseline("job-4", RUNNING, "s3://artifacts/drift/baseline/")]
    code, out, err = terraml(capsys, project(tmp_path), "monitor", "baseline", "--env",
                             "aws-mlops", "--data", "s3://raw/train.csv", "--poll", "0.01",
                             "--timeout", "0.05")
    assert code == 3
    assert "not finished after 0.05s" in one_line(err)
    assert "status: running" in out
    assert ("drift_baseline", "job-4") in world.calls


# -- refusals before any cloud call -----------------------------------------------------------

@pytest.mark.parametrize("command", [("baseline", "--data", "s3://raw/train.csv"), ("run",),
                                     ("status",)])
def test_without_monitoring_drift_every_command_refuses(tmp_path, capsys, world, command):
    where = project(tmp_path, drift=False)
    code, _, err = terraml(capsys, where, "monitor", *command, "--env", "aws-mlops")
    assert code == 2
    line = one_line(err)
    assert f"{where / 'environments/aws-mlops.yaml'}:" in line
    assert "monitoring.drift: drift monitoring is off in this environment" in line
    assert world.opened == 0 and world.calls == []


@pytest.mark.parametrize("command", [("baseline", "--data", "s3://raw/train.csv"), ("run",),
                                     ("status",)])
def test_a_stack_without_the_drift_outputs_is_refused(tmp_path, capsys, world, command):
    where = project(tmp_path, outputs={"environment": "aws-mlops", "cloud": "aws",
                                       "endpoint_name": "e"})
    code, _, err = terraml(capsys, where, "monitor", *command, "--env", "aws-mlops")
    assert code == 2
    assert one_line(err) == (f"error: {where / 'outputs.json'}: stack outputs lack "
                             "drift_monitor, drift_baseline_uri: deploy the stack with "
                             "monitoring.drift on (cdktf deploy ml-aws-mlops)")
    assert world.calls == []


@pytest.mark.parametrize(("args", "says"), [
    (("baseline", "--data", "train.csv"), "--data: expected the URI of the training data"),
    (("baseline", "--data", "s3://raw/t.csv", "--timeout", "0"),
     "--timeout: expected a number of seconds above 0 and at most 604800 (a week), found 0"),
    (("run", "--poll", "-1"), ("--poll: expected a number of seconds above 0 and at most "
     "604800 (a week), found -1")),
    (("run", "--poll", "inf"), ("--poll: expected a number of seconds above 0 and at most "
     "604800 (a week), found inf")),
    (("status", "--limit", "0"), "--limit: expected 1 to 100 runs, found 0"),
    (("status", "--limit", "101"), "--limit: expected 1 to 100 runs, found 101"),
    (("status", "--limit", "many"), "Invalid value for '--limit'"),
    (("status", "--html", "no/such/folder/drift.html"),
     "--html: expected a file in an existing folder, no/such/folder does not exist"),
    (("status", "--html", "."), "--html: expected a file to write, found the folder ."),
])
def test_bad_options_are_one_line_exit_2(tmp_path, capsys, world, monkeypatch, args, says):
    where = project(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, _, err = terraml(capsys, where, "monitor", *args, "--env", "aws-mlops")
    assert code == 2
    assert says in one_line(err)
    assert world.calls == []


def test_an_unknown_environment_is_one_line_exit_2(tmp_path, capsys, world):
    code, _, err = terraml(capsys, project(tmp_path), "monitor", "status", "--env", "prod")
    assert code == 2
    assert one_line(err) == "error: --env: unknown environment 'prod' (known: aws-mlops)"


# -- guardrails -------------------------------------------------------------------------------

@pytest.mark.parametrize(("cloud", "deployed", "machine"), [
    ("aws", "ml.m5.xlarge", "ml.m5.xlarge"),  # the stack's drift_instance_type
    ("aws", None, "ml.m5.large"),  # else monitoring.drift.size (small) on the cloud
    ("gcp", None, "e2-standard-2"),
    ("azure", None, "Standard_E4s_v3"),
])
@pytest.mark.parametrize("command", [("baseline", "--data", "s3://raw/train.csv"), ("run",)])
def test_the_monitoring_machine_is_held_to_allowed_instance_types(
        tmp_path, capsys, world, cloud, deployed, machine, command):
    where = project(tmp_path, cloud,
                    extra="guardrails:\n  allowed_instance_types: [tiny-machine]\n")
    if deployed:
        values = json.loads((where / "outputs.json").read_text())
        (where / "outputs.json").write_text(json.dumps({**values,
                                                        "drift_instance_type": deployed}))
    code, _, err = terraml(capsys, where, "monitor", *command, "--env", f"{cloud}-mlops")
    assert code == 1
    line = one_line(err)
    assert line.startswith("blocked: guardrail allowed_instance_types: ")
    assert f"on {machine}, allowed: tiny-machine" in line
    assert world.calls == []


def test_an_allowed_machine_runs_and_status_needs_no_machine(tmp_path, capsys, world):
    where = project(tmp_path, extra="guardrails:\n  allowed_instance_types: [ml.m5.large]\n")
    world.started = [DriftRun("run-1", PENDING, DAY)]
    code, _, err = terraml(capsys, where, "monitor", "run", "--env", "aws-mlops", "--no-wait")
    assert code == 0, err
    (where / "environments/aws-mlops.yaml").write_text(
        (where / "environments/aws-mlops.yaml").read_text().replace("ml.m5.large", "x"))
    code, _, err = terraml(capsys, where, "monitor", "status", "--env", "aws-mlops")
    assert code == 0, err  # reading runs starts no job: not held to the machine rules


def test_a_guardrail_set_to_warn_lets_the_run_start(tmp_path, capsys, world):
    where = project(tmp_path, extra="guardrails:\n  allowed_instance_types: [tiny]\n"
                                    "  actions: {allowed_instance_types: warn}\n")
    world.started = [DriftRun("run-1", PENDING, DAY)]
    code, out, err = terraml(capsys, where, "monitor", "run", "--env", "aws-mlops",
                             "--no-wait")
    assert code == 0, err
    assert "run: run-1" in out
    assert "warning guardrail allowed_instance_types: " in flat(err)
    assert world.calls == [("start_drift_run",)]


# -- run --------------------------------------------------------------------------------------

def test_run_follows_the_check_and_prints_each_feature(tmp_path, capsys, world):
    done = scores("run-9", DAY, {"tenure": 0.05, "monthly_charges": 0.26, "contract": 0.1})
    world.runs = [scores("run-8", DAY - timedelta(days=1), {"tenure": 0.01})]
    world.started = [DriftRun("run-9", PENDING, DAY), DriftRun("run-9", RUNNING, DAY), done]
    code, out, err = terraml(capsys, project(tmp_path), "monitor", "run", "--env", "aws-mlops",
                             "--poll", "0.01")
    assert code == 0, err  # drift is reported, not an error
    assert "run: run-9" in out
    rows = [line.split("│")[1:-1] for line in out.splitlines() if line.count("│") == 5]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["monthly_charges", "0.260", "0.2", "DRIFTED"], ["contract", "0.100", "0.3", "no"],
        ["tenure", "0.050", "0.3", "no"]]  # worst first
    assert "1 of 3 features drifted" in out
    assert out.strip().endswith("status: succeeded")
    assert world.calls == [("start_drift_run",), ("drift_runs", 10), ("drift_runs", 10)]


def test_a_failed_run_exits_1(tmp_path, capsys, world):
    world.started = [DriftRun("run-5", RUNNING, DAY),
                     DriftRun("run-5", FAILED, DAY, detail="no captured data yet")]
    code, out, _ = terraml(capsys, project(tmp_path), "monitor", "run", "--env", "aws-mlops",
                           "--poll", "0.01")
    assert code == 3
    assert "status: failed - no captured data yet" in out


# -- status -----------------------------------------------------------------------------------

def history() -> list[DriftRun]:
    """Four runs, newest first: one failed without scores, three scored (one contract score
    missing where the cloud reported only the violation)."""
    return [
        DriftRun("run-4", FAILED, DAY + timedelta(days=3), detail="monitor job failed"),
        scores("run-3", DAY + timedelta(days=2),
               {"tenure": 0.31, "monthly_charges": 0.26, "contract": 0.1}),
        scores("run-2", DAY + timedelta(days=1),
               {"tenure": 0.12, "monthly_charges": 0.18, "contract": None}),
        scores("run-1", DAY, {"tenure": 0.05, "monthly_charges": 0.1, "contract": 0.2}),
    ]


def test_status_tables_the_runs_and_the_latest_finished_runs_features(tmp_path, capsys,
                                                                      world):
    world.runs = history()
    code, out, err = terraml(capsys, project(tmp_path), "monitor", "status", "--env",
                             "aws-mlops", "--limit", "4")
    assert code == 0, err
    assert world.calls == [("drift_runs", 4)]
    rows = {cells[0]: cells for cells in (
        [c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
        if line.count("│") == 8)}
    assert rows["run-4"][1:] == ["2026-11-04 06:00 UTC", "failed", "0", "-", "-", "-"]
    assert rows["run-3"][1:] == ["2026-11-03 06:00 UTC", "succeeded", "3", "2",
                                 "monthly_charges", "0.260"]  # 0.26/0.2 beats 0.31/0.3
    assert rows["run-2"][1:] == ["2026-11-02 06:00 UTC", "succeeded", "3", "1", "contract",
                                 "-"]
    assert rows["run-1"][1:5] == ["2026-11-01 06:00 UTC", "succeeded", "3", "0"]
    assert "latest finished run run-3 (2026-11-03 06:00 UTC)" in out
    features = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
                if line.count("│") == 5]
    assert features == [["monthly_charges", "0.260", "0.2", "DRIFTED"],
                        ["tenure", "0.310", "0.3", "DRIFTED"], ["contract", "0.100", "0.3", "no"]]
    assert "2 of 3 features drifted" in out


def test_status_without_runs_says_so(tmp_path, capsys, world):
    where = project(tmp_path)
    code, out, err = terraml(capsys, where, "monitor", "status", "--env", "aws-mlops")
    assert code == 0, err
    assert flat(out) == ("terraml-aws-mlops-drift: no monitoring runs yet (start one with "
                         "`terraml monitor run --env aws-mlops`)")
    code, out, err = terraml(capsys, where, "monitor", "status", "--env", "aws-mlops", "--json")
    assert code == 0, err
    assert json.loads(out)["runs"] == [] and json.loads(out)["latest_finished"] is None
    code, _, err = terraml(capsys, where, "monitor", "status", "--env", "aws-mlops", "--html",
                           str(where / "drift.html"))
    assert code == 0, err
    page = (where / "drift.html").read_text()
    assert "No monitoring runs yet" in page and "<svg" not in page


def test_status_json_is_one_document_of_runs_and_features(tmp_path, capsys, world):
    world.runs = history()
    code, out, err = terraml(capsys, project(tmp_path, "gcp"), "monitor", "status", "--env",
                             "gcp-mlops", "--json")
    assert code == 0, err
    doc = json.loads(out)  # stdout holds the document and nothing else
    assert {k: doc[k] for k in ("environment", "cloud", "monitor", "baseline_uri",
                                "latest_finished")} == {
        "environment": "gcp-mlops", "cloud": "gcp", "monitor": "terraml-gcp-mlops-drift",
        "baseline_uri": "gs://artifacts/drift/baseline/", "latest_finished": "run-3"}
    assert [r["run_id"] for r in doc["runs"]] == ["run-4", "run-3", "run-2", "run-1"]
    failed, latest = doc["runs"][0], doc["runs"][1]
    assert failed == {"run_id": "run-4", "state": "failed",
                      "started": "2026-11-04T06:00:00+00:00", "detail": "monitor job failed",
                      "features_checked": 0, "violations": 0, "worst": None, "features": []}
    assert latest["violations"] == 2 and latest["features_checked"] == 3
    assert latest["worst"] == {"feature": "monthly_charges", "score": 0.26, "threshold": 0.2,
                               "drifted": True}
    assert latest["features"][0] == {"feature": "tenure", "score": 0.31, "threshold": 0.3,
                                     "drifted": True}
    assert doc["runs"][2]["features"][2] == {"feature": "contract", "score": None,
                                             "threshold": 0.3, "drifted": True}


class Svg(HTMLParser):
    """Per chart (one <figure>): its caption, score polyline, threshold line and points."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict] = []
        self.tags: set[str] = set()
        self._caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "figure":
            self.charts.append({"polylines": [], "thresholds": [], "points": [], "flags": []})
        elif tag == "figcaption":
            self._caption = True
        elif tag == "polyline":
            self.charts[-1]["polylines"].append(attrs)
        elif tag == "line" and "threshold" in attrs.get("class", ""):
            self.charts[-1]["thresholds"].append(attrs)
        elif tag == "circle":
            self.charts[-1]["points"].append(attrs)
        elif tag == "path" and attrs.get("class") == "flag":
            self.charts[-1]["flags"].append(attrs)

    def handle_data(self, data):
        if self._caption:
            self.charts[-1]["caption"] = data.strip()
            self._caption = False


def test_status_html_is_a_self_contained_report_with_a_chart_per_feature(tmp_path, capsys,
                                                                         world):
    world.runs = history()
    report = tmp_path / "drift.html"
    code, out, err = terraml(capsys, project(tmp_path, "azure"), "monitor", "status", "--env",
                             "azure-mlops", "--html", str(report))
    assert code == 0, err
    assert f"report: {report}" in flat(out)
    text = report.read_text()
    page = Svg()
    page.feed(text)
    assert not {"script", "link", "img", "iframe", "object"} & page.tags
    assert not re.search(r"\b(src|href)=|url\(|@import", text)
    expected = {"tenure": [0.05, 0.12, 0.31], "monthly_charges": [0.1, 0.18, 0.26],
                "contract": [0.2, 0.1]}  # oldest first; run-2's contract had no score
    charts = {c["caption"].split()[0]: c for c in page.charts}
    assert set(charts) == set(expected)
    for feature, values in expected.items():
        chart = charts[feature]
        (line,) = chart["polylines"]  # one line of scores per feature
        assert line["data-feature"] == feature
        points = [tuple(map(float, p.split(","))) for p in line["points"].split()]
        assert len(points) == len(values)
        xs, ys = [x for x, _ in points], [y for _, y in points]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)  # left to right in time
        # y is one straight line in the score (higher score = higher on the page) ...
        slope = (ys[1] - ys[0]) / (values[1] - values[0])
        assert slope < 0
        for value, y in zip(values, ys, strict=True):
            assert y == pytest.approx(ys[0] + slope * (value - values[0]), abs=0.2)
        # ... and the threshold line sits on the same scale, across the plot
        (threshold,) = chart["thresholds"]
        assert float(threshold["data-threshold"]) == THRESHOLDS[feature]
        assert threshold["y1"] == threshold["y2"]
        assert float(threshold["y1"]) == pytest.approx(
            ys[0] + slope * (THRESHOLDS[feature] - values[0]), abs=0.2)
        assert float(threshold["x1"]) <= xs[0] and float(threshold["x2"]) >= xs[-1]
        drifted = [p for p in chart["points"] if "drifted" in p["class"]]
        assert len(chart["points"]) == len(values)
        assert len(drifted) == sum(v > THRESHOLDS[feature] for v in values)
    # run-2 reported contract drifted without a score: a flag between its two points
    (flag,) = charts["contract"]["flags"]
    left, right = (float(p["cx"]) for p in charts["contract"]["points"])
    assert left < float(flag["d"][1:].split(",")[0]) + 4 < right
    assert not charts["tenure"]["flags"] and not charts["monthly_charges"]["flags"]
    assert charts["monthly_charges"]["caption"] == "monthly_charges (drifted)"
    assert charts["contract"]["caption"] == "contract"
    assert "run-4" in text and "monitor job failed" in text


def test_a_report_that_cannot_be_written_leaves_the_old_one_whole(tmp_path, capsys, world,
                                                                  monkeypatch):
    world.runs = history()
    report = tmp_path / "drift.html"
    report.write_text("the old report")
    real = Path.write_text

    def disk_full(self, text, *args, **kwargs):
        if self.name.startswith("drift.html"):
            real(self, text[:100], *args, **kwargs)  # half of it, then the disk is full
            raise OSError(28, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_full)
    code, _, err = terraml(capsys, project(tmp_path), "monitor", "status", "--env",
                           "aws-mlops", "--html", str(report))
    assert code == 2
    assert one_line(err) == f"error: --html: cannot write {report}: No space left on device"
    assert report.read_text() == "the old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drift.html", "environments",
                                                          "outputs.json"]


def test_staging_into_a_gone_emulator_or_a_wrong_bucket_is_one_line(tmp_path):
    from core.errors import UserError
    from core.outputs import StackOutputs
    from terraml.local.reports import stage_file

    data = tmp_path / "requests.csv"
    data.write_text("a,b\n1,2\n")
    gone = StackOutputs({"bucket_raw": "lake-raw", "region": "us-east-1"}, "state",
                        endpoint="http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(UserError, match=r"^--to: cannot write s3://lake-raw/in/requests.csv in "
                                        r"the local emulator \(") as info:
        stage_file(gone, data, "raw/in/", "--to")
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match=r"--to: expected one of the data buckets .* found 'lake'"):
        stage_file(gone, data, "lake/in/", "--to")
    with pytest.raises(UserError, match=r"--to: expected <bucket>/<prefix>"):
        stage_file(gone, data, "raw", "--to")
