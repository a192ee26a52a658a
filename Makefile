# gpu-platform: `make preview` (offline preview of dev) and `make test` (ruff, pyright, pytest).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | cksum | cut -d' ' -f1)

.PHONY: preview test lint typecheck unit benchmark clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	rm -f $(VENV)/.installed-*
	touch $@

preview: $(STAMP)
	$(PY) -m preview dev

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/pyright

unit: $(STAMP)
	$(PY) -m pytest

benchmark: $(STAMP)
	$(PY) -m preview.benchmark

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
