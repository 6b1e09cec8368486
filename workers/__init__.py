"""Background work: RQ queues, the territory-aware job wrapper and the cron schedule."""
