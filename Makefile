# The README's two commands are `make demo` and `make test`; each sets up .venv by itself.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A CPU build of torch; a range admitting newer releases would pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo corpus model model-chipvoice model-eval bench-jsb test test-slow test-all check lint types fmt clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)" -e ".[dev,train]"
	touch $@

venv: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/chipline make --out demo --overwrite
	@echo "open demo/index.html to listen; demo/manifest.json lists every file"

# The default model (src/chipline/models/default): corpus recipe, datasets, mix, training, export.
# `make corpus` needs network access to PyPI (music21, build-time only) and Debian's archive.
# Training runs a fixed number of steps (about 20 min on 2 idle CPU cores, one thread each model).
CORPUS ?= build/corpus
RUN ?= build/runs/default
MIX_TOKENS ?= 48000000
corpus:
	python3 tools/build_corpus.py --out $(CORPUS)

model: $(BIN)/.installed
	for p in bach folk game; do \
	  $(BIN)/chipline ingest $(CORPUS)/$$p --out build/data/$$p --transpose -3..3 || exit 1; done
	$(BIN)/python tools/mix_datasets.py --out build/data/mix --train-tokens $(MIX_TOKENS) \
	  --eval-tokens 60000 bach=build/data/bach:0.35 folk=build/data/folk:0.35 game=build/data/game:0.30
	$(BIN)/chipline train --dataset build/data/mix --run-dir $(RUN) \
	  --layer-sizes 128,128 --dropout 0.1 --batch-size 32 --window 128 --learning-rate 0.002 \
	  --num-training-steps 12000 --eval-every 1000 --checkpoint-every 1000 --num-threads 1 \
	  --summary-frequency 100 --seed 0
	cp $(RUN)/checkpoints/step-00012000/config.json \
	   $(RUN)/checkpoints/step-00012000/model.safetensors src/chipline/models/default/

# The bundled chip-voice model (src/chipline/models/chipvoice, `chipline make --model chipvoice`):
# the same corpus, mix, size and training time as the default; see BENCHMARKS.md.
CV_RUN ?= build/runs/chipvoice
CV_MODEL ?= src/chipline/models/chipvoice
model-chipvoice: $(BIN)/.installed
	for p in bach folk game; do \
	  $(BIN)/chipline ingest $(CORPUS)/$$p --out build/data/cv-$$p --codec chipvoice \
	  --chip nes --chip vrc6 --transpose -3..3 || exit 1; done
	$(BIN)/python tools/mix_datasets.py --out build/data/cv-mix --train-tokens $(MIX_TOKENS) \
	  --eval-tokens 60000 bach=build/data/cv-bach:0.35 folk=build/data/cv-folk:0.35 \
	  game=build/data/cv-game:0.30
	$(BIN)/chipline train --dataset build/data/cv-mix --run-dir $(CV_RUN) \
	  --layer-sizes 128,128 --dropout 0.1 --batch-size 32 --window 256 --learning-rate 0.002 \
	  --num-training-steps 5400 --eval-every 600 --checkpoint-every 600 --num-threads 1 \
	  --summary-frequency 100 --seed 0
	cp $(CV_RUN)/checkpoints/step-00005400/config.json \
	   $(CV_RUN)/checkpoints/step-00005400/model.safetensors $(CV_MODEL)/

# The quality numbers of the model card (held-out NLL per sub-corpus, Yang-Lerch per sub-corpus).
model-eval: $(BIN)/.installed
	$(BIN)/chipline eval src/chipline/models/default --max-tokens 100000 \
	  --dataset build/data/bach --dataset build/data/folk --dataset build/data/game \
	  --reference bach=$(CORPUS)/bach:build/data/bach --reference folk=$(CORPUS)/folk:build/data/folk \
	  --reference game=$(CORPUS)/game:build/data/game --num-samples 50 --steps 128

bench-jsb: $(BIN)/.installed
	$(BIN)/python bench/jsb.py --minutes 20 --layer-sizes 128,128 --dropout 0.2 \
	  --learning-rate 0.003 --transpose 1 --steps 6000 --checkpoint-every 100

# pytest exits 5 when a marker selects no test; that is not a failure here.
test: $(BIN)/.installed
	$(BIN)/python -m pytest -q || [ $$? -eq 5 ]

test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]

test-all: test test-slow

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(BIN)/.installed
	$(BIN)/mypy

check: lint types test test-slow

fmt: $(BIN)/.installed
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo
