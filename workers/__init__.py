"""The background processes: `flask worker` and `flask cron`, the cron schedule, and the worker
class of a bare `rq worker`."""
