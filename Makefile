# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
PORT ?= 8501

.PHONY: setup dev browser run test lint bench zoo load clean

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

dev: $(VENV)/.dev browser

# Debian's Chromium for the end-to-end tests (Playwright's own browser download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

test: dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: dev
	$(VENV)/bin/ruff check .

bench: dev
	$(PY) -m bench

zoo: dev
	$(PY) -m albertviz.train --all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
