# Two commands do all the set-up: `make demo` and `make test`. Both create or refresh .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.kit-installed

.PHONY: demo test lint bench clean guest

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kit needs Python >= 3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,lint]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kit demo

# the real Debian 12 guest's image (mmdebstrap + mkfs.ext4 -d), cached under ~/.cache/kit/realguest by recipe hash
guest: $(STAMP)
	$(VENV)/bin/kit lab guest build

# Azurite (the Blob witness test) from npm, pinned by its lock file; skipped where npm is missing
AZURITE := tests/azurite/node_modules/.package-lock.json
$(AZURITE): tests/azurite/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/azurite --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Azurite witness test will be skipped"; fi

test: $(STAMP) $(AZURITE)
	$(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

# ruff (F, E, I, B, UP, SIM), mypy over kit/, and the import-linter contracts of pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check kit tests benchmarks notebooks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	for script in benchmarks/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info tests/azurite/node_modules
