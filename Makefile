# The README's commands. `make setup` is idempotent: it (re)builds .venv when pyproject changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

FRONTEND := src/vectra/web/frontend
VENDOR := src/vectra/web/static/vendor
ASSETS_STAMP := $(VENDOR)/.built

.PHONY: setup assets browser run test lint format clean

setup: $(STAMP) assets browser

# The end-to-end browser test drives Debian's chromium package (never a downloaded browser).
# Without it that test fails, saying so; as root, setup installs it.
browser:
	@command -v chromium >/dev/null 2>&1 || \
		if [ "$$(id -u)" = 0 ]; then (apt-get update && apt-get install -y chromium); \
		else echo "warning: chromium missing: run 'sudo apt-get install -y chromium'" >&2; fi

# Front-end packages come from the npm registry, pinned by package-lock.json, and are served
# from /static (no CDN). Without npm the app still runs, unstyled.
assets: $(ASSETS_STAMP)

$(ASSETS_STAMP): $(FRONTEND)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error && cd - >/dev/null && \
		mkdir -p $(VENDOR) && \
		cp $(FRONTEND)/node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/ && \
		cp $(FRONTEND)/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/ && \
		cp $(FRONTEND)/node_modules/chart.js/dist/chart.umd.js $(VENDOR)/ && \
		cp $(FRONTEND)/node_modules/swagger-ui-dist/swagger-ui-bundle.js $(VENDOR)/ && \
		cp $(FRONTEND)/node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/ && \
		touch $(ASSETS_STAMP); \
	else echo "warning: npm not found; pages will be served without their CSS/JS" >&2; fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: setup
	$(BIN)/vectra up

test: setup
	$(BIN)/python -m pytest -n auto -q

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(VENDOR) $(FRONTEND)/node_modules
