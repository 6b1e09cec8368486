"""Customer and contract changes the console makes, checked before anything is written.

Kept small and separate from the schedule and invoicing services: each function validates its
input, raises `BillingInputError` naming the field at fault, and only then touches the session
(the caller commits).
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from billing.catalogue import price_list
from billing.models import (
    Contract,
    ContractKind,
    ContractOption,
    Customer,
    Item,
    Tier,
    UmbrellaMember,
)
from billing.schedule import ContractTerms, MemberTerm, OptionTerm, add_months
from core.extensions import db
from tenants.registry import Tenant

MAX_YEARS = 5
#: La Poste's establishments share one SIREN whose SIRETs follow another checksum rule.
LA_POSTE_SIREN = "356000000"


class BillingInputError(ValueError):
    """A refused input: `field` names the form field, the message says why (reader's language)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def siret_is_valid(siret: str) -> bool:
    """14 digits passing the Luhn checksum (La Poste: digits summing to a multiple of 5)."""
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN):
        return sum(int(d) for d in siret) % 5 == 0
    total = 0
    for i, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _check_customer(values: dict) -> None:
    if not siret_is_valid(values["siret"]):
        raise BillingInputError(
            "siret", _("This SIRET is not valid: its check digit does not match.")
        )
    if not 0 <= values["vat_rate_bp"] <= 10000:
        raise BillingInputError("vat_rate", _("A percentage between 0 and 100."))
    if values.get("tenant_id") is not None and db.session.get(Tenant, values["tenant_id"]) is None:
        raise BillingInputError("tenant_id", _("This territory does not exist."))


def create_customer(**values) -> Customer:
    _check_customer(values)
    customer = Customer(**values)
    db.session.add(customer)
    db.session.flush()
    return customer


def update_customer(customer: Customer, **values) -> Customer:
    _check_customer(values)
    for name, value in values.items():
        setattr(customer, name, value)
    db.session.flush()
    return customer


# --- contracts -------------------------------------------------------------------------------


def terms_of(contract: Contract) -> ContractTerms:
    """What the schedule needs from a contract (saved or not): prices of its price date."""
    customer = contract.customer or db.session.get(Customer, contract.customer_id)
    return ContractTerms(
        kind=ContractKind(contract.kind),
        start=contract.start_on,
        end=contract.end_on,
        prices=price_list(db.session, contract.price_date or contract.start_on),
        go_live=contract.go_live_on,
        terminated_on=contract.terminated_on,
        options=tuple(
            OptionTerm(Item(o.item), o.start_on, o.cancelled_on) for o in contract.options
        ),
        members=tuple(
            MemberTerm(Tier(m.tier), m.joined_on, m.left_on, m.name) for m in contract.members
        ),
        vat_rate_bp=customer.vat_rate_bp if customer else 2000,
    )


def _within(contract: Contract, day: date, field: str, what: str) -> None:
    if day < contract.start_on:
        raise BillingInputError(
            field,
            _(
                "%(what)s cannot be before the contract's start (%(start)s).",
                what=what,
                start=contract.start_on.strftime("%d/%m/%Y"),
            ),
        )
    if day >= contract.end_on:
        raise BillingInputError(
            field,
            _(
                "%(what)s must be before the contract's end (%(end)s).",
                what=what,
                end=contract.end_on.strftime("%d/%m/%Y"),
            ),
        )


def build_contract(
    customer_id: int,
    kind: str,
    start_on: date,
    go_live_on: date | None,
    end_on: date,
    options: dict[str, date],
    members: list[dict],
) -> Contract:
    """A checked, unsaved contract (the preview shows its schedule; `save_contract` keeps it)."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise BillingInputError("customer_id", _("Choose a customer."))
    if end_on <= start_on:
        raise BillingInputError("end", _("The end must come after the start."))
    if end_on > add_months(start_on, 12 * MAX_YEARS):
        raise BillingInputError(
            "end",
            _(
                "A contract lasts 5 years at most: it must end by %(day)s.",
                day=add_months(start_on, 12 * MAX_YEARS).strftime("%d/%m/%Y"),
            ),
        )
    contract = Contract(
        customer=customer,
        kind=ContractKind(kind),
        start_on=start_on,
        go_live_on=go_live_on,
        end_on=end_on,
        price_date=start_on,
    )
    if go_live_on is not None:
        _within(contract, go_live_on, "go_live", _("The go-live date"))
    for item, start in sorted(options.items()):
        number = item.removeprefix("option")
        _within(contract, start, f"option_{number}", _("Option %(n)s's start", n=number))
        contract.options.append(ContractOption(item=Item(item), start_on=start))
    if contract.kind == ContractKind.umbrella:
        if not members:
            raise BillingInputError(
                "member_ids", _("A Petites villes de demain umbrella needs its member towns.")
            )
        for m in members:
            contract.members.append(
                UmbrellaMember(
                    member_tenant_id=m["tenant_id"],
                    name=m["name"],
                    tier=Tier(m["tier"]),
                    joined_on=start_on,
                )
            )
    elif members:
        raise BillingInputError(
            "member_ids", _("Member towns only apply to a Petites villes de demain umbrella.")
        )
    return contract  # not in the session: a preview leaves nothing behind


def save_contract(contract: Contract) -> Contract:
    db.session.add(contract)
    db.session.flush()
    return contract


def _not_ended(contract: Contract) -> None:
    if contract.terminated_on is not None:
        raise BillingInputError("on", _("This contract is terminated: it cannot change."))


def add_option(contract: Contract, item: str, start: date) -> ContractOption:
    _not_ended(contract)
    _within(contract, start, "start", _("The option's start"))
    active = [
        o
        for o in contract.options
        if o.item == Item(item) and (o.cancelled_on is None or o.cancelled_on > start)
    ]
    if active:
        raise BillingInputError("option", _("This option is already taken on that date."))
    option = ContractOption(item=Item(item), start_on=start)
    contract.options.append(option)
    db.session.flush()
    return option


def member_joins(
    contract: Contract, tenant_id: int | None, name: str, tier: str, on: date
) -> UmbrellaMember:
    _not_ended(contract)
    if contract.kind != ContractKind.umbrella:
        raise BillingInputError("tenant_id", _("Only an umbrella's contract has member towns."))
    if tier not in {t.value for t in Tier}:
        raise BillingInputError(
            "tenant_id", _("A member town is a commune, an EPCI or a département.")
        )
    _within(contract, on, "on", _("The joining date"))
    if any(m.member_tenant_id == tenant_id and m.left_on is None for m in contract.members):
        raise BillingInputError("tenant_id", _("This town is already a member."))
    member = UmbrellaMember(member_tenant_id=tenant_id, name=name, tier=Tier(tier), joined_on=on)
    contract.members.append(member)
    db.session.flush()
    return member


def member_leaves(member: UmbrellaMember, on: date) -> UmbrellaMember:
    contract = member.contract
    _not_ended(contract)
    if member.left_on is not None:
        raise BillingInputError("member_id", _("This town has left already."))
    if on <= member.joined_on:
        raise BillingInputError("on", _("A town leaves after the day it joined."))
    _within(contract, on, "on", _("The leaving date"))
    if sum(1 for m in contract.members if m.left_on is None) == 1:
        raise BillingInputError(
            "member_id", _("The last member town cannot leave: terminate the contract instead.")
        )
    member.left_on = on
    db.session.flush()
    return member


def terminate(contract: Contract, on: date) -> Contract:
    _not_ended(contract)
    if on <= contract.start_on:
        raise BillingInputError("on", _("The termination must come after the start."))
    _within(contract, on, "on", _("The termination date"))
    # Billing stops then for every item; the schedule adds the 12-month true-ups.
    contract.terminated_on = on
    db.session.flush()
    return contract
