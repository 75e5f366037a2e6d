"""Delivering the outbox to the emulated WeCom: retries, back-off, member limits, restarts."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.outbox import enqueue_card_update, enqueue_reply, render_card
from bot.sender import deliver_due
from bot.stores import MemoryStore
from bot.wecom.client import WeComClient
from handlers.outcome import Button, Card, CardUpdate, Text
from models.base import utcnow
from models.messages import OutboundMessage, OutboxStatus
from bot.emulator.server import EmulatorInspector


@pytest.fixture
def client(bot_settings):
    wecom = WeComClient.from_settings(bot_settings, MemoryStore())
    yield wecom
    wecom.close()


@pytest.fixture
def inspector(emulator):
    inspect = EmulatorInspector(emulator.url)
    yield inspect
    inspect.close()


def _queue_texts(db, recipient: str, count: int) -> list[int]:
    with db.session() as session:
        return [enqueue_reply(session, recipient, Text(f"第{i}条通知"))[0].id for i in range(count)]


def _rows(db) -> list[OutboundMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def _make_due(db) -> None:
    with db.session() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.status == OutboxStatus.PENDING)
                        .values(not_before=utcnow() - timedelta(seconds=1)))


def test_text_delivered_and_marked_sent(db, client, inspector):
    _queue_texts(db, "zhangwei", 1)
    assert deliver_due(db, client) == 1
    [row] = _rows(db)
    assert row.status == OutboxStatus.SENT
    assert row.errcode == 0
    assert [m["content"] for m in inspector.messages(touser="zhangwei")] == ["第0条通知"]


def test_system_busy_retried_with_backoff(db, client, inspector):
    inspector.inject_fault("message/send", errcode=-1, count=1)
    _queue_texts(db, "zhangwei", 1)
    deliver_due(db, client)
    [row] = _rows(db)
    assert row.status == OutboxStatus.PENDING
    assert row.errcode == -1
    assert row.not_before > utcnow()
    _make_due(db)
    deliver_due(db, client)
    [row] = _rows(db)
    assert row.status == OutboxStatus.SENT
    assert len(inspector.messages(touser="zhangwei")) == 1


def test_rate_limited_backs_off_a_minute(db, client, inspector):
    inspector.inject_fault("message/send", errcode=45009, count=1)
    _queue_texts(db, "zhangwei", 1)
    deliver_due(db, client)
    [row] = _rows(db)
    assert row.status == OutboxStatus.PENDING
    assert row.errcode == 45009
    assert row.not_before > utcnow() + timedelta(seconds=50)
    assert inspector.messages(touser="zhangwei") == []


def test_invalid_token_refreshed_once(db, client, inspector):
    inspector.inject_fault("message/send", errcode=40014, count=1)
    _queue_texts(db, "zhangwei", 1)
    deliver_due(db, client)
    [row] = _rows(db)
    assert row.status == OutboxStatus.SENT
    assert len(inspector.messages(touser="zhangwei")) == 1


def test_other_errcode_fails_with_code(db, client, inspector):
    with db.session() as session:
        enqueue_reply(session, "zhangwei", Text("x"))
        session.execute(update(OutboundMessage).values(payload={"msgtype": "text", "text": {"content": ""}}))
    deliver_due(db, client)
    [row] = _rows(db)
    assert row.status == OutboxStatus.FAILED
    assert row.errcode == 44004


def test_member_limit_delays_and_merges(db, client, inspector):
    _queue_texts(db, "lina", 35)
    while deliver_due(db, client, limit=50):
        pass
    delivered = inspector.messages(touser="lina")
    assert len(delivered) == 30
    assert inspector.dropped(touser="lina") == []
    rows = _rows(db)
    waiting = [r for r in rows if r.status == OutboxStatus.PENDING]
    merged = [r for r in rows if r.status == OutboxStatus.CANCELLED]
    assert len(waiting) == 1
    assert len(merged) == 4
    assert waiting[0].not_before > utcnow()
    assert waiting[0].payload["text"]["content"].count("条通知") == 5


def test_unsent_rows_delivered_after_restart(db, bot_settings, inspector):
    _queue_texts(db, "zhangwei", 2)
    with db.session() as session:  # claimed by a sender that died
        session.execute(update(OutboundMessage).values(status=OutboxStatus.SENDING,
                                                       claimed_at=utcnow() - timedelta(minutes=5)))
    fresh = WeComClient.from_settings(bot_settings, MemoryStore())
    deliver_due(db, fresh)
    fresh.close()
    assert [r.status for r in _rows(db)] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert len(inspector.messages(touser="zhangwei")) == 2


def test_card_rendered_as_button_interaction():
    card = Card(title="合同审批", description="恒达 68万元", fields=(("客户", "苏州恒达建材有限公司"),),
                buttons=(Button("approve", "同意"), Button("reject", "驳回", style=2)), task_id="apv-1-1")
    rendered = render_card(card)
    assert rendered["card_type"] == "button_interaction"
    assert rendered["task_id"] == "apv-1-1"
    assert rendered["main_title"] == {"title": "合同审批", "desc": "恒达 68万元"}
    assert rendered["button_list"] == [{"text": "同意", "style": 1, "key": "approve"},
                                       {"text": "驳回", "style": 2, "key": "reject"}]


def test_card_update_without_code_sends_notices(db, client, inspector):
    with db.session() as session:
        enqueue_card_update(session, CardUpdate("apv-9-1", "已同意", None, ("zhaomin", "zhoujun")))
    while deliver_due(db, client):
        pass
    for user in ("zhaomin", "zhoujun"):
        assert [m["content"] for m in inspector.messages(touser=user)] == ["审批卡片已处理:已同意。"]
