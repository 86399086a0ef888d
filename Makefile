# One entry point: `make run` (embedded default, no cloud account) and `make test`.
# Both create .venv and install what they need. Needs python3 >= 3.10, Node.js >= 20
# (22 recommended) for the jsii runtime, and Terraform >= 1.10 for the local deploy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CHECKOV := .venv-checkov/bin/checkov
CDKTF := .tools/node_modules/.bin/cdktf

.PHONY: run test synth bench lint checkov clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --upgrade pip
	.venv-checkov/bin/python -m pip install -q checkov

$(CDKTF):
	mkdir -p .tools && cd .tools && npm install --no-audit --no-fund --loglevel=error cdktf-cli@0.21.0

DEMO_REGISTRY := 123456789012.dkr.ecr.us-east-1.amazonaws.com

run: $(STAMP)
	$(BIN)/terraml synth
	$(BIN)/terraml synth --env-dir examples --out cdktf.out/examples
	$(BIN)/terraml up --env dev --local \
	  && $(BIN)/terraml train --env dev --image $(DEMO_REGISTRY)/terraml-dev-train:demo \
	       --entry "python train.py --epochs 3" --wait \
	  && $(BIN)/terraml pipeline deploy --env dev \
	  && $(BIN)/terraml pipeline stage-report --env dev --metric auc=0.91 \
	  && $(BIN)/terraml pipeline run --env dev --poll 1 \
	  && $(BIN)/terraml models --env dev \
	  && $(BIN)/terraml approve --env dev --version 1 --reason "auc 0.91 on the holdout set" \
	  && $(BIN)/terraml deploy-model --env dev --latest-approved \
	       --image $(DEMO_REGISTRY)/terraml-dev-serve:demo \
	  && $(BIN)/terraml monitor stage-data --env dev examples/data/churn-baseline.csv --to raw/training/ \
	  && $(BIN)/terraml monitor baseline --env dev --poll 1 \
	       --data s3://terraml-dev-raw-123456789012-us-east-1/training/churn-baseline.csv \
	  && $(BIN)/terraml monitor stage-data --env dev examples/data/churn-requests.csv \
	       --to raw/inference-requests/ \
	  && $(BIN)/terraml monitor run --env dev --poll 1 \
	  && $(BIN)/terraml monitor status --env dev --html cdktf.out/drift.html \
	  && $(BIN)/terraml status --env dev \
	  && $(BIN)/terraml stop-idle --env dev --idle-hours 0.001; status=$$?; \
	  $(BIN)/terraml down --env dev --local; exit $$status

synth: $(STAMP)
	$(BIN)/terraml synth

test: $(STAMP) $(CHECKOV) $(CDKTF)
	$(BIN)/ruff check .
	TERRAML_CHECKOV=$(CHECKOV) $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/synth.py
	$(BIN)/python bench/cost.py

lint: $(STAMP)
	$(BIN)/ruff check .

checkov: $(STAMP) $(CHECKOV)
	$(BIN)/terraml synth
	$(BIN)/python tests/checkov_gate.py $(CHECKOV) cdktf.out

clean:
	rm -rf cdktf.out .terraml
