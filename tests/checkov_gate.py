"""Run checkov on synthesized stacks; fail on any check the failing resource does not
suppress with a written reason (`checkov:skip=<ID>:<reason>` under its `//` key).

Usage: python tests/checkov_gate.py CHECKOV_BIN CDKTF_OUT_DIR  (exit 0 = clean)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def suppressions(outdir: Path) -> dict[tuple[str, str, str], str]:
    """(file as checkov names it, logical name, check id) -> reason. checkov names a
    resource `resource.<name>` in some checks and `<type>.<name>` in others."""
    found: dict[tuple[str, str, str], str] = {}
    for stack in outdir.glob("stacks/*/cdk.tf.json"):
        document = json.loads(stack.read_text())
        file_path = f"/{stack.relative_to(outdir)}"
        for kind in ("resource", "data"):
            for items in document.get(kind, {}).values():
                for name, body in items.items():
                    for line in body.get("//", {}).get("checkov", []):
                        check_id, _, reason = line.removeprefix("checkov:skip=").partition(":")
                        found[(file_path, name, check_id)] = reason
    return found


def failures(checkov: str, outdir: Path) -> tuple[list[dict], dict]:
    result = subprocess.run([checkov, "-d", str(outdir), "--framework", "terraform_json",
                             "--quiet", "--compact", "-o", "json", "--skip-download"],
                            capture_output=True, text=True, check=False)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f for r in reports for f in r.get("results", {}).get("failed_checks", [])]
    summary = reports[0].get("summary", {})
    return failed, summary


def gate(checkov: str, outdir: Path) -> tuple[list[str], int, dict]:
    """(unsuppressed failures, suppressed count, checkov summary)."""
    allowed = suppressions(outdir)
    failed, summary = failures(checkov, outdir)
    bad, suppressed = [], 0
    for item in failed:
        name = item["resource"].split(".", 1)[-1]
        if (item["file_path"], name, item["check_id"]) in allowed:
            suppressed += 1
        else:
            bad.append(f"{item['check_id']} {item['resource']} ({item['file_path']}): "
                       f"{item['check_name']}")
    return bad, suppressed, summary


if __name__ == "__main__":
    unsuppressed, count, summary = gate(sys.argv[1], Path(sys.argv[2]))
    print(f"checkov: {summary.get('passed')} passed, {len(unsuppressed)} failed, "
          f"{count} suppressed with a reason in code, "
          f"{summary.get('parsing_errors')} parsing errors")
    for line in unsuppressed:
        print("  " + line)
    sys.exit(1 if unsuppressed or summary.get("parsing_errors") else 0)
