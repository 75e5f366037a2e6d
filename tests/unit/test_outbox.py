"""Storing many notifications at once: dedup keys, parts and recipients."""

from sqlalchemy import func, select

from bot.outbox import enqueue_notifications, enqueue_reply
from bot.wecom.text import split_text
from handlers.outcome import Notification, Text
from models.messages import OutboundMessage, queued_keys


def _rows(db) -> list[tuple[str, str | None]]:
    with db.session() as session:
        return session.execute(
            select(OutboundMessage.recipient, OutboundMessage.dedup_key).order_by(OutboundMessage.id)
        ).all()


def test_each_notification_stored_once_per_key(db):
    with db.session() as session:
        enqueue_reply(session, "lisi", Text("早上好"), dedup_key="list:2026-12-07:lisi")
    notifications = [
        Notification("lisi", Text("又一份清单"), dedup_key="list:2026-12-07:lisi"),  # queued before
        Notification("wangfang", Text("清单"), dedup_key="list:2026-12-07:wangfang"),
        Notification("wangfang", Text("重复的清单"), dedup_key="list:2026-12-07:wangfang"),  # twice in one run
        Notification("zhangwei", Text("没有去重键")),
    ]
    with db.session() as session:
        stored = enqueue_notifications(session, notifications)

    assert stored == 2
    assert _rows(db) == [
        ("lisi", "list:2026-12-07:lisi:0"),
        ("wangfang", "list:2026-12-07:wangfang:0"),
        ("zhangwei", None),
    ]
    with db.session() as session:
        texts = session.scalars(select(OutboundMessage.payload).where(OutboundMessage.recipient == "wangfang")).all()
    assert texts == [{"msgtype": "text", "text": {"content": "清单"}}]


def test_long_text_stored_in_parts(db):
    long_text = "客户跟进提醒。" * 600
    parts = split_text(long_text)
    assert len(parts) > 1
    with db.session() as session:
        assert enqueue_notifications(session, [Notification("lisi", Text(long_text), dedup_key="long")]) == len(parts)
    with db.session() as session:
        assert queued_keys(session, ["long", "other"]) == {"long"}
        assert enqueue_notifications(session, [Notification("lisi", Text(long_text), dedup_key="long")]) == 0
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == len(parts)


def test_keys_looked_up_in_batches(db):
    notifications = [Notification(f"rep{n}", Text("清单"), dedup_key=f"batch:{n}") for n in range(1200)]
    with db.session() as session:
        assert enqueue_notifications(session, notifications[:700]) == 700
    with db.session() as session:
        assert queued_keys(session, [f"batch:{n}" for n in range(1200)]) == {f"batch:{n}" for n in range(700)}
        assert enqueue_notifications(session, notifications) == 500
