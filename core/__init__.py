"""The bottom layer: errors, the environment spec and its YAML line mapping, the neutral
stack-output contract and the capability names. It imports nothing else of terraml's;
every other package may import it (see the import-linter contract in pyproject.toml)."""
