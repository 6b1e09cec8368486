"""Listing fields are declared once: the normed files' schemas and the table derive from them."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import Boolean, Date, Integer, Numeric, String, Text

from ingest.cli import SCHEMAS_DIR, schema_text
from ingest.listings.api.representation import output_schema
from ingest.listings.declaration import KINDS, fields_of, table_schema
from ingest.listings.form import form_fields
from ingest.listings.models import LOCATION_FIELDS, Listing
from ingest.listings.schemas import input_schema

TYPES = {
    "string": (String, Text),
    "integer": (Integer,),
    "number": (Numeric,),
    "boolean": (Boolean,),
    "date": (Date,),
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_published_schema_file_is_the_declaration(kind):
    path = SCHEMAS_DIR / f"{kind}.json"
    assert path.read_text("utf-8") == schema_text(kind), "run `flask ingest schemas`"
    schema = json.loads(path.read_text("utf-8"))
    names = [f["name"] for f in schema["fields"]]
    assert names == [f.name for f in fields_of(kind)] and len(set(names)) == len(names)
    assert schema["primaryKey"] == ["external_id"]
    assert all(f["type"] in TYPES for f in schema["fields"])
    assert all(f["title"] for f in schema["fields"])  # French titles for the editors


@pytest.mark.parametrize("kind", KINDS)
def test_every_declared_field_has_a_typed_column(kind):
    columns = Listing.__table__.columns
    for field in fields_of(kind):
        if field.name in LOCATION_FIELDS:
            continue
        assert field.name in columns, field.name
        assert isinstance(columns[field.name].type, TYPES[field.type]), field.name


@pytest.mark.parametrize("kind", KINDS)
def test_patterns_and_examples_agree(kind):
    for field in table_schema(kind)["fields"]:
        pattern = field.get("constraints", {}).get("pattern")
        if pattern and "example" in field:
            assert re.fullmatch(pattern, field["example"]), field["name"]
        enum = field.get("constraints", {}).get("enum")
        if enum and "example" in field:
            assert field["example"] in enum, field["name"]


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown listing kind 'boat'"):
        fields_of("boat")


def test_table_schema_api_schemas_and_form_list_the_same_fields(app):
    """One declaration per kind: the normed file, the API (in and out) and the editor form."""

    with app.test_request_context(base_url="http://x.vivrau.localhost"):
        for kind in KINDS:
            declared = [f.name for f in fields_of(kind)]
            assert [f["name"] for f in table_schema(kind)["fields"]] == declared
            for strict in (True, False):
                assert set(input_schema(kind, strict)().fields) - {"status"} == set(declared)
            shown = set(output_schema(kind)().fields)
            assert set(declared) - LOCATION_FIELDS <= shown
            assert shown.isdisjoint({"lambert_x", "lambert_y"})
            form = form_fields(kind)
            assert sorted(form) == sorted(declared) and len(form) == len(set(form)), kind
