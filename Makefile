# Xiaobao Ledger — the two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: install run test lint bench clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	$(BIN)/xiaobao demo
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
