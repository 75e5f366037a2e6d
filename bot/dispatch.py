"""Processing one stored message: who sent it, what it means, and which use case runs.

Each message runs in one transaction: the use case's changes, its replies in the outbox and
the inbox row marked done commit together.
"""

import logging
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import conversation, kf_channel
from bot.inbox import MAX_ATTEMPTS
from bot.outbox import enqueue_outcome
from bot.runtime import Runtime

# Importing approvals registers its card-click handler, and quotes and contracts their approval hooks.
from handlers import approvals, cards, contracts, media, quotes  # noqa: F401
from handlers.cards import CardClick
from handlers.context import Context, DomainError
from handlers.outcome import Outcome
from handlers.wording import common as wording
from models.base import utcnow
from models.db import retry_if_locked
from models.messages import InboundMessage, InboxStatus
from models.org import User

log = logging.getLogger(__name__)

ATTACHMENT_TYPES = {"image", "voice", "video", "location", "link", "file"}


def _attachment_fields(message: InboundMessage) -> dict:
    payload = message.payload
    fields = {"media_id": payload.get("MediaId"), "url": payload.get("PicUrl") or payload.get("Url")}
    if message.msg_type == "location":
        fields |= {
            "latitude": float(payload.get("Location_X") or 0),
            "longitude": float(payload.get("Location_Y") or 0),
            "label": payload.get("Label"),
        }
    if message.msg_type in ("link", "file"):
        fields["label"] = payload.get("Title")
    return fields


def _route(runtime: Runtime, session: Session, message: InboundMessage, user: User) -> Outcome | None:
    ctx = Context(session=session, actor=user, now=message.create_time, source_message_id=message.id)
    if message.msg_type == "text":
        return conversation.handle_text(runtime, ctx, message.payload.get("Content") or "")
    if message.msg_type in ATTACHMENT_TYPES:
        return media.keep_attachment(ctx, message.msg_type, _attachment_fields(message))
    if message.msg_type == "event":
        if message.event == "template_card_event":
            payload = message.payload
            click = CardClick(
                task_id=payload.get("TaskId", ""), key=payload.get("EventKey", ""),
                response_code=payload.get("ResponseCode") or None,
            )
            return cards.handle_click(ctx, click)
        if message.event == "subscribe":
            return Outcome.text(wording.WELCOME.format(name=user.name))
        log.info("event ignored: inbox_id=%d event=%s", message.id, message.event)
        return None
    return Outcome.text(wording.UNSUPPORTED_TYPE)


def _process_in_transaction(runtime: Runtime, session: Session, message: InboundMessage) -> str:
    if kf_channel.is_kf(message):
        return kf_channel.process(runtime, session, message)
    user = session.scalar(select(User).where(User.userid == message.from_user, User.active.is_(True)))
    if user is None:
        outcome = Outcome.text(wording.UNKNOWN_SENDER)
        intent = "unknown_sender"
    else:
        try:
            with session.begin_nested():
                outcome = _route(runtime, session, message, user)
            intent = "handled"
        except DomainError as error:
            outcome, intent = Outcome.text(error.message), f"rejected:{error.code}"
    if outcome is not None:
        enqueue_outcome(session, message.from_user, outcome, message.id)
    message.status = InboxStatus.DONE
    message.processed_at = utcnow()
    message.error = None
    return intent


def _process(runtime: Runtime, message_id: int) -> str:
    with runtime.db.session() as session:
        message = session.get(InboundMessage, message_id)
        return _process_in_transaction(runtime, session, message)


def process_message(runtime: Runtime, message_id: int) -> None:
    """Process one claimed inbox message; on an unexpected error, tell the sender and keep the error."""
    started = time.perf_counter()
    try:
        intent = retry_if_locked(runtime.db, lambda: _process(runtime, message_id), f"message {message_id}")
    except Exception as error:
        log.exception("message processing failed: inbox_id=%d", message_id)
        _mark_failed(runtime, message_id, error)
        intent = "failed"
    runtime.outbox_signal.set()
    log.info("message processed: inbox_id=%d intent=%s ms=%.1f", message_id, intent, (time.perf_counter() - started) * 1000)


def _mark_failed(runtime: Runtime, message_id: int, error: Exception) -> None:
    with runtime.db.session() as session:
        message = session.get(InboundMessage, message_id)
        message.error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts < MAX_ATTEMPTS:
            message.status = InboxStatus.PENDING
            return
        message.status = InboxStatus.FAILED
        if kf_channel.is_kf(message):
            kf_channel.enqueue_failure_reply(session, message)
            return
        enqueue_outcome(session, message.from_user, Outcome.text(wording.PROCESSING_FAILED), message.id)

