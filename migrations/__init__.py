"""Alembic script directories: `public/` for the platform schema, `tenant/` for each territory."""
