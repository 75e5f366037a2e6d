"""Approval requests for quotes, discounts and contracts, and the steps of their chains."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.org import User


class ApprovalKind(StrEnum):
    QUOTE = "quote"  # a quote priced beyond what a rep may offer alone
    DISCOUNT = "discount"  # a price cut on a quote already made
    CONTRACT = "contract"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class StepStatus(StrEnum):
    WAITING = "waiting"  # an earlier step is not decided yet
    PENDING = "pending"  # the approver has the card
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # the request was withdrawn or rejected before this step


class ApprovalRequest(Base):
    """One submission of a document for approval.

    `subject_id` is the quote's or contract's id (a discount's subject is its quote), and
    `snapshot` contains the document as submitted, so a decision applies what the approvers saw.
    Resubmitting after a withdrawal or rejection creates a new request.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_kind_subject", "kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    subject_number: Mapped[str] = mapped_column(String(40), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ApprovalStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict] = mapped_column(default=dict)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    requester: Mapped[User] = relationship()
    steps: Mapped[list["ApprovalStep"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="ApprovalStep.position"
    )


class ApprovalStep(Base):
    """One approver's decision in a chain, in `position` order starting at 1.

    `task_id` names the approval card sent to the approver and `response_code` keeps the code
    of their click, which greys the card out once. `reason_requested_at` is set while the
    approver has tapped 驳回 and the bot waits for the reason in the chat.
    """

    __tablename__ = "approval_steps"
    __table_args__ = (Index("ix_approval_steps_approver_status", "approver_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"), index=True)
    position: Mapped[int]
    role: Mapped[str] = mapped_column(String(30))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), default=StepStatus.WAITING)
    comment: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    response_code: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    reason_requested_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    request: Mapped[ApprovalRequest] = relationship(back_populates="steps")
    approver: Mapped[User] = relationship()
