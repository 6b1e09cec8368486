"""What a registered visitor keeps on a territory's site: named searches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import holds_people
from core.db import TenantBase


class SavedSearch(TenantBase):
    """A named search: the criteria (as sent to `POST /api/v1/search`), budget and household."""

    __tablename__ = "saved_searches"
    __table_args__ = (Index("uq_saved_searches_account_name", "account_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: An account id (public schema), without a foreign key; erased with the person.
    account_id: Mapped[int] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The whole request body of the search (criteria, budget, household).
    query: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


holds_people(SavedSearch, "account_id", on_erase="delete")
