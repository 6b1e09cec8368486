"""The listings console (`/console/annonces/`, editors and admins): listings, activity log, normed
files and imports, API keys. One blueprint, its views grouped by concern."""

from ingest.listings.console import activity, files, keys, listings, photos  # noqa: F401 - the views
from ingest.listings.console.blueprint import bp

__all__ = ["bp"]
