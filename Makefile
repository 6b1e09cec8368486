# Two commands on a fresh machine: `make demo` and `make test`.
.PHONY: demo test setup-demo setup-test migrate serve lint bench clean i18n-extract i18n-update i18n-compile

VENV := .venv
FLASK := FLASK_APP=wsgi $(VENV)/bin/flask
PORT ?= 8000

demo: setup-demo migrate
	$(FLASK) tenants seed-demo
	@scripts/serve.sh $(PORT)

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

bench: setup-test
	$(VENV)/bin/python bench/tenancy.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Translations: msgids are English in the code; French is the catalogue (and the default locale).
PYBABEL := $(VENV)/bin/pybabel

i18n-extract:
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext --sort-output --project VivrauBassindeVie -o translations/messages.pot .

i18n-update: i18n-extract
	$(PYBABEL) update -i translations/messages.pot -d translations --no-fuzzy-matching

i18n-compile:
	$(PYBABEL) compile -d translations --statistics
