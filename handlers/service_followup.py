"""Chasing service requests past their response deadline, and closing them from the chat."""

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outbox import enqueue_kf_reply
from handlers.changes import ChangeBatch
from handlers.context import Context, DomainError
from handlers.outcome import Notification, Outcome, Text
from handlers.wording import service_followup as wording
from models.base import utcnow
from models.crm import Customer
from models.org import Role, User
from models.service import KfMessageLog, ServiceRequest, ServiceRequestStatus

log = logging.getLogger(__name__)


def _director_of(session: Session, user: User | None) -> User | None:
    if user is None or user.manager_id is None:
        return None
    return session.get(User, user.manager_id)


def chase_overdue_requests(session: Session, now: datetime) -> list[Notification]:
    """Remind the owner of each open request past its deadline, then tell their director.

    The reminder goes out once the deadline passes; the director hears once the request is
    open for twice its response time. Dedup keys make a second run send nothing new.
    """
    notifications = []
    overdue = session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.status == ServiceRequestStatus.OPEN, ServiceRequest.respond_by < now)
        .order_by(ServiceRequest.id)
    ).all()
    for request in overdue:
        customer = session.get(Customer, request.customer_id)
        owner = session.get(User, request.owner_id) if request.owner_id else None
        recipients = [owner] if owner is not None and owner.active else list(
            session.scalars(select(User).where(User.role == Role.SALES_DIRECTOR, User.active.is_(True)))
        )
        text = wording.overdue(request.number, customer.name, request.respond_by)
        for recipient in recipients:
            notifications.append(
                Notification(recipient.userid, Text(text), dedup_key=f"service-overdue:{request.id}:{recipient.userid}")
            )
        response_time = request.respond_by - request.created_at
        director = _director_of(session, owner)
        if director is not None and now >= request.respond_by + response_time:
            escalation = wording.escalated(request.number, customer.name, owner.name, request.respond_by)
            notifications.append(
                Notification(director.userid, Text(escalation), dedup_key=f"service-escalated:{request.id}")
            )
    if overdue:
        log.info("service requests chased: overdue=%d notifications=%d", len(overdue), len(notifications))
    return notifications


def close_request(ctx: Context, number: str, note: str | None) -> Outcome:
    """Close a request as handled and notify the customer; only the owner, their director or the sales director may."""
    request = ctx.session.scalars(select(ServiceRequest).where(ServiceRequest.number == number.upper())).first()
    if request is None:
        raise DomainError(wording.NOT_FOUND.format(number=number))
    owner = ctx.session.get(User, request.owner_id) if request.owner_id else None
    allowed = ctx.actor.id == request.owner_id or ctx.actor.role == Role.SALES_DIRECTOR or (
        ctx.actor.role == Role.REGIONAL_DIRECTOR and owner is not None and owner.manager_id == ctx.actor.id
    )
    if not allowed:
        raise DomainError(wording.NOT_YOURS.format(number=request.number))
    if request.status == ServiceRequestStatus.CLOSED:
        return Outcome.text(wording.ALREADY_CLOSED.format(number=request.number))

    batch = ChangeBatch(ctx.session, ctx.actor.id, "service_close", ctx.source_message_id)
    batch.updating(request)
    request.status = ServiceRequestStatus.CLOSED
    request.closed_at = utcnow()
    batch.finish()

    latest = ctx.session.scalars(
        select(KfMessageLog).where(KfMessageLog.external_userid == request.external_userid)
        .order_by(KfMessageLog.sent_at.desc()).limit(1)
    ).first()
    if latest is not None:
        enqueue_kf_reply(
            ctx.session, latest.open_kfid, request.external_userid, Text(wording.customer_notice(request.number, note)),
            dedup_key=f"service-closed:{request.id}",
        )
    log.info("service request closed: request_id=%d actor=%d", request.id, ctx.actor.id)
    return Outcome.text(wording.closed(request.number, told_customer=latest is not None))
