# The two commands a newcomer needs: `make run` and `make test`.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTHON  ?= python3
ADMIN_PASSWORD ?= Quality-First-2026!

.PHONY: run test lint typecheck bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	PHARMAQMS_ADMIN_PASSWORD="$${PHARMAQMS_ADMIN_PASSWORD:-$(ADMIN_PASSWORD)}" $(BIN)/pharmaqms init
	$(BIN)/pharmaqms demo
	@echo ""
	@echo "  pharmaqms is at http://127.0.0.1:8000  (API: /api/v1, OpenAPI: /openapi.json)"
	@echo "  Log in as admin / $(ADMIN_PASSWORD), or as any demo account above (password Clean-Room-Demo-26!)"
	@echo ""
	PHARMAQMS_DEMO=1 $(BIN)/pharmaqms serve --host 127.0.0.1 --port 8000

# The JUnit XML is the evidence `pharmaqms validation report` reads (docs/compliance.md).
test: $(STAMP)
	mkdir -p var
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --junitxml=var/test-results.xml

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done
