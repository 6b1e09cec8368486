"""Invoices: drafts, gap-free numbering, the billing run, credit notes, payments, reminders and
late interest.

Decisions:
- The run issues what the schedule says is due by its date and finalises it at once (numbered,
  dated that day): the schedule was previewed and agreed with the contract, so a draft would
  only delay it. `run(..., draft=True)` keeps them as drafts for a manual review instead.
- Numbers: `VV-<year>-<5 digits>` for invoices, `AV-<year>-<5 digits>` for credit notes, two
  sequences without gaps, each taken under the row lock of its (prefix, year) counter in the
  transaction that finalises; a rolled-back finalisation gives its number back. Issue dates
  never go backwards along a sequence.
- A credit note restates the voided invoice's lines with positive amounts; its kind says it
  is a credit. The voided invoice keeps its number; its schedule instalment is free again, so
  the next run re-issues it as the contract now stands (that is how a past period is corrected).
- Documents (PDF/Factur-X, UBL) are stored by `billing.documents.store` at finalisation; in a
  run they are produced by worker jobs after the commit, and a sweep catches any missed.
- Nothing here commits: a request, a job or a CLI command is the commit point. An operation
  refuses (`InvoicingError`) before it writes anything.
"""

from billing.contracts import BillingInputError


class InvoicingError(BillingInputError):
    """A refused operation on an invoice; nothing was changed."""
