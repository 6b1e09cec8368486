"""The campaign form of the territory console."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from sites.campaigns.models import CHANNELS, normal_code


def code_from(name: str) -> str:
    """A code for links made from a campaign's name: `Été 2027 — affiches` → `ete-2027-affiches`."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return "-".join(words)[:40].strip("-")


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), [InputRequired(), Length(max=120)])
    code = StringField(
        _l("Code in links (empty: made from the name)"),
        [Optional(), Length(max=40)],
        description=_l("Lower-case letters, digits and hyphens, e.g. summer-2027."),
    )
    channel = SelectField(_l("Channel"), choices=[SelectChoice(k, v) for k, v in CHANNELS.items()])
    starts_on = DateField(_l("Start date"), [InputRequired()])
    ends_on = DateField(_l("End date (optional)"), [Optional()])

    def validate_code(self, field) -> None:
        if field.data and normal_code(field.data) is None:
            raise ValidationError(
                _l("Use lower-case letters, digits and hyphens only (2 to 40), e.g. summer-2027.")
            )

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date comes after the start date."))

    def chosen_code(self) -> str:
        return normal_code(self.code.data) or code_from(self.name.data or "")


class CampaignEditForm(CampaignForm):
    """Once links are out, a campaign's code stays: only the rest changes."""

    code = None
