"""What a territory's site shows, in its own schema: pages, home texts, branding."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import holds_people
from core.db import TenantBase, Timestamped


class Page(Timestamped, TenantBase):
    """A page of the territory's site, addressed by its slug."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    published: Mapped[bool] = mapped_column(default=True, server_default="true")
    #: An account id (public schema), without a foreign key: territory tables reference only
    #: their own schema. Erased with the person.
    updated_by_id: Mapped[int | None]


class HomeText(Timestamped, TenantBase):
    """The home page's texts in one language: title, introduction, the three axes and their
    headings, the hero photo's alt text."""

    __tablename__ = "home_texts"
    __table_args__ = (CheckConstraint("locale IN ('fr', 'en')", name="locale_known"),)

    locale: Mapped[str] = mapped_column(String(5), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    introduction: Mapped[str] = mapped_column(Text, default="", server_default="")
    axis_productive: Mapped[str] = mapped_column(Text, default="", server_default="")
    axis_tourism: Mapped[str] = mapped_column(Text, default="", server_default="")
    axis_residential: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The axes' headings as the territory names them; empty: the platform's own.
    axis_productive_title: Mapped[str] = mapped_column(String(120), default="", server_default="")
    axis_tourism_title: Mapped[str] = mapped_column(String(120), default="", server_default="")
    axis_residential_title: Mapped[str] = mapped_column(String(120), default="", server_default="")
    #: What the hero photo shows, for those who cannot see it.
    hero_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    updated_by_id: Mapped[int | None]


class Branding(Timestamped, TenantBase):
    """The territory's colours, font and logo (one row); empty values fall back to the theme."""

    __tablename__ = "branding"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    primary: Mapped[str | None] = mapped_column(String(7))
    on_primary: Mapped[str | None] = mapped_column(String(7))
    background: Mapped[str | None] = mapped_column(String(7))
    text: Mapped[str | None] = mapped_column(String(7))
    font: Mapped[str | None] = mapped_column(String(40))
    logo_key: Mapped[str | None] = mapped_column(String(200))
    logo_type: Mapped[str | None] = mapped_column(String(40))
    #: The home page's photo, resized and re-encoded (core.images.sanitise_photo).
    hero_key: Mapped[str | None] = mapped_column(String(200))
    hero_type: Mapped[str | None] = mapped_column(String(40))
    updated_by_id: Mapped[int | None]


holds_people(Page, "updated_by_id")
holds_people(HomeText, "updated_by_id")
holds_people(Branding, "updated_by_id")
