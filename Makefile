# VizGen course: `make demo` sets everything up and grades the bundled samples; `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
VIZGEN := $(VENV)/bin/vizgen
NV := network_visualization/NetworkVisualization.ipynb
GAN := generative_adversarial_networks/GenerativeAdversarialNetworks.ipynb
ST := style_transfer/StyleTransfer.ipynb
SAMPLES := solutions/$(NV) assignments/$(NV) autograder/$(dir $(NV))samples/partial.ipynb \
           solutions/$(GAN) assignments/$(GAN) autograder/$(dir $(GAN))samples/partial.ipynb \
           solutions/$(ST) assignments/$(ST) autograder/$(dir $(ST))samples/partial.ipynb

.PHONY: install fetch demo test release references mnist-classifier bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $@

install: $(VENV)/.installed

fetch: install
	$(VIZGEN) fetch

demo: fetch
	$(VIZGEN) grade --hidden --csv results/demo.csv --json results/demo $(SAMPLES)

test: fetch
	$(PY) -m pytest -q

release: install
	$(VIZGEN) release --bundle dist/vizgen-student.zip

references: install
	$(VIZGEN) references build

mnist-classifier: fetch
	$(VIZGEN) models train-mnist

bench: fetch
	$(PY) benchmarks/run.py

clean:
	rm -rf results dist gradebook.db
