"""Saved searches: a person's named searches on the territory, kept, listed and deleted."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from core.extensions import db
from sites.search.models import SavedSearch

#: How many searches one person may keep on one territory.
MAX_SAVED = 50


class TooManySaved(Exception):
    """The person keeps MAX_SAVED searches already: nothing was saved."""


def save_search(account_id: int, name: str, query: dict) -> SavedSearch:
    """Keep a search under its name, replacing the person's search of the same name (also when
    two saves of one name race: one upsert, never a unique violation at commit)."""
    exists = db.session.execute(
        select(SavedSearch.id).where(SavedSearch.account_id == account_id, SavedSearch.name == name)
    ).scalar()
    if exists is None:
        count = db.session.execute(
            select(func.count())
            .select_from(SavedSearch)
            .where(SavedSearch.account_id == account_id)
        ).scalar()
        if count >= MAX_SAVED:
            raise TooManySaved
    statement = insert(SavedSearch).values(account_id=account_id, name=name, query=query)
    search_id = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[SavedSearch.account_id, SavedSearch.name],
            set_={"query": statement.excluded.query, "updated_at": func.now()},
        ).returning(SavedSearch.id)
    ).scalar_one()
    return db.session.execute(
        select(SavedSearch).where(SavedSearch.id == search_id),
        execution_options={"populate_existing": True},
    ).scalar_one()


def _newest_first(account_id: int):
    return (
        select(SavedSearch)
        .where(SavedSearch.account_id == account_id)
        .order_by(SavedSearch.updated_at.desc(), SavedSearch.id.desc())
    )


def searches_of(account_id: int) -> list[SavedSearch]:
    """The person's saved searches, the last saved first."""
    return list(db.session.execute(_newest_first(account_id)).scalars())


def latest_search(account_id: int) -> SavedSearch | None:
    """The person's last saved search, if any."""
    return db.session.execute(_newest_first(account_id).limit(1)).scalar_one_or_none()


def delete_search(account_id: int, search_id: int) -> SavedSearch | None:
    """Delete one of the person's searches; None when it is someone else's or gone (also when
    a racing request deleted it first)."""
    found = db.session.execute(
        delete(SavedSearch)
        .where(SavedSearch.id == search_id, SavedSearch.account_id == account_id)
        .returning(SavedSearch)
    ).scalar_one_or_none()
    return found
