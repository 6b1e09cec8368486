"""Pages of a territory's site (tenant schema): the editable texts its visitors read."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import TenantBase, Timestamped


class Page(Timestamped, TenantBase):
    """A page of the territory's site, addressed by its slug (`accueil` is the home page)."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    published: Mapped[bool] = mapped_column(default=True, server_default="true")
