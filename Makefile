# Two commands on a fresh machine (Python 3.11, pip, make, git):
#   make demo   installs what it needs, runs the whole pipeline on the bundled sample data
#   make test   installs what it needs, runs ruff and every test (pytest, dbt unit/data tests, DAG tests)
PYTHON ?= python3
UV_VERSION = 0.13.9
TOOLS = .tools
UV = $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS = never
export DO_NOT_TRACK = 1
export GX_ANALYTICS_ENABLED = false
export DBT_SEND_ANONYMOUS_USAGE_STATS = false

.PHONY: setup demo test test-fast lint clean airflow docs

# The project's own modules are not in site-packages (an editable install), so --compile-bytecode
# below leaves them out: compiled here, each time (only what changed since), or every process that
# imports the registry (each CLI call, Airflow task, test subprocess) compiles it from source again.
setup: .venv/.synced
	.venv/bin/python -m compileall -q registry dags ops

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the packages' .pyc are written once here. Where PYTHONDONTWRITEBYTECODE is set
# (this machine, CI), Python otherwise compiles dbt, Great Expectations and Airflow from source in every
# process: 7-10 s per process, a third of `registry demo` and minutes of `make test`.
.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	touch $@

demo: setup
	.venv/bin/registry demo

# Airflow on this machine: AIRFLOW_HOME in var/airflow, the pool the DAGs use, the UI on 127.0.0.1.
# The inbox is $REGISTRY_INBOX; unset, this demo target fills var/airflow/demo_inbox with the bundled samples and says so.
airflow: setup
	.venv/bin/python -m ops.airflow_local up --demo-inbox

# dbt docs, GX Data Docs and the lists/reports of the demo database, served on 127.0.0.1:8081.
docs: setup
	test -f var/demo/registry.duckdb || .venv/bin/registry demo
	.venv/bin/python -m ops.docs

lint: setup
	.venv/bin/ruff check .

# Three workers on the 2-core machine (one module each at a time), in the order tests/conftest.py gives
# (the longest modules first; --no-loadscope-reorder: pytest-xdist would otherwise start the modules
# with the most tests first, and the Spark lane, few tests but four minutes, last: 11.5 against 10.2
# min measured). Three, not two: with two, about a quarter of the CPU sat idle (Spark's and
# Airflow's processes, children and servers waited on). The gain is small: back to back in one hour,
# two workers 10 min 12 s, three 9 min 55 s; this machine's speed varies more than that by the hour
# (the same suite took 7 min 48 s to 10 min 25 s with three). docs/scaling.md, "The test suite".
# The 25 slowest tests are listed at the end of the output.
XDIST = -n 3 --dist loadfile --no-loadscope-reorder
test: lint
	.venv/bin/pytest $(XDIST) --durations=25

# The fast part (no dbt build, no Airflow, no browser, no Spark): for developers, under two minutes.
test-fast: setup
	.venv/bin/pytest $(XDIST) -m "not slow and not e2e" --durations=10

clean:
	rm -rf var .venv $(TOOLS)
