"""Customer service through WeChat customer service (微信客服, kf): who is asking, what they asked,
and how fast the company replied.

A WeChat customer is known by an `external_userid`, which a rep binds to one contact of one
customer. Each customer message from `kf/sync_msg` gets a log row, which also records when the
first reply went out, for the response-time KPI.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class KfCursor(Base):
    """The `next_cursor` that `kf/sync_msg` returned last for one customer service account."""

    __tablename__ = "kf_cursors"

    open_kfid: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BindingMethod(StrEnum):
    REP = "rep"  # the rep typed the external_userid
    CODE = "code"  # the customer sent a one-time code the rep generated


class ExternalBinding(Base):
    """A WeChat customer (`external_userid`) known to be one contact of one customer."""

    __tablename__ = "external_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BindingCode(Base):
    """A one-time code that binds whoever sends it to a contact, until it is used or expires."""

    __tablename__ = "binding_codes"
    __table_args__ = (Index("ix_binding_codes_code_expires_at", "code", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(64))  # the external_userid it bound


class ServiceRequestKind(StrEnum):
    COMPLAINT = "complaint"
    RETURN = "return"
    QUALITY = "quality"
    DELIVERY_CHANGE = "delivery_change"


class ServiceRequestStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ServiceRequest(Base):
    """A complaint, return, quality issue or delivery change a customer filed, numbered FW-<year>-<serial>.

    `owner_id` is the customer's owner rep when the request was filed; `respond_by` is the time
    by which that rep should have called the customer back.
    """

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    external_userid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ServiceRequestStatus.OPEN)
    respond_by: Mapped[datetime]
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class KfMessageLog(Base):
    """One customer message from `kf/sync_msg`, with when the first reply to it was sent.

    `sent_at` is the customer's send time from WeCom; the 48-hour reply window starts there.
    `handed_over_at` is set when the bot could not reply within WeCom's limits and notified the
    owner rep instead.
    """

    __tablename__ = "kf_message_log"
    __table_args__ = (Index("ix_kf_message_log_user_sent_at", "external_userid", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[str] = mapped_column(String(128), unique=True)
    open_kfid: Mapped[str] = mapped_column(String(64))
    external_userid: Mapped[str] = mapped_column(String(64))
    msgtype: Mapped[str] = mapped_column(String(30))
    sent_at: Mapped[datetime]
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), index=True)
    first_response_at: Mapped[datetime | None]
    handed_over_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KfLookupFailure(Base):
    """A customer's lookup that found nothing they may see: an unknown or foreign number, or a wrong code.

    These rows rate-limit repeated guessing per `external_userid`.
    """

    __tablename__ = "kf_lookup_failures"
    __table_args__ = (Index("ix_kf_lookup_failures_user_at", "external_userid", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # contract, service_request, binding_code
    query: Mapped[str] = mapped_column(String(64))
    found_id: Mapped[int | None]  # the row that exists but belongs to another customer
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
