# The README's two commands, `make run` and `make test`, and the helpers they stand on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGS := $(wildcard locales/*/LC_MESSAGES/portal.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: setup run test lint contracts types pytest i18n api schemas bench clean

# torch for the conformance tests, CPU build. On Linux x86_64, `pip install torch==2.13.0` from PyPI
# is the CUDA build and pulls about 3 GB of nvidia-*, cuda-toolkit and triton wheels; PyTorch's CPU
# index has torch 2.13.0+cpu (a 192 MB wheel, 754 MB installed, no nvidia-* dependency), the one
# this project is tested with. Installed first, it satisfies the `torch` extra's torch==2.13.0.
# Elsewhere (macOS, Windows) PyPI's wheel is the CPU build already.
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
ifeq ($(shell uname -s),Linux)
# pip's own indexes and wheel caches first (no retries against an index this machine may not
# reach, for every dependency), PyTorch's CPU index only when they lack the wheel.
TORCH_CPU := $(BIN)/python -m pip install --quiet 'torch==2.13.0+cpu' 2>/dev/null \
	|| $(BIN)/python -m pip install --quiet --extra-index-url $(TORCH_CPU_INDEX) 'torch==2.13.0+cpu'
else
TORCH_CPU := @true
endif

# Create the virtual environment and install the project with its dev and torch extras.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(TORCH_CPU)
	$(BIN)/python -m pip install --quiet -e '.[dev,torch]'
	touch $(STAMP)

locales/%/LC_MESSAGES/portal.mo: locales/%/LC_MESSAGES/portal.po $(STAMP)
	$(BIN)/pybabel compile --statistics -D portal -i $< -o $@

setup: $(STAMP) $(COMPILED)

run: setup
	@if [ "$$(uname)" = "Linux" ] && [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "No display found: running the headless walkthrough (aic-portal demo) instead."; \
		$(BIN)/aic-portal demo; \
	else \
		$(BIN)/aic-portal-gui; \
	fi

test: setup lint contracts types pytest

lint: setup
	$(BIN)/ruff check portal ui tests
	$(BIN)/ruff format --check portal ui tests

contracts: setup
	$(BIN)/lint-imports

types: setup
	$(BIN)/mypy

pytest: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

# Extract messages from portal/ and ui/, merge them into every catalog, compile.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F pyproject.toml -k pgettext:1c,2 --sort-by-file \
		--project "AIC Partner Portal" --copyright-holder "AIC-Platform" \
		-o locales/portal.pot portal ui
	$(BIN)/pybabel update -D portal -i locales/portal.pot -d locales --no-fuzzy-matching
	$(BIN)/pybabel compile --statistics -D portal -d locales

# Write the sandbox's OpenAPI document; a test fails while the committed copy differs.
api: setup
	$(BIN)/python -c "import json; from portal.sandbox.app import create_app; \
	print(json.dumps(create_app(database_url='sqlite://').openapi(), indent=2, sort_keys=True))" \
	> resources/api/openapi.json

# Write the plugin manifest's JSON Schema; a test fails while the committed copy differs.
schemas: setup
	$(BIN)/python -c "import json; from portal.plugins.manifest import json_schema; \
	print(json.dumps(json_schema(), indent=2, sort_keys=True))" \
	> resources/schemas/standardplugin-v1.json

bench: setup
	QT_QPA_PLATFORM=$${QT_QPA_PLATFORM:-offscreen} $(BIN)/python tests/benchmarks/startup.py
	$(BIN)/python tests/benchmarks/sync_outbox.py
	$(BIN)/python tests/benchmarks/upload.py
	$(BIN)/python tests/benchmarks/plugin_pack.py
	$(BIN)/python tests/benchmarks/conformance.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python tests/benchmarks/exam_navigation.py
	$(BIN)/python tests/benchmarks/exam_save.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache locales/*/LC_MESSAGES/*.mo
