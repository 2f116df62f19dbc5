# VizGen course: `make demo` sets everything up and grades the bundled samples; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
VIZGEN := $(VENV)/bin/vizgen
# Each assignment's solution, release and samples/*.ipynb, from the course itself (`vizgen samples`);
# expanded when `demo` runs, after install.
SAMPLES = $(shell $(VIZGEN) samples)

.PHONY: install fetch demo test release references manifest mnist-classifier bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $@

# The confined grading kernel's spec names a module path: written on every install, so it follows the code.
install: $(VENV)/.installed
	$(PY) -m vizgen.engine.kernel --install >/dev/null

fetch: install
	$(VIZGEN) fetch

demo: fetch
	$(VIZGEN) grade --hidden --csv results/demo.csv --json results/demo $(SAMPLES)

test: fetch
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

release: install
	$(VIZGEN) release --bundle dist/vizgen-student.zip

references: install
	$(VIZGEN) references build

manifest: install
	$(VIZGEN) manifest

mnist-classifier: fetch
	$(VIZGEN) models train-mnist

bench: fetch
	$(PY) benchmarks/run.py

clean:
	rm -rf results dist gradebook.db
