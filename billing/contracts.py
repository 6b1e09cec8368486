"""Customers and contracts: checked creation and dated changes (options, members, termination)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from stdnum.fr import siret

from billing.catalogue import CatalogueError, price_list
from billing.members import Stay, contract_stop
from billing.members import members as billing_members
from billing.models import (
    Contract,
    ContractKind,
    ContractOption,
    Customer,
    Invoice,
    InvoiceStatus,
    Item,
    Tier,
)
from billing.schedule import add_months
from core.extensions import db
from core.registry import Membership, Tenant, TenantKind
from core.signals import announce, entitlements_changed
from tenants import memberships
from tenants.provisioning import (
    ProvisioningError,
    TenantSpec,
    create_tenant,
    free_slug,
    refusal,
)

MAX_YEARS = 5


class BillingInputError(ValueError):
    """A refused input; `field` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_siret(value: str) -> str:
    """The SIRET's 14 digits, its own and its SIREN's checksums checked (La Poste's too)."""
    digits = "".join((value or "").split())
    if len(digits) != 14 or not digits.isdigit():
        raise BillingInputError(
            _("A SIRET has 14 digits; %(value)s does not.", value=value or "∅"), "siret"
        )
    if not siret.is_valid(digits):
        raise BillingInputError(
            _("SIRET %(value)s fails its checksum: check the digits.", value=digits), "siret"
        )
    return digits


def billing_email(value: str) -> str:
    """A checked address; a local set-up also takes its own `*.<BASE_DOMAIN>` (`.localhost`)."""
    # heavy (email_validator): imported when an address is checked, not at start-up
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        local, _at, domain = value.rpartition("@")
        base = current_app.config.get("BASE_DOMAIN", "").lower()
        domain = domain.lower()
        if not (base.endswith("localhost") and (domain == base or domain.endswith("." + base))):
            raise
        # Its local part is checked like any other (email_validator refuses the domain only).
        local = validate_email(f"{local}@example.org", check_deliverability=False).local_part
        return f"{local}@{domain}"


def _check_customer(values: Mapping) -> dict:
    out = dict(values)
    for name, label in (
        ("legal_name", _("legal name")),
        ("address_line1", _("address")),
        ("city", _("city")),
    ):
        if not (out.get(name) or "").strip():
            raise BillingInputError(_("The %(what)s is required.", what=label), name)
        out[name] = out[name].strip()
    out["siret"] = check_siret(out.get("siret", ""))
    postcode = (out.get("postcode") or "").strip()
    if not (len(postcode) == 5 and postcode.isdigit()):
        raise BillingInputError(
            _("A French postcode has 5 digits; %(value)s does not.", value=postcode or "∅"),
            "postcode",
        )
    out["postcode"] = postcode
    from email_validator import EmailNotValidError  # noqa: PLC0415 - heavy: see billing_email

    try:
        out["billing_email"] = billing_email((out.get("billing_email") or "").strip())
    except EmailNotValidError:
        raise BillingInputError(
            _("%(value)s is not an e-mail address.", value=out.get("billing_email") or "∅"),
            "billing_email",
        ) from None
    rate = out.get("vat_rate_bp", 2000)
    if rate is None or not 0 <= int(rate) <= 10000:
        raise BillingInputError(_("The VAT rate must lie between 0 and 100 %."), "vat_rate")
    out["vat_rate_bp"] = int(rate)
    for name, size in (("service_code", 100), ("engagement_number", 50)):
        value = (out.get(name) or "").strip() or None
        if value and len(value) > size:
            raise BillingInputError(_("At most %(size)d characters.", size=size), name)
        out[name] = value
    return out


CUSTOMER_FIELDS = (
    "tenant_id",
    "legal_name",
    "siret",
    "address_line1",
    "address_line2",
    "postcode",
    "city",
    "billing_email",
    "service_code",
    "engagement_number",
    "vat_rate_bp",
)


def create_customer(**values) -> Customer:
    """A new customer, checked (SIRET checksum, postcode, e-mail, VAT rate); flushed."""
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {', '.join(sorted(unknown))}")
    customer = Customer(**_check_customer(values))
    db.session.add(customer)
    db.session.flush()
    return customer


def update_customer(customer: Customer, **values) -> Customer:
    """Change a customer; invoices already finalised keep the identity they were issued with."""
    merged = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
    merged.update(values)
    for name, value in _check_customer(merged).items():
        setattr(customer, name, value)
    db.session.flush()
    return customer


def _check_option_start(contract: Contract, item: Item, start: date | None) -> date:
    if start is None:
        start = contract.start_on
    if start < contract.start_on:
        raise BillingInputError(
            _(
                "%(option)s cannot start on %(start)s, before the contract (%(contract)s).",
                option=item.value,
                start=start.isoformat(),
                contract=contract.start_on.isoformat(),
            ),
            "start",
        )
    if start >= contract_stop(contract):
        raise BillingInputError(
            _(
                "%(option)s cannot start on %(start)s, when the contract has ended.",
                option=item.value,
                start=start.isoformat(),
            ),
            "start",
        )
    return start


def _option_item(code) -> Item:
    try:
        item = Item(str(getattr(code, "value", code)))
    except ValueError:
        item = None
    if item is None or item == Item.base:
        raise BillingInputError(
            _("Unknown option %(code)s: options are 1, 2 and 3.", code=code), "option"
        )
    return item


def build_contract(
    customer_id: int,
    kind: str,
    start_on: date,
    end_on: date,
    go_live_on: date | None = None,
    options: Mapping[str, date | None] | Iterable = (),
    members: Iterable[Mapping] = (),
    price_date: date | None = None,
    manages_members: bool = False,
) -> Contract:
    """A checked contract, not yet saved (the console previews its schedule first).

    `options` maps option codes to their start (None: the contract's start); `members` are
    dicts with `name`, `tier`, optional `tenant_id` and `joined_on` (default: the start).
    """
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise BillingInputError(_("Unknown customer."), "customer_id")
    try:
        kind = ContractKind(kind)
    except ValueError:
        raise BillingInputError(_("Unknown contract kind %(kind)s.", kind=kind), "kind") from None
    if start_on is None:
        raise BillingInputError(_("The start date is required."), "start")
    if end_on is None or end_on <= start_on:
        raise BillingInputError(_("The contract must end after it starts."), "end")
    if end_on > add_months(start_on, 12 * MAX_YEARS):
        raise BillingInputError(
            _(
                "A contract lasts at most %(years)d years: from %(start)s it must end by "
                "%(latest)s, not %(end)s.",
                years=MAX_YEARS,
                start=start_on.isoformat(),
                latest=add_months(start_on, 12 * MAX_YEARS).isoformat(),
                end=end_on.isoformat(),
            ),
            "end",
        )
    if go_live_on is not None and not start_on <= go_live_on < end_on:
        raise BillingInputError(
            _("The go-live date must lie between the start and the end of the contract."),
            "go_live",
        )
    price_date = price_date or start_on
    try:
        price_list(db.session, price_date)
    except CatalogueError as exc:
        raise BillingInputError(str(exc), "start") from None
    contract = Contract(
        customer=customer,
        kind=kind,
        start_on=start_on,
        end_on=end_on,
        go_live_on=go_live_on,
        price_date=price_date,
    )
    if isinstance(options, Mapping):
        options = list(options.items())
    else:
        options = [(o, None) if not isinstance(o, tuple) else o for o in options]
    for code, start in options:
        item = _option_item(code)
        if any(o.item == item for o in contract.options):
            raise BillingInputError(_("%(option)s is listed twice.", option=item.value), "option")
        contract.options.append(
            ContractOption(item=item, start_on=_check_option_start(contract, item, start))
        )
    members = list(members)
    if kind != ContractKind.umbrella and members:
        raise BillingInputError(_("Only a PVD umbrella has member towns."), "members")
    if kind != ContractKind.umbrella and manages_members:
        raise BillingInputError(
            _("Only a PVD umbrella manages member towns' teams."), "manages_members"
        )
    contract.manages_members = bool(manages_members)
    if kind == ContractKind.umbrella:
        umbrella = _umbrella_of(customer)
        pending = [
            _pending(contract, umbrella, m.get("tenant_id"), m.get("joined_on") or start_on)
            for m in members
        ]
        contract.pending_members = tuple(p for p in pending if p is not None)
        if not billing_members(contract):
            raise BillingInputError(_("A PVD umbrella needs at least one member town."), "members")
    return contract


def _umbrella_of(customer: Customer) -> Tenant:
    """The umbrella territory an umbrella contract's customer is (its members are its own)."""
    tenant = db.session.get(Tenant, customer.tenant_id) if customer.tenant_id else None
    if tenant is None or tenant.kind != TenantKind.umbrella:
        raise BillingInputError(
            _("A PVD umbrella's contract is signed by the umbrella's territory: choose its "
              "customer record."),
            "customer_id",
        )  # fmt: skip
    return tenant


def _pending(contract: Contract, umbrella: Tenant, tenant_id, joined_on: date) -> Stay | None:
    """A town the contract adds to the umbrella from `joined_on`, checked, not yet joined (None:
    it is a member already, and counted as one)."""
    town = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    if town is None:
        raise BillingInputError(
            _("A member town must be a territory of the platform: create it first."), "members"
        )
    _within(contract, joined_on)
    stop = contract_stop(contract)
    try:
        memberships.check_free(umbrella, town, joined_on, stop, here_ok=True)
    except memberships.MembershipError as exc:
        raise BillingInputError(str(exc), "members") from None
    if memberships.belongs(umbrella, town, joined_on, stop):
        return None
    if town.kind not in memberships.MEMBER_KINDS:
        raise BillingInputError(
            _("%(name)s cannot be a member: members are communes or EPCIs.", name=town.name),
            "members",
        )
    return Stay(None, town.id, town.name, Tier(town.kind.value), joined_on, None)


def _within(contract: Contract, day: date) -> None:
    if not contract.start_on <= day < contract_stop(contract):
        raise BillingInputError(
            _(
                "A town can only join while the contract runs (%(start)s – %(end)s).",
                start=contract.start_on.isoformat(),
                end=contract_stop(contract).isoformat(),
            ),
            "on",
        )


def save_contract(contract: Contract) -> Contract:
    """Save a built contract; the towns it adds join the umbrella from their dates."""
    pending = getattr(contract, "pending_members", ())
    db.session.add(contract)
    db.session.flush()
    if pending:
        umbrella = _umbrella_of(contract.customer)
        for stay in pending:
            town = db.session.get(Tenant, stay.member_tenant_id)
            if memberships.open_stay(umbrella, town) is None:
                memberships.join(umbrella, town, stay.joined_on)
        contract.pending_members = ()
    announce(entitlements_changed)
    return contract


def create_contract(**spec) -> Contract:
    """`build_contract` then save it."""
    return save_contract(build_contract(**spec))


def add_option(contract: Contract, code, start_on: date) -> ContractOption:
    """Take an option mid-contract; it is billed from its start."""
    item = _option_item(code)
    start_on = _check_option_start(contract, item, start_on)
    for option in contract.options:
        if option.item == item and (option.cancelled_on is None or option.cancelled_on > start_on):
            raise BillingInputError(
                _(
                    "%(option)s is already taken on %(day)s.",
                    option=item.value,
                    day=start_on.isoformat(),
                ),
                "option",
            )
    option = ContractOption(item=item, start_on=start_on)
    contract.options.append(option)
    db.session.flush()
    announce(entitlements_changed)
    return option


def cancel_option(option: ContractOption, on: date) -> ContractOption:
    """Stop an option from `on`; before 12 months, the rest of its minimum is trued up."""
    if option.cancelled_on is not None:
        raise BillingInputError(_("This option is already cancelled."), "on")
    if not option.start_on < on <= contract_stop(option.contract):
        raise BillingInputError(
            _("An option can be cancelled after its start and before the contract ends."), "on"
        )
    option.cancelled_on = on
    db.session.flush()
    announce(entitlements_changed)
    return option


def member_joins(contract: Contract, tenant_id, on: date) -> Stay:
    """A town joins the umbrella from `on`, while the contract runs: it is billed and served
    from that day."""
    if contract.kind != ContractKind.umbrella:
        raise BillingInputError(_("Only a PVD umbrella has member towns."), "on")
    umbrella = _umbrella_of(contract.customer)
    town = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    if town is None:
        raise BillingInputError(_("Choose the town that joins."), "tenant_id")
    _within(contract, on)
    try:
        stay = memberships.join(umbrella, town, on)
    except memberships.MembershipError as exc:
        raise BillingInputError(str(exc), exc.field or "tenant_id") from None
    announce(entitlements_changed)
    return next(s for s in billing_members(contract) if s.id == stay.id)


def new_town_joins(contract: Contract, name: str, kind, code: str | None, on: date) -> Stay:
    """A town not yet on the platform joins: its territory is created (registry row and schema,
    committed by provisioning), then it joins from `on`. Everything the join would refuse is
    checked first, so that a refusal creates nothing."""
    if contract.kind != ContractKind.umbrella:
        raise BillingInputError(_("Only a PVD umbrella has member towns."), "on")
    _umbrella_of(contract.customer)
    _within(contract, on)
    name = (name or "").strip()
    if not name:
        raise BillingInputError(_("Give the name of the town to create."), "new_name")
    if str(getattr(kind, "value", kind)) not in {k.value for k in memberships.MEMBER_KINDS}:
        raise BillingInputError(_("A member town is a commune or an EPCI."), "new_kind")
    spec = TenantSpec(free_slug(name), name, str(getattr(kind, "value", kind)), code or None)
    try:
        town = create_tenant(spec)
    except ProvisioningError as exc:
        field = "new_code" if exc.code == "bad_code" else "new_name"
        raise BillingInputError(refusal(exc), field) from None
    return member_joins(contract, town.id, on)


def member_leaves(contract: Contract, stay_id: int, on: date) -> Membership:
    """A member town leaves on `on` (its first day out): its billing and its features stop that
    day. The last member cannot leave (the umbrella's contract would price nobody)."""
    stay = db.session.get(Membership, stay_id)
    if stay is None or stay.umbrella_id != contract.customer.tenant_id:
        raise BillingInputError(_("This town is not a member of this umbrella."), "member_id")
    if stay.left_on is not None and stay.left_on <= on:
        raise BillingInputError(_("This town has already left."), "on")
    if not stay.joined_on < on <= contract_stop(contract):
        raise BillingInputError(
            _("A town leaves after it joined and before the contract ends."), "on"
        )
    others = [
        s
        for s in billing_members(contract)
        if s.id != stay.id and s.joined_on <= on and (s.left_on is None or s.left_on > on)
    ]
    if not others:
        raise BillingInputError(_("The last member town cannot leave the umbrella."), "on")
    try:
        memberships.leave(stay, on)
    except memberships.MembershipError as exc:
        raise BillingInputError(str(exc), "on") from None
    announce(entitlements_changed)
    return stay


def set_go_live(contract: Contract, on: date) -> Contract:
    """Date the go-live (its 50 % instalment is due then), until that instalment is invoiced."""
    if on is None or not contract.start_on <= on < contract_stop(contract):
        raise BillingInputError(
            _("The go-live date must lie between the start and the end of the contract."),
            "go_live",
        )
    issued = db.session.execute(
        select(Invoice.number).where(
            Invoice.contract_id == contract.id,
            Invoice.schedule_key == "y1-go-live",
            Invoice.status != InvoiceStatus.void,
        )
    ).first()
    if issued is not None and on != contract.go_live_on:
        raise BillingInputError(
            _(
                "The go-live instalment is already invoiced (%(number)s): its date can no "
                "longer change.",
                number=issued.number or "—",
            ),
            "go_live",
        )
    contract.go_live_on = on
    db.session.flush()
    return contract


def terminate(contract: Contract, on: date) -> Contract:
    """End the contract early from `on`; the 12-month minimum of each item is trued up."""
    if contract.terminated_on is not None:
        raise BillingInputError(_("This contract is already terminated."), "on")
    if not contract.start_on < on < contract.end_on:
        raise BillingInputError(
            _(
                "A contract is terminated after its start and before its end (%(end)s).",
                end=contract.end_on.isoformat(),
            ),
            "on",
        )
    contract.terminated_on = on
    db.session.flush()
    announce(entitlements_changed)
    return contract
