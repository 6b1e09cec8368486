"""The project form: every question optional (the stages count what is answered), each answer
checked where it is given."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from sites.project.models import WHEN, Project

HOME_CHOICES = [
    SelectChoice("buy", _l("Buy a home")),
    SelectChoice("rent", _l("Rent a home")),
    SelectChoice("none", _l("I am not looking for a home")),
]
YES_NO_JOB = [
    SelectChoice("yes", _l("Yes")),
    SelectChoice("no", _l("No, I keep mine or work remotely")),
]
YES_NO_BUSINESS = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
WHEN_CHOICES = [
    SelectChoice("", _l("— choose —")),
    SelectChoice("3_months", _l("Within 3 months")),
    SelectChoice("6_months", _l("Within 6 months")),
    SelectChoice("1_year", _l("Within a year")),
    SelectChoice("later", _l("Later")),
    SelectChoice("unknown", _l("I do not know yet")),
]
LEISURE_CHOICES = [
    SelectChoice("nature", _l("Nature and hiking")),
    SelectChoice("sport", _l("Sport")),
    SelectChoice("culture", _l("Culture and shows")),
    SelectChoice("heritage", _l("Heritage")),
    SelectChoice("food", _l("Food and markets")),
    SelectChoice("family", _l("Family outings")),
    SelectChoice("none", _l("Nothing in particular")),
]


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProjectForm(FlaskForm):
    home = RadioField(_l("A home"), choices=HOME_CHOICES, validators=[Optional()])
    home_budget = IntegerField(
        _l("Your budget (€): the price to buy, or the monthly rent"),
        validators=[Optional(), NumberRange(1, 100_000_000)],
    )
    adults = IntegerField(_l("Adults"), validators=[Optional(), NumberRange(1, 20)])
    children = IntegerField(_l("Children"), validators=[Optional(), NumberRange(0, 20)])
    job = RadioField(_l("Are you looking for a job?"), choices=YES_NO_JOB, validators=[Optional()])
    job_title = StringField(_l("Which job?"), filters=[lambda v: (v or "").strip() or None])
    business = RadioField(
        _l("Would you take over a business?"), choices=YES_NO_BUSINESS, validators=[Optional()]
    )
    business_activity = StringField(
        _l("Which activity?"), filters=[lambda v: (v or "").strip() or None]
    )
    leisure = Checkboxes(_l("What you like to do"), choices=LEISURE_CHOICES)
    lives_in = StringField(
        _l("Where you live now (commune)"), filters=[lambda v: (v or "").strip() or None]
    )
    # "— choose —" is no answer: the choice is checked in `validate`, not by the field.
    moving = SelectField(_l("When you plan to move"), choices=WHEN_CHOICES, validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.home.data in ("buy", "rent") and not self.home_budget.data:
            self.home_budget.errors.append(_l("Give a budget for the home you seek."))
            ok = False
        if self.job.data == "yes" and not self.job_title.data:
            self.job_title.errors.append(_l("Say which job you seek."))
            ok = False
        if self.business.data == "yes" and not self.business_activity.data:
            self.business_activity.errors.append(_l("Say which activity you would take over."))
            ok = False
        if "none" in (self.leisure.data or []) and len(self.leisure.data) > 1:
            self.leisure.errors.append(_l("“Nothing in particular” goes alone."))
            ok = False
        if self.moving.data not in ("", None, *WHEN):
            self.moving.errors.append(_l("Choose one of the answers."))
            ok = False
        for field in (self.job_title, self.business_activity, self.lives_in):
            if field.data and len(field.data) > 100:
                field.errors.append(_l("At most 100 characters."))
                ok = False
        return ok

    def save_to(self, project: Project) -> None:
        project.home = self.home.data or None
        project.home_budget = self.home_budget.data if project.home in ("buy", "rent") else None
        project.adults, project.children = self.adults.data, self.children.data
        project.job = self.job.data or None
        project.job_title = self.job_title.data if project.job == "yes" else None
        project.business = self.business.data or None
        project.business_activity = (
            self.business_activity.data if project.business == "yes" else None
        )
        project.leisure = list(self.leisure.data or []) or None
        project.lives_in = self.lives_in.data
        project.moving = self.moving.data or None
