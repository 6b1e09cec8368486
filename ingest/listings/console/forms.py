"""Forms of the listings console that are not derived from a kind's declaration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ingest.listings.models import SCOPES

SCOPE_LABELS = {
    "listings:read": _l("Read the listings (listings:read)"),
    "listings:write": _l("Create, change and unpublish listings (listings:write)"),
}


class ImportForm(FlaskForm):
    kind = SelectField(_l("Kind of listings"))
    file = FileField(_l("Normed file (CSV or XLSX)"), [FileRequired()])
    snapshot = BooleanField(_l("Complete file: unpublish this kind's listings that are not in it"))
    dry_run = BooleanField(_l("Check only: validate and count, change nothing"))
    valid_only = BooleanField(_l("If some rows have errors, import the valid rows anyway"))


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name of the key (the system that will use it)"), [InputRequired(), Length(max=100)]
    )
    scopes = SelectMultipleField(
        _l("Rights"),
        [InputRequired(message=_l("Choose at least one right."))],
        choices=[SelectChoice(s, SCOPE_LABELS[s]) for s in SCOPES],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (JPEG, PNG or WebP, 7 MB at most)"), [FileRequired()])
    alt = StringField(
        _l("Description for people who cannot see it (optional: the title otherwise)"),
        [Length(max=300)],
    )
