# Two commands for a newcomer: `make demo` (set up, build the warehouse on sample data, audit,
# dashboards) and `make test` (every test). Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.uv-bootstrap/bin/uv)
export UV_PYTHON_DOWNLOADS := never
# Installed packages are compiled to bytecode once, at install: where PYTHONDONTWRITEBYTECODE is set (as on
# this machine) Python would otherwise compile dbt anew at every start of the CLI (dbt's import 2.5 s → 1.3 s).
export UV_COMPILE_BYTECODE := 1
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

DEMO_DIR := demo
DEMO_WAREHOUSE := $(DEMO_DIR)/warehouse.duckdb
SUBSIDY := .venv/bin/subsidy

.PHONY: help setup browser postgres demo test test-spark lint bench bench-engines fuzz clean

help:
	@echo "make demo   set up, generate sample data, build the warehouse, audit it, build the dashboards"
	@echo "make test   run every test (dbt unit and data tests run inside the end-to-end builds)"
	@echo "make test-spark  the cross-engine comparison on Spark (slow; not part of make test)"
	@echo "make lint   ruff on the Python code"
	@echo "make bench  time raw load, build, audit and a daily load against plain DuckDB (100k, 1M; BENCH_10M=1)"
	@echo "make bench-engines  time subsidy build on DuckDB, PostgreSQL and Spark on the same files (sample, 1M)"
	@echo "make fuzz   mutate the sample's raw and bureau files into 200 variants and check every invariant"

$(CURDIR)/.uv-bootstrap/bin/uv:
	python3 -m venv .uv-bootstrap
	.uv-bootstrap/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

# The dashboards' Node packages, exactly as locked (patch-package applies reports/patches on install). Packages
# already in npm's cache are taken from it without asking the registry, and no audit or funding request is made:
# 20.8 / 22.7 s instead of 24.3 / 28.1 s here (the lock pins every version and its hash either way).
reports/node_modules/.installed: reports/package.json reports/package-lock.json $(wildcard reports/patches/*)
	cd reports && npm ci --prefer-offline --no-audit --no-fund
	touch $@

# Both at once (they share nothing): a fresh clone's setup takes 24 s instead of 30 s here.
setup:
	@$(MAKE) --no-print-directory -j2 --output-sync=target .venv/.synced reports/node_modules/.installed

# Headless Chromium and CJK fonts for the browser tests (Debian packages; Playwright downloads no browser),
# and tmux, in which the test of `subsidy sql` drives the console.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TEST_DEBS := chromium fonts-noto-cjk tmux
browser:
	@dpkg -s $(TEST_DEBS) >/dev/null 2>&1 || { \
		$(SUDO) apt-get install -y -qq $(TEST_DEBS) >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(TEST_DEBS); }; }

# PostgreSQL 15 server binaries for the cross-engine tests (each test session starts its own server).
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
		$(SUDO) apt-get install -y -qq postgresql-15 >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql-15; }; }

demo: setup
	rm -rf $(DEMO_DIR)/raw $(DEMO_DIR)/bureau_files $(DEMO_DIR)/loaded
	$(SUBSIDY) generate --out $(DEMO_DIR)/raw
	$(SUBSIDY) build --raw-dir $(DEMO_DIR)/raw --warehouse $(DEMO_WAREHOUSE)
	@echo ""
	@echo "== The same records as bureaus send them (.xlsx, GBK .csv), loaded and built =="
	$(SUBSIDY) generate --out $(DEMO_DIR)/bureau_files --messy
	$(SUBSIDY) load $(DEMO_DIR)/bureau_files/* --raw-dir $(DEMO_DIR)/loaded
	$(SUBSIDY) build --raw-dir $(DEMO_DIR)/loaded --warehouse $(DEMO_DIR)/warehouse_from_bureau_files.duckdb
	@echo ""
	@echo "== Audit: every check rerun read-only on $(DEMO_WAREHOUSE) (the sample has fatal findings on purpose) =="
	@$(SUBSIDY) audit --warehouse $(DEMO_WAREHOUSE) --out $(DEMO_DIR)/audits; status=$$?; [ $$status -le 1 ] || exit $$status
	@echo ""
	@echo "== Dashboards (Evidence, offline) from a copy of $(DEMO_WAREHOUSE) =="
	$(SUBSIDY) dashboards build --warehouse $(DEMO_WAREHOUSE) --audits $(DEMO_DIR)/audits
	@echo ""
	@echo "Warehouse: $(DEMO_WAREHOUSE)   try: $(SUBSIDY) query \"select * from marts.fct_awards limit 5\" -w $(DEMO_WAREHOUSE)"

# One worker per core (at most 4); each module runs on one worker, so its module fixtures are built once, and
# modules start in collection order (tests/conftest.py puts the longest first) instead of xdist's by test count.
# Python may write its bytecode caches (.pyc) here even where PYTHONDONTWRITEBYTECODE is set: the tests start
# the CLI hundreds of times, and without them every start compiles the project's own modules anew (and dbt,
# Great Expectations and polars too, in a .venv installed before UV_COMPILE_BYTECODE above).
test: setup browser postgres
	.venv/bin/ruff check src tests bench
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/pytest -n auto --maxprocesses 4 --dist loadscope --no-loadscope-reorder

# The same comparison on Spark (Java 17, pyspark from the `spark` extra): minutes per build, so not in `make test`.
test-spark: setup postgres
	$(UV) sync --frozen --extra spark
	.venv/bin/pytest -m spark tests/python/test_engines_spark.py; status=$$?; $(UV) sync --frozen; exit $$status

lint: setup
	.venv/bin/ruff check src tests bench

# Timings against plain DuckDB on the same data (never part of the tests: wall time is not asserted):
# 100k and 1M applications (BENCH_10M=1 adds 10M), medians of BENCH_RUNS rounds; bench/results.json.
bench: setup
	.venv/bin/python bench/bench_build.py --runs $${BENCH_RUNS:-3}

# `subsidy build` on DuckDB, PostgreSQL (a server started for the run) and Spark (local[2]) from the same raw
# files, sample and 1M applications (BENCH_SIZES); bench/results-engines.json. Needs the `spark` extra, as test-spark.
bench-engines: setup postgres
	$(UV) sync --frozen --extra spark
	.venv/bin/python bench/bench_engines.py --sizes $${BENCH_SIZES:-sample,1M} --runs $${BENCH_RUNS:-1}; \
		status=$$?; $(UV) sync --frozen; exit $$status

# Hostile inputs at scale (not part of `make test`: it runs hundreds of real builds). Prints the tally.
fuzz: setup
	.venv/bin/python tests/hostile/fuzz.py --variants $${FUZZ_VARIANTS:-200}

clean:
	rm -rf $(DEMO_DIR) target logs .pytest_cache test-artifacts reports/build reports/.evidence
