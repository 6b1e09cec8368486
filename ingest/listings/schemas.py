"""Marshmallow schemas of a listing, derived from the field declarations.

`input_schema(kind)` is the contract of the API and of the editor form: the same fields, types,
enums, patterns and bounds as the normed file's Table Schema, unknown fields refused; what the
OpenAPI document cannot state (check digits, coordinate pairs) is `french_rules`. JSON
clients get strict types (`"5"` is not an integer); a form's text values are parsed leniently.
"""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ingest.listings.declaration import Field, fields_of
from ingest.listings.rules import BOOLEANS, control_character, siret_ok
from ingest.listings.store import WRITABLE_STATUSES


class FormBoolean(fields.Boolean):
    """A form's booleans: oui/non, vrai/faux, on (a ticked box), 1/0."""

    truthy = {*fields.Boolean.truthy, *(k for k, v in BOOLEANS.items() if v), "on"}
    falsy = {*fields.Boolean.falsy, *(k for k, v in BOOLEANS.items() if not v), ""}


#: Messages in the reader's language (evaluated when an error is shown).
MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field is required."),
    "invalid": _l("Not a valid value of this type."),
    "unknown": _l("Unknown field."),
    "one_of": _l("Must be one of: {choices}."),
    "pattern": _l("Not in the expected format."),
    "range": _l("Must be between {min} and {max}."),
    "min": _l("Must be at least {min}."),
    "max": _l("Must be at most {max}."),
    "length": _l("At most {max} characters."),
    "siret": _l("Invalid SIRET: its check digit is wrong."),
    "pair": _l("Give both {a} and {b}, or neither."),
    "control": _l("Invisible control character at position {position}: remove it."),
}
TYPE_MESSAGES = {
    "string": _l("Must be text."),
    "integer": _l("Must be a whole number."),
    "number": _l("Must be a number."),
    "boolean": _l("Must be true or false."),
    "date": _l("Must be a date (YYYY-MM-DD)."),
}


class JsonBoolean(fields.Boolean):
    """JSON's true and false only: marshmallow would also take 0, 1, "yes"…"""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def _range(f: Field):
    if f.minimum is not None and f.maximum is not None:
        message = MESSAGES["range"]
    else:
        message = MESSAGES["min"] if f.minimum is not None else MESSAGES["max"]
    return validate.Range(min=f.minimum, max=f.maximum, error=message)


class NoControlCharacters(validate.Validator):
    """Texts hold no control character (a multi-line one keeps tabs and line breaks): the rule
    of the normed files too (`rules.control_character`)."""

    def __init__(self, multiline: bool):
        self.multiline = multiline

    def __call__(self, value):
        where = control_character(value, self.multiline) if isinstance(value, str) else None
        if where is not None:
            raise ValidationError(str(MESSAGES["control"]).format(position=where + 1))
        return value


def _field(f: Field, strict: bool) -> fields.Field:
    validators = []
    if f.type == "string":
        validators.append(NoControlCharacters(f.multiline))
    if f.enum:
        validators.append(validate.OneOf(f.enum, error=MESSAGES["one_of"]))
    if f.pattern:
        validators.append(validate.Regexp(f.pattern, error=MESSAGES["pattern"]))
    if f.minimum is not None or f.maximum is not None:
        validators.append(_range(f))
    if f.max_length is not None:
        validators.append(validate.Length(max=f.max_length, error=MESSAGES["length"]))
    options = {
        "required": f.required,
        "allow_none": not f.required,
        "validate": validators,
        "error_messages": {
            "required": MESSAGES["required"],
            "null": MESSAGES["null"],
            "invalid": TYPE_MESSAGES[f.type],
        },
        "metadata": {"title": f.title_en, "description": f.description_fr or f.title_fr},
    }
    if f.example:
        options["metadata"]["example"] = f.example
    if f.type == "string":
        return fields.String(**options)
    if f.type == "integer":
        return fields.Integer(strict=strict, **options)
    if f.type == "number":
        options["error_messages"]["special"] = TYPE_MESSAGES["number"]
        return fields.Decimal(allow_nan=False, **options)
    if f.type == "boolean":
        return JsonBoolean(**options) if strict else FormBoolean(**options)
    if f.type == "date":
        return fields.Date(**options)
    raise TypeError(f"field {f.name!r}: no schema type for {f.type!r}")


class ListingInput(Schema):
    """What every kind's input shares: unknown fields refused, in the reader's language."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": MESSAGES["unknown"]}


def french_rules(data: dict) -> dict[str, list[str]]:
    """Checks beyond each field's own, which the OpenAPI document cannot state: a SIRET's check
    digits, coordinates given in pairs (on loaded values, or raw ones beside field errors)."""
    errors = {}
    siret = data.get("siret")
    if isinstance(siret, str) and siret and not siret_ok(siret):
        errors["siret"] = [str(MESSAGES["siret"])]
    for a, b in (("latitude", "longitude"), ("lambert_x", "lambert_y")):
        if (data.get(a) is None) != (data.get(b) is None) and (a in data or b in data):
            missing = b if data.get(b) is None else a
            errors[missing] = [str(MESSAGES["pair"]).format(a=a, b=b)]
    return errors


def schema_name(kind: str) -> str:
    """The kind's name in the OpenAPI document (`real_estate` → `RealEstate`)."""
    return "".join(part.title() for part in kind.split("_"))


@cache
def input_schema(kind: str, strict: bool = True) -> type[Schema]:
    """The kind's input schema class (one class per kind and strictness, named for OpenAPI)."""
    attrs = {f.name: _field(f, strict) for f in fields_of(kind)}
    attrs["status"] = fields.String(
        validate=validate.OneOf(WRITABLE_STATUSES),
        load_default=None,
        metadata={"description": "draft, published (default) or unpublished"},
    )
    return type(schema_name(kind) + ("Input" if strict else "Form"), (ListingInput,), attrs)
