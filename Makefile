# gpu-platform: `make preview` (offline preview of dev), `make test` (ruff, pyright, pytest)
# and `make e2e` (the dev stack on a real Docker engine, as root; see tests/e2e/run.sh).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | cksum | cut -d' ' -f1)
SCANNERS ?= .venv-scanners
SCANNERS_STAMP := $(SCANNERS)/.installed-$(shell cat requirements-scanners.txt constraints-scanners.txt | cksum | cut -d' ' -f1)

.PHONY: preview test lint typecheck unit scanners benchmark e2e clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	rm -f $(VENV)/.installed-*
	touch $@

# checkov and kubernetes-validate live apart: checkov pins a `packaging` that breaks pulumi.
$(SCANNERS_STAMP): requirements-scanners.txt constraints-scanners.txt
	test -x $(SCANNERS)/bin/python || $(PYTHON) -m venv $(SCANNERS)
	$(SCANNERS)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scanners.txt -c constraints-scanners.txt
	rm -f $(SCANNERS)/.installed-*
	touch $@

scanners: $(SCANNERS_STAMP)

preview: $(STAMP)
	$(PY) -m preview dev

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/pyright

# A worker per core; a test file stays on one worker, so the stack runs its tests share (the session
# cache in tests/conftest.py) are made once per file, not once per test. WORKERS=0 runs in-process.
# (Grouping the files that share the blueprint x target runs onto one worker, --dist loadfile, measured
# slower here: 155 s against 133 s.)
WORKERS ?= auto
unit: $(STAMP) $(SCANNERS_STAMP)
	$(PY) -m pytest -n $(WORKERS) --dist loadfile

benchmark: $(STAMP)
	$(PY) -m preview.benchmark

# Installs docker.io and mmdebstrap if missing, starts dockerd if none answers (stops only that one),
# builds local stand-in images, applies the dev stack, checks it from outside, tears it down.
e2e: $(STAMP)
	PY=$(PY) tests/e2e/run.sh

clean:
	rm -rf $(VENV) $(SCANNERS) .pytest_cache .ruff_cache build
