"""Billing pages: the platform console's (billing admins) and the coordinators' read-only page.

Views parse, authorise, call a billing service and render; every rule lives in the services,
and the request's commit point commits what they did.
"""

from billing.console import (  # noqa: F401 - each module registers its views on the blueprints
    contract_changes,
    contracts,
    coordinator,
    customers,
    invoices,
    quote,
    revenue,
)
from billing.console.blueprints import bp, coordinator_bp

__all__ = ["bp", "coordinator_bp"]
