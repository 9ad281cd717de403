# dp02-repo: build the Rubin DP0.2 Gen3 butler repository step by step.
# `make help` lists the targets. Each step is a bin/ script; its stamp in $(STAMPS) says it
# succeeded, and each step's stamp depends on the stamp of the step before it.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

# The settings file (KEY=value lines, see .env.example); the scripts read it as well.
ENV_FILE ?= .env
export ENV_FILE
# The lite runtime made by `make install`; its bin/ goes first on PATH when it exists.
VENV ?= .venv
# (Not when a site stack is set up: its butler must not be shadowed.)
ifeq ($(LSST_DISTRIB_DIR),)
ifneq ($(wildcard $(VENV)/bin/butler),)
export PATH := $(abspath $(VENV))/bin:$(PATH)
endif
endif
# Python used to create the venv.
PYTHON ?= python3
# The v23 lite runtime (make install-v23) and its Python 3.8 (empty: python3.8 or pyenv's).
VENV_V23 ?= .venv-v23
PYTHON38 ?=

# The few settings make itself needs, resolved by the same code as the scripts, in one
# process. $(shell) does not see variables given on make's command line (GNU make 4.3), so
# pass them. GNU make 3.82 (the v23 image's) has no shell exit status variable: a failure prints a marker.
cmdline_vars := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
with_cmdline = $(foreach v,$(cmdline_vars),$(v)='$(subst ','\'',$($(v)))')
define newline


endef
config_vars := $(shell $(with_cmdline) bin/config make STAMPS RAW_YEARS DP02_TOP MINI_DIR || echo DP02_CONFIG_FAILED)
ifneq ($(filter DP02_CONFIG_FAILED,$(config_vars)),)
$(error the settings could not be loaded: run 'bin/config show' to see why)
endif
$(eval $(subst ~DP02NL~,$(newline),$(config_vars)))
# The miniature tree is made first when DP02_TOP is the miniature tree's place.
MINI_MARKER := $(if $(filter $(MINI_DIR),$(DP02_TOP)),$(MINI_DIR)/.dp02-mini-inputs.json)

stamp = $(STAMPS)/$(1).done
# The build report (mk/report.mk), written last by `make repo`.
REPORT := $(dir $(STAMPS))reports/build.html
RAW_STEPS := $(addprefix raws-,$(RAW_YEARS))
STEPS := check-inputs create register-instrument import-calibs curated-calibs \
	register-skymap refcat-table refcats $(RAW_STEPS) visits truth-summary chain verify

.PHONY: help install install-v23 test test-container demo clean-demo bench lint repo raws status reset mini-inputs \
	db-check raw-indexes clean-repo inspect $(STEPS)

help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^##@ / {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_%-]+:.*## / {printf "  %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  <step>                 Run one step if its stamp is missing: $(STEPS)"

##@ Runtime and tests
install: ## Create .venv: the lite runtime (daf_butler, pipe_base, ...) and the test tools, pinned.
	bin/install-lite "$(VENV)" "$(PYTHON)"

install-v23: ## Create .venv-v23: daf_butler 23.0.0 & co on Python 3.8 from V23_WHEELHOUSE, pinned.
	bin/install-lite --release v23 "$(VENV_V23)" "$(PYTHON38)"

test: ## Run every test (lint, bats, pytest; the v23 tier too when .venv-v23 exists).
	bin/run-tests

lint: ## shellcheck, ruff, the Python 3.8 syntax check, hadolint.
	bin/lint

test-container: ## Podman builds the Dockerfile on a stand-in stack image; docker-repo end to end.
	tests/container/run

# Where make demo puts its inputs, repository and state (its own, whatever REPO says).
DEMO_DIR ?= demo
# The lite runtime of make demo: current (.venv) or v23 (.venv-v23).
DEMO_RUNTIME ?= current
demo: ## The miniature repository on the lite runtime, stack commands played by the test stand-ins.
	$(VENV)/bin/python tests/demo.py --dir "$(DEMO_DIR)" --runtime "$(DEMO_RUNTIME)"

clean-demo: ## Remove DEMO_DIR if make demo made it (its .dp02-demo marker is there).
	python3 tests/demo.py --dir "$(DEMO_DIR)" --clean

bench: ## Run every benchmark of bench/ (figures, anchors, ratios; a quarter of an hour).
	bench/run

##@ The build
# Where `make repo` runs (RUNTIME, README "Container"): decided only when repo is a goal.
# A build with nothing left to do needs no runtime: make -q says so without starting any
# Python or butler process, so only a build with work to do asks bin/runtime.
up_to_date = $(shell $(MAKE) -q $(call stamp,verify) RUN_IN=host >/dev/null 2>&1 && echo yes)
RUN_IN := $(if $(filter repo,$(MAKECMDGOALS)),$(if $(up_to_date),host,$(shell $(with_cmdline) bin/runtime)),host)
ifeq ($(RUN_IN),)
$(error no runtime for 'make repo': see the message above, or run 'make runtime')
endif
ifeq ($(RUN_IN),container)
repo: docker-repo
else
repo: $(call stamp,verify) $(REPORT) ## Build the whole repository (every step whose stamp is missing; RUNTIME: where).
endif

$(STEPS): %: $(call stamp,%)

raws: $(foreach s,$(RAW_STEPS),$(call stamp,$(s))) ## Ingest the raws of every year of RAW_YEARS.

mini-inputs: ## Write the miniature input tree under MINI_DIR (nothing to do if it is there).
	bin/mini-inputs

$(MINI_DIR)/.dp02-mini-inputs.json:
	bin/mini-inputs

$(call stamp,check-inputs): | $(MINI_MARKER)
	bin/check-inputs
$(call stamp,create): $(call stamp,check-inputs)
	bin/create
$(call stamp,register-instrument): $(call stamp,create)
	bin/register-instrument
$(call stamp,import-calibs): $(call stamp,register-instrument)
	bin/import-calibs
$(call stamp,curated-calibs): $(call stamp,import-calibs)
	bin/curated-calibs
$(call stamp,register-skymap): $(call stamp,curated-calibs)
	bin/register-skymap
$(call stamp,refcat-table): $(call stamp,register-skymap)
	bin/refcat-table
$(call stamp,refcats): $(call stamp,refcat-table)
	bin/refcats
# Years do not depend on each other: with PostgreSQL, `make -j` ingests them concurrently.
$(call stamp,raws-%): $(call stamp,refcats)
	bin/raws $*
$(call stamp,visits): $(foreach s,$(RAW_STEPS),$(call stamp,$(s)))
	bin/visits
$(call stamp,truth-summary): $(call stamp,visits)
	bin/truth-summary
$(call stamp,chain): $(call stamp,truth-summary)
	bin/chain
$(call stamp,verify): $(call stamp,chain)
	bin/verify

##@ Operations
status: ## One row per step: done / pending / failed, duration, finish time.
	bin/status

reset: ## Remove the stamp of STEP=<step> and of every later step (STEP=raws: all years).
	bin/reset "$(STEP)"

inspect: ## Read-only: RTN-029's query commands on REPO, saved under STATE_DIR/reports/inspect; a summary.
	bin/inspect

db-check: ## Check the PostgreSQL registry: server, driver, btree_gist, db-auth file.
	bin/db-check

raw-indexes: ## Write missing raw _index.json files into DP02_RAW (needs WRITE_INDEXES=yes).
	bin/raw-indexes

##@ Inputs from elsewhere: export at the source site, fetch at the destination
.PHONY: export-calibs fetch-inputs
export-calibs: ## At the source: butler export-calibs SOURCE_REPO EXPORT_DIR EXPORT_CALIB_COLLECTION (template override).
	bin/export-calibs

fetch-inputs: ## Download the published archives (resumable, checked) and unpack them into DP02_TOP.
	bin/fetch-inputs

clean-repo: ## Remove REPO and STATE_DIR (asks first; CONFIRM=yes to skip the question).
	bin/clean-repo

include mk/container.mk
include mk/report.mk
