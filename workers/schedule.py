"""The cron schedule (`flask cron` or `rq cron workers.schedule`): what runs when, platform-wide."""

from rq import cron

from core.config import Config
from core.jobs import run

#: This module is RQ cron's configuration, read once when the scheduler starts: the settings
#: are those of its environment, as the application's are.
SETTINGS = Config.from_env()

#: (job path, queue, seconds between runs)
EVERY = [
    ("core.mail:deliver_outbox", "default", 60),
    # Imports left queued without a job (Redis was away) or whose worker died: not behind the
    # long imports of the "low" queue.
    ("ingest.listings.recovery:sweep_imports", "default", SETTINGS.IMPORT_SWEEP_SECONDS),
    # Photo addresses saved while Redis was away (their fetch never queued): queued again.
    ("ingest.listings.photo_sweep:sweep_photos", "default", SETTINGS.IMPORT_SWEEP_SECONDS),
    # The sites' audience counters, from Redis into each territory's schema.
    ("sites.audience:copy_counters", "low", 300),
    ("core.auth.personal_data:sweep_erasures", "low", 600),
    ("billing.documents.store:store_missing_documents", "low", 600),
]

#: (job path, queue, cron expression in UTC)
DAILY = [
    ("ingest.listings.expiry:expire_listings", "low", "5 0 * * *"),
    # Invoices due today, then reminders: early morning in Paris, before offices open.
    ("billing.invoicing.billing_run:run_job", "default", "0 4 * * *"),
    # Towns joining or leaving an umbrella today: its perimeter follows. Just after midnight in
    # Paris, winter (23:05 UTC) and summer (22:05 UTC) alike; a second run does nothing new.
    ("tenants.memberships:apply_the_days_changes", "low", "5 22,23 * * *"),
]

for path, queue, seconds in EVERY:
    cron.register(run, queue, args=(path, None, None, (), {}), interval=seconds)
for path, queue, expression in DAILY:
    cron.register(run, queue, args=(path, None, None, (), {}), cron=expression)
