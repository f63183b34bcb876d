# Sales Funnel Pro: the project's commands. `make help` lists them.

PYTHON ?= python3
DB ?= funnel_demo
PORT ?= 8069
ODOO_SOURCE ?=
N ?= 100000
PYTEST_ARGS ?=

export PYTHON ODOO_SOURCE

.DEFAULT_GOAL := help
.PHONY: help setup run test lint format bench

help: ## list the commands
	@echo "Usage: make <command> [VARIABLE=value ...]"
	@echo
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PYTHON=$(PYTHON) DB=$(DB) PORT=$(PORT) N=$(N)"
	@echo "           ODOO_SOURCE=<an Odoo 18 source tree> (make setup)"
	@echo "           PYTEST_ARGS=<extra pytest arguments> (make test)"

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

bench: ## seed N opportunities, time stock crm against the addon, then the long calls and jobs
	$(PYTHON) tools/bench --n $(N)
	$(PYTHON) tools/bench_jobs.py --n $(N)
