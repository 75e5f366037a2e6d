"""Customers, their contacts, the product catalog and competitors."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.org import User


class Customer(Base):
    """A customer company; `owner_id` is None while it sits in the public pool (公海)."""

    __tablename__ = "customers"
    __table_args__ = (
        # The pool release's scan: owned customers by the time of their last touch (migration 0007).
        Index(
            "ix_customers_owned_idle_since", text("coalesce(last_follow_up_at, created_at)"),
            postgresql_where=text("owner_id IS NOT NULL"), sqlite_where=text("owner_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list] = mapped_column(default=list)
    region: Mapped[str | None] = mapped_column(String(50))
    industry: Mapped[str | None] = mapped_column(String(50))
    tags: Mapped[list] = mapped_column(default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    last_follow_up_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship(lazy="joined")
    contacts: Mapped[list["Contact"]] = relationship(back_populates="customer", order_by="Contact.id")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(50))
    phones: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list] = mapped_column(default=list)
    unit: Mapped[str] = mapped_column(String(20))
    list_price: Mapped[Decimal | None]
    floor_price: Mapped[Decimal | None]


class Competitor(Base):
    __tablename__ = "competitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    note: Mapped[str | None] = mapped_column(Text)


class UnitSpelling(Base):
    """A way reps write a unit (立方, m3) and the catalog unit it stands for (方)."""

    __tablename__ = "unit_spellings"

    spelling: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit: Mapped[str] = mapped_column(String(20))
