"""Dev idle cost of the production ML-ops layers (drift monitoring, feature store, notebooks):
synthesize examples/{aws,gcp,azure}-mlops.yaml twice, as shipped and without the three layers,
both with notebooks stopped (notebooks.hours_per_month: 0), price both and print what the three
layers add a month per cloud, plus what the catalog could not price (named, never guessed).

Usage: python bench/mlops_idle.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLOUDS = ("aws", "gcp", "azure")
LAYERS = re.compile(r"^(  drift:\n(    .*\n)+)|^(features:\n(  .*\n)+)|^(notebooks:\n(  .*\n)+)",
                    re.MULTILINE)


def _write(folder: Path) -> None:
    folder.mkdir()
    for cloud in CLOUDS:
        text = (ROOT / f"examples/{cloud}-mlops.yaml").read_text()
        stopped = text.replace("  hours_per_month: 30\n", "  hours_per_month: 0\n")
        (folder / f"{cloud}-mlops.yaml").write_text(stopped)
        bare = LAYERS.sub("", text).replace("name: ", "name: base-", 1)
        (folder / f"base-{cloud}-mlops.yaml").write_text(bare)


def main() -> None:
    from cost.catalog import load_catalog
    from cost.estimate import estimate
    from cost.inputs import load_projects

    with tempfile.TemporaryDirectory() as tmp:
        envs, out = Path(tmp) / "envs", Path(tmp) / "out"
        _write(envs)
        subprocess.run([sys.executable, "-m", "terraml", "synth", "--env-dir", str(envs),
                        "--out", str(out)], check=True, cwd=ROOT, capture_output=True)
        catalog = load_catalog()
        costs = {p.name: estimate(p, catalog) for p in load_projects(out)}
    for cloud in CLOUDS:
        full, base = costs[f"ml-{cloud}-mlops"], costs[f"ml-base-{cloud}-mlops"]
        before = {r.address.replace("ml-base-", "ml-"): r.monthly or 0.0 for r in base.resources}
        print(f"{cloud}: ${full.monthly - base.monthly:.2f}/month added by the three layers "
              f"with notebooks stopped (${full.monthly:.2f} with them, ${base.monthly:.2f} "
              "without)")
        for resource in full.resources:
            added = (resource.monthly or 0.0) - before.get(resource.address, 0.0)
            if abs(added) >= 0.005:
                print(f"  {resource.address}: +${added:.2f}")
            if resource.unpriced_reason and resource.address not in before:
                print(f"  {resource.address}: unpriced ({resource.unpriced_reason})")
            if resource.address in before:
                continue
            for line in resource.components:
                gaps = [n for n in line.note.split("; ") if "not priced" in n or
                        "no sourced" in n or "no figure" in n]
                if gaps:
                    print(f"  {resource.address}: {'; '.join(gaps)}")

if __name__ == "__main__":
    main()
