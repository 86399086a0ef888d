"""Synth speed and memory: one AWS environment and all environments, next to a baseline
measured in the same run (a fresh interpreter importing the AWS provider binding alone).

Prints wall time (median of N runs) and peak RSS of the whole process tree (Python plus
the jsii Node.js kernel), sampled from /proc every 20 ms. Usage: python bench/synth.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(ln.split()[1] for ln in status.splitlines()
                              if ln.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def measure(argv: list[str]) -> tuple[float, int]:
    """(wall seconds, peak tree RSS in MB) of one run of `argv`."""
    import os

    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, **ENV})
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss_kb(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {process.stderr.read().decode()[-500:]}")
    return wall, peak // 1024


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    out = tempfile.mkdtemp(prefix="terraml-bench-")
    cases = {
        "baseline: import AWS binding": [PY, "-c", ("import cdktn_provider_aws.provider, "
                                         "cdktn_provider_aws.s3_bucket")],
        "synth one AWS environment (dev)": [PY, "-m", "terraml", "synth", "--env", "dev",
                                            "--out", out],
        "synth all environments (3)": [PY, "-m", "terraml", "synth", "--out", out],
    }
    gcp_dir = Path(tempfile.mkdtemp(prefix="terraml-bench-gcp-"))
    (gcp_dir / "dev.yaml").write_text((ROOT / "examples/gcp-dev.yaml").read_text())
    azure_dir = Path(tempfile.mkdtemp(prefix="terraml-bench-azure-"))
    (azure_dir / "dev.yaml").write_text((ROOT / "examples/azure-dev.yaml").read_text())
    cases.update({
        "baseline: import GCP binding": [PY, "-c", ("import cdktn_provider_google.provider, "
                                         "cdktn_provider_google.storage_bucket")],
        "synth one GCP environment (dev)": [PY, "-m", "terraml", "synth", "--env-dir",
                                            str(gcp_dir), "--out", out],
        "baseline: import Azure bindings": [PY, "-c", ("import cdktn_provider_azurerm.provider, "
                                            "cdktn_provider_azapi.provider")],
        "synth one Azure environment (dev)": [PY, "-m", "terraml", "synth", "--env-dir",
                                              str(azure_dir), "--out", out],
    })
    for warm in ("baseline: import AWS binding", "baseline: import GCP binding",
                 "baseline: import Azure bindings"):
        measure(cases[warm])  # warm the bytecode cache
    print(f"{'case':<36} {'wall s (median)':>16} {'min':>7} {'peak RSS MB':>12}")
    for name, argv in cases.items():
        samples = [measure(argv) for _ in range(runs)]
        walls = [w for w, _ in samples]
        print(f"{name:<36} {statistics.median(walls):>16.2f} {min(walls):>7.2f} "
              f"{max(r for _, r in samples):>12}")


if __name__ == "__main__":
    main()
