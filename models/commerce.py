"""Quotes, contracts, shipments and payments."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow


class Quote(Base):
    """A quote; it always belongs to a customer and one of its opportunities."""

    __tablename__ = "quotes"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    total: Mapped[Decimal | None]
    valid_until: Mapped[date | None]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    lines: Mapped[list["QuoteLine"]] = relationship(cascade="all, delete-orphan", order_by="QuoteLine.id")


class QuoteLine(Base):
    __tablename__ = "quote_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    product_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal]
    list_price: Mapped[Decimal | None]


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quotes.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    signed_on: Mapped[date | None]
    terms: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Shipment(Base):
    """A batch delivered against a contract."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    batch_no: Mapped[int] = mapped_column(default=1)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[Decimal]
    unit: Mapped[str] = mapped_column(String(20))
    shipped_on: Mapped[date | None]
    delivered_on: Mapped[date | None]
    vehicle_plate: Mapped[str | None] = mapped_column(String(20))
    waybill_no: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(Base):
    """Money against a contract: planned (`received_on` None) or received."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal]
    planned_on: Mapped[date | None]
    received_on: Mapped[date | None] = mapped_column(index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
