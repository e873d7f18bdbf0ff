# rayqa: the two commands of the README.
#   make demo   set up .venv, train + index + serve + ask the demo corpus end to end
#   make test   set up .venv (with test extras) and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# The CPU wheel of torch: a bare "torch" requirement can pull a multi-GB CUDA build.
# On GPU machines run `make setup TORCH_SPEC="torch==2.13.0"` with a CUDA index instead.
TORCH_SPEC ?= torch==2.13.0
SHARED ?= $(abspath ../shared)

export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false

.PHONY: setup browser demo test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

# Headless Chromium and its driver from Debian, for the web page's test (tests/test_serve.py
# drives the page through selenium). Installed when missing and the user is root (CI);
# elsewhere install `chromium chromium-driver` yourself, or that one test skips.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver >/dev/null; \
	else echo "make browser: no chromium; install chromium and chromium-driver" >&2; fi

demo: setup
	$(VENV)/bin/rayqa demo --workdir runs/demo

# Two pytest processes, a test file each at a time (pytest-xdist; each has its own Ray):
# on 2 cores the suite takes ~20 minutes instead of ~31, as one process leaves a core
# idle while it waits on process starts and I/O. TEST_WORKERS=0 runs it in one process.
# Tests that start Ray nodes of their own (marker `nodes`) run afterwards, alone: a
# raylet whose agents take over Ray's fixed 15 s to start exits (ray-project/ray#65983),
# which the other process's training made happen on 2 cores.
TEST_WORKERS ?= 2

test: setup browser
	RAYQA_SHARED=$(SHARED) NLTK_DATA=$(SHARED)/data/nltk_data $(PY) -m pytest -q -ra --durations=25 \
		-n $(TEST_WORKERS) --dist loadfile -m "not nodes"
	RAYQA_SHARED=$(SHARED) NLTK_DATA=$(SHARED)/data/nltk_data $(PY) -m pytest -q -ra -m nodes

test-fast: setup
	RAYQA_SHARED=$(SHARED) NLTK_DATA=$(SHARED)/data/nltk_data $(PY) -m pytest -q -m "not ray"

bench: setup
	$(PY) bench/encode.py
	$(PY) bench/train_step.py

clean:
	rm -rf runs .pytest_cache
