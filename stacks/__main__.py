"""`python -m stacks`: the cdktf app (see cdktf.json). Synthesizes every environment file.

Environment variables: TERRAML_ENV_DIR (default `environments`), TERRAML_ENVS (comma-separated
names to synthesize, default all). Bad input: one line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.errors import EXIT_BAD_INPUT, UserError


def main() -> int:
    from stacks.app import build_app, environment_files, load_environments

    try:
        envs = load_environments(environment_files(Path(os.environ.get("TERRAML_ENV_DIR",
                                                                        "environments"))))
        wanted = [n for n in os.environ.get("TERRAML_ENVS", "").split(",") if n]
        if wanted:
            unknown = sorted(set(wanted) - {e.name for e in envs})
            if unknown:
                raise UserError(f"TERRAML_ENVS: unknown environment(s) {', '.join(unknown)}")
            envs = [e for e in envs if e.name in wanted]
        app = build_app(envs)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
