"""Forms of the billing pages of the platform console."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from billing.catalogue import OPTIONS as CATALOGUE_OPTIONS
from billing.catalogue import item_label
from billing.models import ContractKind
from core.registry import kind_label

# Labelled from the catalogue, in the reader's language when the form is drawn.
CUSTOMER_KINDS = [
    SelectChoice(kind.value, LazyString(kind_label, kind))
    for kind in (
        ContractKind.commune,
        ContractKind.epci,
        ContractKind.departement,
        ContractKind.umbrella,
    )
]
MEMBER_KINDS = CUSTOMER_KINDS[:3]
OPTIONS = [
    SelectChoice(item.value.removeprefix("option"), LazyString(item_label, item))
    for item in CATALOGUE_OPTIONS
]


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as check boxes; nothing ticked is a valid answer."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        if self.data:
            super().pre_validate(form)


class FrenchDecimalField(DecimalField):
    """A decimal typed the French way too: `8,5` or `1 320,00`."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [
                v.replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
                for v in valuelist
            ]
        super().process_formdata(valuelist)


class QuoteForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing: its URL can be shared

    kind = SelectField(_l("Customer kind"), choices=CUSTOMER_KINDS, default="commune")
    options = CheckboxesField(_l("Options"), choices=OPTIONS, default=[])
    members = IntegerField(
        _l("Member towns (PVD umbrella)"),
        [Optional(), NumberRange(min=1, max=1000, message=_l("Between 1 and 1 000 towns."))],
    )
    # Checked only for an umbrella: the other kinds leave it out.
    member_kind = SelectField(
        _l("Kind of the member towns"), choices=MEMBER_KINDS, validate_choice=False
    )

    def validate_members(self, field):
        if self.kind.data == "umbrella" and not field.data:
            raise ValidationError(_l("Say how many towns the umbrella groups."))

    def validate_member_kind(self, field):
        if self.kind.data == "umbrella" and field.data not in {c.value for c in MEMBER_KINDS}:
            raise ValidationError(_l("Choose the kind of the member towns."))


class CustomerForm(FlaskForm):
    tenant_id = SelectField(_l("Territory or umbrella"), coerce=int)
    legal_name = StringField(_l("Legal name"), [InputRequired(), Length(1, 200)])
    siret = StringField(
        _l("SIRET"),
        [
            InputRequired(),
            Regexp(r"^\s*(\d\s*){14}$", message=_l("14 digits, as on the SIRENE register.")),
        ],
    )
    address_line1 = StringField(_l("Billing address"), [InputRequired(), Length(1, 200)])
    address_line2 = StringField(
        _l("Address, second line (optional)"), [Optional(), Length(max=200)]
    )
    postcode = StringField(
        _l("Postcode"),
        [InputRequired(), Regexp(r"^\d{5}$", message=_l("5 digits."))],
    )
    city = StringField(_l("City"), [InputRequired(), Length(1, 100)])
    # Checked by the customer service (which also takes a local set-up's own domain).
    billing_email = EmailField(_l("Billing contact e-mail"), [InputRequired(), Length(max=320)])
    service_code = StringField(
        _l("Chorus Pro service code (optional)"), [Optional(), Length(max=100)]
    )
    engagement_number = StringField(
        _l("Engagement or purchase order number (optional)"), [Optional(), Length(max=50)]
    )
    vat_rate = FrenchDecimalField(
        _l("VAT rate (%)"),
        [
            InputRequired(),
            NumberRange(min=0, max=100, message=_l("A percentage between 0 and 100.")),
        ],
        places=2,
        default=20,
    )


class ContractForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=int)
    kind = SelectField(_l("Tier"), choices=CUSTOMER_KINDS)
    member_ids = CheckboxesField(_l("Member towns at the start (PVD umbrella)"), coerce=int)
    start = DateField(_l("Start date"), [InputRequired()])
    go_live = DateField(_l("Go-live date"), [InputRequired()])
    end = DateField(_l("End date (5 years at most after the start)"), [InputRequired()])
    option_1 = DateField(_l("Option 1 — start date (empty: not taken)"), [Optional()])
    option_2 = DateField(_l("Option 2 — start date (empty: not taken)"), [Optional()])
    option_3 = DateField(_l("Option 3 — start date (empty: not taken)"), [Optional()])
    manages_members = BooleanField(
        _l("The umbrella manages its member towns' teams (its coordinators invite their editors)")
    )


class AddOptionForm(FlaskForm):
    option = SelectField(_l("Option"), choices=OPTIONS)
    start = DateField(_l("Start date"), [InputRequired()])


class CancelOptionForm(FlaskForm):
    option_id = SelectField(_l("Option to cancel"), coerce=int)
    on = DateField(_l("Cancelled from"), [InputRequired()])


class GoLiveForm(FlaskForm):
    go_live = DateField(_l("Go-live date"), [InputRequired()])


#: The join form's choice of a town that is not on the platform yet.
NEW_TOWN = 0


class MemberJoinForm(FlaskForm):
    tenant_id = SelectField(_l("Town joining"), coerce=int)
    new_name = StringField(_l("Name of the town to create"), [Optional(), Length(max=200)])
    new_kind = SelectField(_l("Its kind"), choices=MEMBER_KINDS[:2], validate_choice=False)
    new_code = StringField(
        _l("Its official code (INSEE for a commune, SIREN for an EPCI)"),
        [Optional(), Length(max=9)],
    )
    on = DateField(_l("Joins on"), [InputRequired()])

    def validate_new_name(self, field):
        if self.tenant_id.data == NEW_TOWN and not (field.data or "").strip():
            raise ValidationError(_l("Give the name of the town to create, or choose a town."))


class MemberLeaveForm(FlaskForm):
    member_id = SelectField(_l("Town leaving"), coerce=int)
    on = DateField(_l("Leaves on"), [InputRequired()])


class TerminateForm(FlaskForm):
    on = DateField(_l("Termination date"), [InputRequired()])


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Payment date"), [InputRequired()])
    amount = FrenchDecimalField(
        _l("Amount received (€)"),
        [
            InputRequired(),
            NumberRange(min=0.01, message=_l("A positive amount, in euros.")),
        ],
        places=2,
    )
    reference = StringField(_l("Reference (transfer, mandate…)"), [InputRequired(), Length(1, 100)])


class InterestForm(FlaskForm):
    class Meta:
        csrf = False  # computed on demand, changes nothing

    on = DateField(_l("Interest up to"), [InputRequired()])


class InvoiceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("draft", _l("Draft")),
            SelectChoice("finalised", _l("Finalised")),
            SelectChoice("paid", _l("Paid")),
            SelectChoice("void", _l("Void")),
            SelectChoice("overdue", _l("Overdue")),
        ],
        default="",
    )
    customer = SelectField(_l("Customer"), coerce=lambda v: int(v) if v else None)
    start = DateField(_l("Issued from"), [Optional()])
    end = DateField(_l("Issued until"), [Optional()])
