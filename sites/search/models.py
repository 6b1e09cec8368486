"""What a registered visitor keeps on a territory's site: named searches and favourite listings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
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


class Favourite(TenantBase):
    """A listing a registered visitor saved ("my place" for a property)."""

    __tablename__ = "favourites"
    __table_args__ = (
        Index("uq_favourites_account_listing", "account_id", "listing_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    #: The radius (km) of "my place": opportunities shown around the property.
    radius_km: Mapped[int] = mapped_column(default=10, server_default="10")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


holds_people(SavedSearch, "account_id", on_erase="delete")
holds_people(Favourite, "account_id", on_erase="delete")
