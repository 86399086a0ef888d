"""Cost engine speed: generate `terraform show -json` plans with N resources (default
10 000 and 100 000, a realistic ML-platform mix) and time loading + pricing + guardrails,
next to a baseline measured in the same run (json.load of the same file).

Usage: python bench/cost.py [N[,N...]] [RUNS]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MIX = [
    ("aws_s3_bucket", {"bucket": "b{i}"}),
    ("aws_kms_key", {}),
    ("aws_iam_role", {}),
    ("aws_cloudwatch_metric_alarm", {"period": 300}),
    ("aws_nat_gateway", {}),
    ("aws_vpc_endpoint", {"vpc_endpoint_type": "Interface", "subnet_ids": ["a", "b"]}),
    ("aws_ecr_repository", {}),
    ("aws_sagemaker_notebook_instance", {"instance_type": "ml.t3.medium"}),
    ("aws_mq_broker", {}),
]


def make_plan(count: int) -> dict:
    resources = []
    for i in range(count):
        if i % 10 == 9:  # an endpoint + its configuration + scaling, every tenth slot
            resources += [
                {"address": f"aws_sagemaker_endpoint_configuration.c{i}", "mode": "managed",
                 "type": "aws_sagemaker_endpoint_configuration", "name": f"c{i}",
                 "values": {"name": f"cfg{i}", "production_variants": [
                     {"variant_name": "v", "instance_type": "ml.g5.xlarge"}]}},
                {"address": f"aws_sagemaker_endpoint.e{i}", "mode": "managed",
                 "type": "aws_sagemaker_endpoint", "name": f"e{i}",
                 "values": {"name": f"ep{i}", "endpoint_config_name": f"cfg{i}"}},
            ]
            continue
        rtype, values = MIX[i % len(MIX)]
        resources.append({"address": f"{rtype}.r{i}", "mode": "managed", "type": rtype,
                          "name": f"r{i}", "values": {k: (v.format(i=i) if isinstance(v, str)
                                                           else v) for k, v in values.items()}})
    return {"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}},
            "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {
                "region": {"constant_value": "us-east-1"}}}}}}


def measure(count: int, runs: int) -> None:
    from cost.catalog import load_catalog
    from cost.estimate import estimate
    from cost.inputs import load_projects
    from cost.policy import check

    path = Path(tempfile.mkdtemp(prefix="terraml-cost-bench-")) / "plan.json"
    path.write_text(json.dumps(make_plan(count)))
    catalog = load_catalog()
    rails = {"max_monthly_usd": 1, "allowed_accelerators": ["T4"], "max_gpus": 4}
    baseline, full = [], []
    for _ in range(runs):
        start = time.perf_counter()
        json.loads(path.read_text())
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        project = load_projects(path)[0]
        result = estimate(project, catalog)
        check(project, result, rails)
        full.append(time.perf_counter() - start)
    print(f"plan: {len(project.resources)} resources, {path.stat().st_size / 1e6:.1f} MB; "
          f"estimate ${result.monthly:,.0f}/month, unsupported {result.unsupported}")
    print(f"{'case':<48} {'median s':>9} {'min s':>7}")
    print(f"{'baseline: json.load of the plan':<48} {statistics.median(baseline):>9.3f} "
          f"{min(baseline):>7.3f}")
    target = " (target <= 1 s)" if count <= 11_000 else ""
    print(f"{'load + price + guardrails' + target:<48} {statistics.median(full):>9.3f} "
          f"{min(full):>7.3f}")


def main() -> None:
    counts = [int(n) for n in (sys.argv[1] if len(sys.argv) > 1 else "10000,100000").split(",")]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    for count in counts:
        measure(count, runs if count <= 11_000 else max(runs // 2, 1))


if __name__ == "__main__":
    main()
