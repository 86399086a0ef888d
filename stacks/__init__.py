"""Stacks: one TerraformStack per environment file (`ml-<env>`)."""

import os

# The jsii runtime prints a large end-of-life banner on Node 20; it is harmless
# (we document Node >= 20, 22 recommended) and must not reach user-facing output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
