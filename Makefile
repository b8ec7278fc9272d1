# gil-lab: every target is a thin call into the lab (python3 -m loadtests.* before the
# control-plane venv exists, .venv/bin/gil-lab after). `make help` lists them.
PYTHON   ?= python3
GIL_LAB  := .venv/bin/gil-lab
PRESET   ?= default
SCENARIO ?=
RUN      ?=
PYTEST_ARGS ?=
SETUP    := $(PYTHON) -m loadtests.cli.bootstrap setup

.DEFAULT_GOAL := help
.PHONY: help setup compare test test-app lint report audit lock system-deps clean clean-all

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup: ## find or build 3.14 and 3.14t, then sync .venv and .envs/app-{gil,ft}
	$(SETUP)

# CPython's build headers first, so an interpreter built by this set-up is complete, and perf for the
# diagnosis's native profiles; without root it prints the apt-get line and goes on (existing
# interpreters need no headers; without perf the diagnosis says so and runs without profiles).
compare: ## build headers and perf (as root), set-up, then run PRESET (default: default) and print the verdict; SCENARIO= narrows it
	$(PYTHON) -m loadtests.provision.sysdeps --install --best-effort --for build,profile
	$(SETUP)
	$(GIL_LAB) compare --preset $(PRESET) $(if $(SCENARIO),--scenario $(SCENARIO))

system-deps: ## install missing Debian packages (CPython build headers, Chromium) when root
	$(PYTHON) -m loadtests.provision.sysdeps --install

test: system-deps setup ## the whole suite: lab tests, then the app's tests on 3.14 and on 3.14t
	.venv/bin/python -m pytest tests --ignore=tests/app $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-app

test-app: ## the app's own tests inside both app environments
	.envs/app-gil/bin/python -m pytest tests/app -p no:cacheprovider $(PYTEST_ARGS)
	.envs/app-ft/bin/python -m pytest tests/app -p no:cacheprovider $(PYTEST_ARGS)

lint: setup ## ruff, mypy, the stage contracts, the run.json docs; hadolint and compose validation over docker/
	.venv/bin/ruff check loadtests app tests
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/python -m loadtests.results.schema --check
	.venv/bin/python docker/validate.py

report: ## rebuild report.html/report.md of RUN=results/<run-id> (default: the newest run) from its run.json
	$(GIL_LAB) report $(RUN)

audit: setup ## find modules that re-enable the GIL on 3.14t
	$(GIL_LAB) audit

lock: ## regenerate locks/*.txt against the real interpreters (needs PyPI)
	$(PYTHON) -m loadtests.cli.bootstrap lock

# Both run `gil-lab clean` in its standard-library form, so they work before set-up too.
clean: ## remove environments and caches in the tree (keeps results/ and the interpreter cache)
	$(PYTHON) -m loadtests.cli.bootstrap clean

clean-all: ## also remove the lab's user cache with the interpreter builds (rebuilds take ~3 minutes each)
	$(PYTHON) -m loadtests.cli.bootstrap clean --all
