"""Service requests from customers: complaints, returns, quality issues and delivery changes.

Each request gets a number (FW-<year>-<serial>), the customer's owner rep as its owner, and a
deadline by which the rep should call back. The rep is notified at once; the customer is told
who will call and by when, and can ask for the request's status by its number.
"""

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handlers.order_status import (
    CustomerContext,
    ServicePolicy,
    blocked_reply,
    contact_label,
    lookups_blocked,
    record_failed_lookup,
)
from handlers.outcome import Notification, Outcome, Text
from handlers.wording import customer_service as wording
from models.org import Role, User
from models.service import ServiceRequest, ServiceRequestKind

log = logging.getLogger(__name__)

MAX_DESCRIPTION_CHARS = 2000


def next_request_number(session: Session, year: int) -> str:
    """Return the next FW-<year>-<serial> number.

    NOTE: two workers numbering at the same moment may pick the same number; the unique
    constraint then fails one message, which the inbox retries.
    """
    stem = f"FW-{year}-"
    latest = session.scalar(select(func.max(ServiceRequest.number)).where(ServiceRequest.number.like(f"{stem}%")))
    serial = int(latest.removeprefix(stem)) + 1 if latest else 1
    return f"{stem}{serial:04d}"


def _recipients(session: Session, owner: User | None) -> list[User]:
    """Return the users who must call back: the owner rep, or the sales directors for a pool customer."""
    if owner is not None and owner.active:
        return [owner]
    return list(session.scalars(select(User).where(User.role == Role.SALES_DIRECTOR, User.active.is_(True))))


def open_request(cctx: CustomerContext, policy: ServicePolicy, kind: ServiceRequestKind, description: str) -> Outcome:
    """File a service request for the customer's company and notify whoever must call back."""
    customer = cctx.customer
    contact = cctx.contact
    respond_by = cctx.now + policy.response_time
    request = ServiceRequest(
        number=next_request_number(cctx.session, cctx.today.year),
        customer_id=customer.id,
        contact_id=contact.id,
        external_userid=cctx.external_userid,
        kind=kind,
        description=description.strip()[:MAX_DESCRIPTION_CHARS],
        owner_id=customer.owner_id,
        respond_by=respond_by,
        source_message_id=cctx.source_message_id,
        created_at=cctx.now,
    )
    cctx.session.add(request)
    cctx.session.flush()
    log.info(
        "service request opened: request_id=%d customer_id=%d owner_id=%s kind=%s",
        request.id, customer.id, request.owner_id, kind,
    )

    owner = customer.owner
    outcome = Outcome.text(wording.request_opened(request.number, kind, owner.name if owner else None, respond_by))
    notice = wording.request_notice(request.number, kind, customer.name, contact_label(contact), request.description, respond_by)
    for recipient in _recipients(cctx.session, owner):
        outcome.notifications.append(
            Notification(recipient.userid, Text(notice), dedup_key=f"service-request:{request.id}:{recipient.userid}")
        )
    if not outcome.notifications:
        log.warning("service request notification skipped: no active owner or sales director: request_id=%d", request.id)
    return outcome


def request_status(cctx: CustomerContext, policy: ServicePolicy, number: str) -> Outcome:
    """Reply with the status of one of the customer's company's requests, found by number."""
    if lookups_blocked(cctx, policy):
        return blocked_reply(cctx, policy)
    request = cctx.session.scalars(select(ServiceRequest).where(ServiceRequest.number == number)).first()
    if request is None or request.customer_id != cctx.binding.customer_id:
        record_failed_lookup(cctx, "service_request", number, request.id if request is not None else None)
        return Outcome.text(wording.REQUEST_NOT_FOUND.format(number=number))
    owner = cctx.session.get(User, request.owner_id) if request.owner_id else None
    text = wording.request_status(
        request.number, request.kind, request.status, owner.name if owner else None, request.created_at, request.respond_by
    )
    return Outcome.text(text)
