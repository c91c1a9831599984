# Xiaobao Ledger — the two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py | sha1sum | cut -c1-12)

.PHONY: install run test lint bench clean browser

# pip prints a line per package it collects and installs: progress, never a silent minute.
$(STAMP): pyproject.toml setup.py
	@echo "==> [1/3] virtual environment in $(VENV)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] upgrading pip"
	$(BIN)/pip install --progress-bar on --upgrade pip
	@echo "==> [3/3] installing xiaobao-ledger and its dependencies (a few minutes the first time)"
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	@echo "==> loading the demonstration year 2026 into ./var (under a minute; again: nothing new)"
	$(BIN)/xiaobao demo
	@echo "==> serving at the URL printed above (Ctrl-C stops it)"
	$(BIN)/xiaobao serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The dashboard's real-browser test drives Debian's chromium (CI runs as root).
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null && \
	  test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei)

test: lint browser
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m bench.settlement

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
