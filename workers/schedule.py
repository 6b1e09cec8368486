"""The cron schedule (`flask cron` or `rq cron workers.schedule`): what runs when, platform-wide."""

from rq import cron

from workers.jobs import run

#: (job path, queue, seconds between runs)
EVERY = [
    ("core.mail:deliver_outbox", "default", 60),
    ("core.auth.personal_data:sweep_erasures", "low", 600),
]

for path, queue, seconds in EVERY:
    cron.register(run, queue, args=(path, None, None, (), {}), interval=seconds)
