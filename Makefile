# The two commands a newcomer needs:  make book   and   make test
# Both create the virtual environment and install everything on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WIDGET_JS := node_modules/.installed
# Test workers (pytest-xdist, --dist loadfile: one test file or notebook per worker at a time): the cores, at most 4.
# --no-loadscope-reorder keeps the order of conftest.py (longest files first) instead of xdist's (most tests first).
JOBS   ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: book pdf test execute bench clean help

help:
	@echo "make book     build the HTML book into _build/html (from committed outputs)"
	@echo "make pdf      build the whole book as one PDF into _build/pdf/book.pdf (offline)"
	@echo "make test     run every test (unit, notebooks in fast mode, HTML build, browser)"
	@echo "make execute  re-run chapters on the full data and stamp them (slow; NB=book/<file>.ipynb for one)"
	@echo "make bench    print benchmarks: test suite, book build, fit speed, full runs (FULL=1 re-runs chapters)"
	@echo "make clean    remove build outputs"

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: install Python 3.10-3.12 with venv (Debian: apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

$(WIDGET_JS): package.json package-lock.json
	@bash tools/system-deps.sh node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

book: $(STAMP) $(WIDGET_JS)
	$(PY) tools/build_book.py

pdf: $(STAMP) $(WIDGET_JS)
	@bash tools/system-deps.sh chromium fonts
	$(PY) tools/build_pdf.py

test: $(STAMP) $(WIDGET_JS)
	@bash tools/system-deps.sh data chromium fonts
	$(PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder

execute: $(STAMP)
	$(PY) -m tools.execute --jobs $(JOBS) $(NB)

bench: $(STAMP) $(WIDGET_JS)
	@bash tools/system-deps.sh data
	$(PY) tools/bench.py --jobs $(JOBS) $(if $(FULL),--full,)

clean:
	rm -rf _build
