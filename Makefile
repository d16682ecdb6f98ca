# Basira — the two set-up commands are `make demo` and `make test`; everything else follows from them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= ../shared/datasets
STAMP  := $(VENV)/.installed
# The web app's graph library (cytoscape.js, pinned in package.json/package-lock.json); git-ignored.
VENDOR := basira/web/static/vendor/cytoscape.min.js

.PHONY: install system-deps demo test lint typecheck bench train eval clean i18n

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

$(VENDOR): package.json package-lock.json | $(STAMP)  # after system-deps (npm)
	npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p $(@D) && cp node_modules/cytoscape/dist/cytoscape.min.js $@

install: $(STAMP) $(VENDOR)

demo: install
	$(BIN)/basira demo

lint: install
	$(BIN)/ruff check basira tests bench

typecheck: install
	$(BIN)/python -m mypy  # files and --strict from [tool.mypy] in pyproject.toml

# The PostgreSQL half of the suite needs a server: started (or installed, as root) first. When that is not
# possible the tests say loudly how many were skipped and why (tests/conftest.py); BASIRA_REQUIRE_PG=1 fails them.
test: install lint typecheck
	@bash scripts/ensure-postgres.sh || echo "make test: PostgreSQL is not available; its tests will be SKIPPED (count and reason at the end)" >&2
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.run

train: install
	$(BIN)/basira train --data $(DATA)

eval: install
	$(BIN)/basira eval $(DATA)/*.jsonl --dev-only

# The interface's catalogues: re-extract the strings, merge them into each language, compile the .mo files
# (committed, so an install needs no build step; tests/test_web_i18n.py fails when a .mo is stale).
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ -k say:2 -k say_n:2,3 -k _say -o basira/web/locale/basira.pot .
	$(BIN)/pybabel update -D basira -i basira/web/locale/basira.pot -d basira/web/locale -w 120 --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -D basira -d basira/web/locale --statistics

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache node_modules basira/web/static/vendor
