"""Storing replies and notifications in the outbox, and claiming them for delivery.

A row is written in the same transaction as the change that caused it, so a crash or a WeCom
outage delays a message but does not lose it. `bot.sender` delivers the rows.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from bot.wecom.text import split_text
from handlers.outcome import Card, CardUpdate, File, Image, Notification, Outcome, Reply, Text
from models.base import utcnow
from models.db import Database
from models.messages import OutboundMessage, OutboxStatus, queued_keys

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=2)
MAX_CARD_FIELDS = 6  # WeCom shows at most 6 horizontal_content_list rows
MAX_CARD_BUTTONS = 6


def render_card(card: Card) -> dict:
    """Return WeCom's `template_card` object of type `button_interaction` for a card."""
    return {
        "card_type": "button_interaction",
        "main_title": {"title": card.title, "desc": card.description},
        "horizontal_content_list": [{"keyname": label, "value": value} for label, value in card.fields[:MAX_CARD_FIELDS]],
        "task_id": card.task_id,
        "button_list": [
            {"text": button.label, "style": button.style, "key": button.key} for button in card.buttons[:MAX_CARD_BUTTONS]
        ],
    }


def _payloads(reply: Reply) -> list[dict]:
    """Return the stored form of a reply: WeCom JSON, or a file path uploaded when sent."""
    if isinstance(reply, Text):
        return [{"msgtype": "text", "text": {"content": part}} for part in split_text(reply.text)]
    if isinstance(reply, Card):
        return [{"msgtype": "template_card", "template_card": render_card(reply)}]
    if isinstance(reply, Image):
        payloads = [{"msgtype": "image", "path": reply.path}]
        return payloads + (_payloads(Text(reply.caption)) if reply.caption else [])
    if isinstance(reply, File):
        return [{"msgtype": "file", "path": reply.path, "name": reply.name}]
    raise TypeError(f"not a reply: {reply!r}")


def enqueue_reply(
    session: Session, recipient: str, reply: Reply, *, dedup_key: str | None = None,
    in_reply_to: int | None = None, not_before: datetime | None = None,
) -> list[OutboundMessage]:
    """Store a reply as one or more outbox rows; with a dedup key seen before, store nothing.

    Jobs and handlers may run twice, so a repeated notification is skipped here rather than
    failing the transaction on the unique key.
    """
    if dedup_key and already_queued(session, dedup_key):
        log.info("outbox row skipped: dedup key already queued")
        return []
    rows = [
        OutboundMessage(**values, in_reply_to=in_reply_to)
        for values in _row_values(recipient, reply, dedup_key, not_before or utcnow())
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _row_values(recipient: str, reply: Reply, dedup_key: str | None, not_before: datetime) -> list[dict]:
    """Return the column values of the outbox rows of one reply: one row per part, keyed `<dedup_key>:<part>`."""
    return [
        {
            "recipient": recipient, "kind": payload["msgtype"], "payload": payload,
            "dedup_key": f"{dedup_key}:{index}" if dedup_key else None, "not_before": not_before,
        }
        for index, payload in enumerate(_payloads(reply))
    ]


def already_queued(session: Session, dedup_key: str) -> bool:
    """Tell whether a message with this dedup key is in the outbox."""
    return bool(queued_keys(session, [dedup_key]))


def enqueue_notifications(session: Session, notifications: list[Notification]) -> int:
    """Store many notifications with one dedup lookup per 500 keys and one INSERT, and return the rows stored.

    Scheduled jobs notify hundreds of people at once, and `enqueue_reply` costs two round trips
    per notification. A key seen before, or twice in `notifications`, is stored once.
    """
    seen = queued_keys(session, [n.dedup_key for n in notifications if n.dedup_key])
    if seen:
        log.info("outbox rows skipped: %d dedup keys already queued", len(seen))
    now = utcnow()
    rows = []
    for notification in notifications:
        key = notification.dedup_key
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        rows.extend(_row_values(notification.recipient, notification.reply, key, now))
    if rows:
        # A Core INSERT of many rows skips the ORM's per-object bookkeeping.
        session.execute(insert(OutboundMessage), rows)
    return len(rows)


def enqueue_kf_reply(
    session: Session, open_kfid: str, external_userid: str, reply: Reply, *, dedup_key: str | None = None,
    in_reply_to: int | None = None,
) -> list[OutboundMessage]:
    """Store a reply to a WeChat customer as rows of kind `kf`, which the sender sends with `kf/send_msg`."""
    if isinstance(reply, Card):
        raise TypeError("WeChat customer service cannot show cards")
    rows = []
    for index, payload in enumerate(_payloads(reply)):
        row = OutboundMessage(
            recipient=external_userid, kind="kf", payload={"open_kfid": open_kfid, **payload},
            dedup_key=f"{dedup_key}:{index}" if dedup_key else None, in_reply_to=in_reply_to,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _enqueue_group_reply(
    session: Session, kind: str, recipient: str, target: dict, reply: Reply, dedup_key: str | None
) -> list[OutboundMessage]:
    if isinstance(reply, Card):
        raise TypeError("group chats and group robots take no button cards")
    rows = []
    for index, payload in enumerate(_payloads(reply)):
        row = OutboundMessage(
            recipient=recipient, kind=kind, payload={**target, **payload},
            dedup_key=f"{dedup_key}:{index}" if dedup_key else None,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def enqueue_appchat_reply(
    session: Session, chatid: str, reply: Reply, *, dedup_key: str | None = None, chat: dict | None = None
) -> list[OutboundMessage]:
    """Store a message to an app group chat as rows of kind `appchat`, sent with `appchat/send`.

    The recipient is `appchat:<chatid>`, so a chat's sends are counted apart from any member's.
    With `chat` ({"name", "owner", "members"}), the sender creates the chat when WeCom does not
    know the chat id yet.
    """
    target = {"chatid": chatid, "chat": chat} if chat else {"chatid": chatid}
    return _enqueue_group_reply(session, "appchat", f"appchat:{chatid}", target, reply, dedup_key)


def enqueue_robot_reply(
    session: Session, robot: str, webhook_key: str, reply: Reply, *, dedup_key: str | None = None
) -> list[OutboundMessage]:
    """Store a message to a group robot as rows of kind `robot`, sent with `webhook/send`.

    The recipient is `robot:<robot>`, the robot's configured name. The webhook key is stored in
    the payload because the sender has no settings to look it up in.
    """
    return _enqueue_group_reply(session, "robot", f"robot:{robot}", {"key": webhook_key}, reply, dedup_key)


def enqueue_card_update(session: Session, update_: CardUpdate) -> OutboundMessage:
    row = OutboundMessage(
        recipient="|".join(update_.recipients), kind="card_update",
        payload={"task_id": update_.task_id, "label": update_.label, "response_code": update_.response_code,
                 "recipients": list(update_.recipients)},
        dedup_key=f"card-update:{update_.task_id}",
    )
    session.add(row)
    session.flush()
    return row


def enqueue_outcome(session: Session, sender: str, outcome: Outcome, in_reply_to: int | None) -> int:
    """Store the outcome's replies, notifications and card updates, and return the row count."""
    count = 0
    for index, reply in enumerate(outcome.replies):
        key = f"reply:{in_reply_to}:{index}" if in_reply_to else None
        count += len(enqueue_reply(session, sender, reply, dedup_key=key, in_reply_to=in_reply_to))
    for notification in outcome.notifications:
        rows = enqueue_reply(session, notification.recipient, notification.reply, dedup_key=notification.dedup_key)
        count += len(rows)
    for card_update in outcome.card_updates:
        enqueue_card_update(session, card_update)
        count += 1
    return count


def cancel(session: Session, row_ids: list[int]) -> None:
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(row_ids), OutboundMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )


def claim_due(db: Database, limit: int) -> list[OutboundMessage]:
    """Mark up to `limit` due rows as sending and return them, oldest first.

    A row left in `sending` longer than SEND_LEASE belongs to a sender that died and is taken again.
    """
    now = utcnow()
    claimed = []
    with db.session() as session:
        query = (
            select(OutboundMessage)
            .where(
                or_(
                    (OutboundMessage.status == OutboxStatus.PENDING) & (OutboundMessage.not_before <= now),
                    (OutboundMessage.status == OutboxStatus.SENDING) & (OutboundMessage.claimed_at <= now - SEND_LEASE),
                )
            )
            .order_by(OutboundMessage.not_before, OutboundMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for row in session.scalars(query).all():
            result = session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == row.id, OutboundMessage.status == row.status)
                .values(status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboundMessage.attempts + 1)
            )
            if result.rowcount == 1:
                row.attempts += 1
                claimed.append(row)
    return claimed
