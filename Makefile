# Sales Funnel Pro: the project's commands. `make help` lists them.

PYTHON ?= python3
DB ?= funnel_demo
PORT ?= 8069
ODOO_SOURCE ?=
N ?= 100000
PYTEST_ARGS ?=
LOAD_SECONDS ?= 120
LOAD_CLIENTS ?= 8
LOAD_N ?= 2000
LOAD_DB ?= funnel_load

export PYTHON ODOO_SOURCE

.DEFAULT_GOAL := help
.PHONY: help setup run test lint format bench load replica-check

help: ## list the commands
	@echo "Usage: make <command> [VARIABLE=value ...]"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PYTHON=$(PYTHON) DB=$(DB) PORT=$(PORT) N=$(N)"
	@echo "           ODOO_SOURCE=<an Odoo 18 source tree> (make setup)"
	@echo "           PYTEST_ARGS=<extra pytest arguments> (make test)"
	@echo "           LOAD_SECONDS=$(LOAD_SECONDS) LOAD_CLIENTS=$(LOAD_CLIENTS) LOAD_N=$(LOAD_N) LOAD_DB=$(LOAD_DB) (make load)"

setup: ## install what is missing: PostgreSQL, Odoo 18, test and lint tools, Chromium (run and test do it first)
	tools/setup.sh

run: setup ## serve database DB (demo data + the addon) on http://localhost:PORT, admin/admin
	tools/run.sh "$(DB)" "$(PORT)"

test: setup ## run the addon's tests and crm's own tests in throwaway databases
	tools/test.sh $(PYTEST_ARGS)

lint: ## ruff, pylint-odoo's mandatory checks, oca-checks-odoo-module and oca-checks-po
	tools/lint.sh

format: ## let ruff sort imports and format the Python code
	$(PYTHON) -m ruff check --select I --fix .
	$(PYTHON) -m ruff format .

bench: ## time stock crm against the addon on N opportunities, the long calls and jobs, the installed base
	$(PYTHON) tools/bench --n $(N)
	$(PYTHON) tools/bench_jobs.py --n $(N)
	$(PYTHON) tools/bench installed-base

load: ## LOAD_CLIENTS web clients on 4 prefork workers, stock crm then the addon, data verified (tools/load/)
	$(PYTHON) tools/load --seconds $(LOAD_SECONDS) --clients $(LOAD_CLIENTS) --n $(LOAD_N) --db $(LOAD_DB)

replica-check: ## the reports on a streaming read replica of a test database (tools/replica_check.sh)
	tools/replica_check.sh
