"""The cron schedule (`flask cron` or `rq cron workers.schedule`): what runs when, platform-wide."""

from rq import cron

from core.jobs import run

#: (job path, queue, seconds between runs)
EVERY = [
    ("core.mail:deliver_outbox", "default", 60),
    ("core.auth.personal_data:sweep_erasures", "low", 600),
    ("billing.documents.store:store_missing_documents", "low", 600),
]

#: (job path, queue, cron expression in UTC)
DAILY = [
    ("ingest.listings.expiry:expire_listings", "low", "5 0 * * *"),
    # Invoices due today, then reminders: early morning in Paris, before offices open.
    ("billing.invoicing.billing_run:run_job", "default", "0 4 * * *"),
]

for path, queue, seconds in EVERY:
    cron.register(run, queue, args=(path, None, None, (), {}), interval=seconds)
for path, queue, expression in DAILY:
    cron.register(run, queue, args=(path, None, None, (), {}), cron=expression)
