"""Billing: catalogue, pricing (incl. PVD umbrellas), contracts, schedules, invoices, payments."""
