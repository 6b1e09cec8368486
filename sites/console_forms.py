"""Forms of the territory console."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp

from core.auth.forms import ADDRESS
from core.auth.models import Role
from core.auth.permissions import ROLE_LABELS
from sites.branding import FONTS

_hex = [InputRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("A colour like #1f4e79."))]


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"), [InputRequired(), *ADDRESS])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in (Role.editor, Role.admin)],
    )


class MemberInviteForm(FlaskForm):
    """A coordinator invites an editor of a member town (the only role given from there)."""

    email = EmailField(_l("E-mail address of the editor to invite"), [InputRequired(), *ADDRESS])


def _text(value: str | None) -> str:
    """A field missing from the submission is an empty text, as its column holds."""
    return value or ""


def _heading(default):
    return StringField(
        _l("Heading (empty: “%(default)s”)", default=default), [Length(max=120)], filters=[_text]
    )


class HomeTextForm(FlaskForm):
    title = StringField(_l("Title"), [Length(max=200)], filters=[_text])
    introduction = TextAreaField(_l("Introduction"), [Length(max=4000)], filters=[_text])
    hero_alt = StringField(
        _l("What the home page photo shows (for those who cannot see it)"),
        [Length(max=300)],
        filters=[_text],
    )
    axis_productive_title = _heading(_l("Productive economy"))
    axis_productive = TextAreaField(_l("Productive economy"), [Length(max=4000)], filters=[_text])
    axis_tourism_title = _heading(_l("Tourism economy"))
    axis_tourism = TextAreaField(_l("Tourism economy"), [Length(max=4000)], filters=[_text])
    axis_residential_title = _heading(_l("Residential economy"))
    axis_residential = TextAreaField(_l("Residential economy"), [Length(max=4000)], filters=[_text])


class LookForm(FlaskForm):
    theme = SelectField(_l("Theme"))
    primary = StringField(_l("Main colour"), _hex)
    on_primary = StringField(_l("Text on the main colour"), _hex)
    background = StringField(_l("Background"), _hex)
    text = StringField(_l("Text"), _hex)
    font = SelectField(_l("Font"), choices=[SelectChoice(k, f.label) for k, f in FONTS.items()])


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo (PNG, JPEG or SVG, 512 KB at most)"), [FileRequired()])


class HeroForm(FlaskForm):
    photo = FileField(
        _l("Home page photo (PNG or JPEG, 6 MB at most; resized to 1600 pixels)"), [FileRequired()]
    )


class SiteAccessForm(FlaskForm):
    access = RadioField(
        _l("Who sees what on the site"),
        choices=[
            SelectChoice("open", _l("Everything, for everyone (the default)")),
            SelectChoice(
                "staged",
                _l(
                    "By stages, as on the national portal: 3 criteria without an account, "
                    "every criterion from a 70 % moving project, the listings from a "
                    "complete one"
                ),
            ),
        ],  # fmt: skip
        validators=[InputRequired()],
    )
