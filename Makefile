# Set-up is part of every target: a fresh clone needs only Python 3.11+ (with venv and pip) and make.
VENV ?= .venv
PYTHON ?= python3

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

.PHONY: install demo test
install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/miata demo

test: $(VENV)/.installed
	$(VENV)/bin/pytest -q -n auto  # tests wait on subprocess crawls and sockets: two workers halve the wall time
