"""Account forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, EmailField, Form, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length

from core.auth.passwords import MAX_LENGTH, MIN_LENGTH

_password = [
    InputRequired(),
    Length(MIN_LENGTH, MAX_LENGTH, message=_l("Between %(min)d and %(max)d characters.")),
]
#: What makes an address acceptable for an account, wherever one is given: the account forms,
#: invitations, a new territory's first admin, `flask users create`.
ADDRESS = [Email(), Length(max=320)]
LOCALE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("en", "English")]


class RegisterForm(FlaskForm):
    email = EmailField(_l("E-mail address"), [InputRequired(), *ADDRESS])
    display_name = StringField(_l("Name shown"), [InputRequired(), Length(1, 100)])
    password = PasswordField(_l("Password (12 characters or more)"), _password)
    confirm = PasswordField(
        _l("Password again"),
        [InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    #: Only offered on a territory's site; its words (sites.leads.consent) name the territory.
    share = BooleanField(default=False)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), [InputRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), [InputRequired(), Length(max=MAX_LENGTH)])


class ForgotForm(FlaskForm):
    email = EmailField(_l("E-mail address"), [InputRequired(), *ADDRESS])


class ResendForm(FlaskForm):
    email = EmailField(_l("E-mail address"), [InputRequired(), *ADDRESS])


class ResetForm(FlaskForm):
    password = PasswordField(_l("New password (12 characters or more)"), _password)
    confirm = PasswordField(
        _l("New password again"),
        [InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name shown"), [InputRequired(), Length(1, 100)])
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), [InputRequired(), Length(max=MAX_LENGTH)])
    password = PasswordField(_l("New password (12 characters or more)"), _password)
    confirm = PasswordField(
        _l("New password again"),
        [InputRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class DeleteForm(FlaskForm):
    password = PasswordField(_l("Your password, to confirm"), [InputRequired()])


class _AddressCheck(Form):
    """The address alone, without a request (no CSRF): for `address_error`."""

    email = EmailField(validators=[InputRequired(), *ADDRESS])


def address_error(address: str) -> str | None:
    """Why the account forms would refuse `address`, or None when they accept it."""
    form = _AddressCheck(formdata=MultiDict({"email": address}))
    return None if form.validate() else str(form.email.errors[0])
