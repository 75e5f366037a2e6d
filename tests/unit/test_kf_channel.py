"""The kf channel's parts on their own: reading customer questions, syncing pages into the inbox,
and counting replies against WeCom's 48-hour window."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot import kf_channel
from bot.emulator.kf import DEFAULT_OPEN_KFID
from bot.outbox import enqueue_kf_reply
from bot.runtime import Runtime
from handlers.outcome import Card, Text
from models.base import utcnow
from models.messages import InboundMessage, InboxStatus, OutboundMessage, OutboxStatus
from models.service import KfCursor, KfMessageLog, ServiceRequestKind


@pytest.mark.parametrize(
    ("text", "topic", "number", "kind"),
    [
        ("绑定 123456", "bind", None, None),
        ("我的货到哪了", "open_contracts", None, None),
        ("查一下ht-2026-0012", "contract", "HT-2026-0012", None),
        ("HT-2026-0012 付款情况", "payments", "HT-2026-0012", None),
        ("还欠多少钱", "payments", None, None),
        ("发一下合同文件", "file", None, None),
        ("HT-2026-0012 的合同电子版", "file", "HT-2026-0012", None),
        ("上次那批卷材破损了", "open_request", None, ServiceRequestKind.QUALITY),
        ("HT-2026-0012 这批要退货", "open_request", "HT-2026-0012", ServiceRequestKind.RETURN),
        ("下周的货能改地址吗", "open_request", None, ServiceRequestKind.DELIVERY_CHANGE),
        ("我要投诉你们的司机", "open_request", None, ServiceRequestKind.COMPLAINT),
        ("FW-2026-0001 怎么样了", "request_status", "FW-2026-0001", None),
        ("你好", "help", None, None),
    ],
)
def test_understand_customer_text(text, topic, number, kind):
    question = kf_channel.understand(text)

    assert question.topic == topic
    assert question.number == number
    assert question.kind == kind


def test_understand_reads_bind_code():
    assert kf_channel.understand("绑定:654321").code == "654321"
    assert kf_channel.understand("绑定 12345").topic == "help"


def _customer_says(emulator_url: str, user: str, text: str) -> str:
    response = httpx.post(f"{emulator_url}/emulator/api/kf/customer_message", json={"external_userid": user, "text": text, "notify": False})
    response.raise_for_status()
    return response.json()["token"]


def _event(db, token: str, create_time: int) -> int:
    payload = {"FromUserName": DEFAULT_OPEN_KFID, "Event": "kf_msg_or_event", "Token": token, "OpenKfId": DEFAULT_OPEN_KFID}
    with db.session() as session:
        row = InboundMessage(
            dedup_key=f"evt:{DEFAULT_OPEN_KFID}:{create_time}:kf_msg_or_event", msg_type="event", event="kf_msg_or_event",
            from_user=DEFAULT_OPEN_KFID, create_time=datetime.fromtimestamp(create_time, UTC), payload=payload,
        )
        session.add(row)
        session.flush()
        return row.id


def _process(runtime: Runtime, inbox_id: int) -> str:
    with runtime.db.session() as session:
        return kf_channel.process(runtime, session, session.get(InboundMessage, inbox_id))


@pytest.fixture
def runtime(bot_settings, monkeypatch):
    monkeypatch.setenv("KF_SYNC_LIMIT", "2")
    kf_channel.get_kf_settings.cache_clear()
    runtime = Runtime.from_settings(bot_settings)
    yield runtime
    runtime.db.dispose()
    kf_channel.get_kf_settings.cache_clear()


def test_sync_stores_each_message_once(db, emulator, runtime):
    for text in ("一", "二", "三"):
        token = _customer_says(emulator.url, "wmA", text)
    _customer_says(emulator.url, "wmB", "四")

    first = _process(runtime, _event(db, token, 1_800_000_000))
    # A second event for the same messages syncs from the saved cursor and stores nothing new.
    second = _process(runtime, _event(db, token, 1_800_000_001))

    assert first == "kf_synced:4"
    assert second == "kf_synced:0"
    with db.session() as session:
        rows = session.scalars(select(InboundMessage).where(InboundMessage.channel == "kf").order_by(InboundMessage.id)).all()
        assert [(r.from_user, r.payload["text"]["content"]) for r in rows] == [("wmA", "一"), ("wmA", "二"), ("wmA", "三"), ("wmB", "四")]
        assert all(r.status == InboxStatus.PENDING for r in rows)
        logs = session.scalars(select(KfMessageLog)).all()
        assert sorted(log.inbound_id for log in logs) == [r.id for r in rows]
        assert session.get(KfCursor, DEFAULT_OPEN_KFID).cursor == "c4"


def test_sync_without_expired_token(db, emulator, runtime):
    _customer_says(emulator.url, "wmA", "一")

    result = _process(runtime, _event(db, "ENCexpired", 1_800_000_000))

    assert result == "kf_synced:1"


def _log_customer_message(db, user: str, sent_at: datetime) -> int:
    with db.session() as session:
        inbound = InboundMessage(
            dedup_key=f"kf:{user}:{sent_at.timestamp()}", channel="kf", msg_type="text", from_user=user, create_time=sent_at,
            payload={"open_kfid": DEFAULT_OPEN_KFID, "msgtype": "text", "text": {"content": "你好"}}, status=InboxStatus.DONE,
        )
        session.add(inbound)
        session.flush()
        session.add(KfMessageLog(msgid=f"m{inbound.id}", open_kfid=DEFAULT_OPEN_KFID, external_userid=user, msgtype="text",
                                 sent_at=sent_at, inbound_id=inbound.id))
        return inbound.id


def _queue(db, user: str, count: int, inbound_id: int) -> list[OutboundMessage]:
    with db.session() as session:
        rows = [enqueue_kf_reply(session, DEFAULT_OPEN_KFID, user, Text(f"回复{i}"), in_reply_to=inbound_id)[0] for i in range(count)]
        session.expunge_all()
        return rows


def _mark_sent(db, rows: list[OutboundMessage]) -> None:
    with db.session() as session:
        for row in rows:
            stored = session.get(OutboundMessage, row.id)
            stored.status = OutboxStatus.SENT
            stored.sent_at = utcnow()


def test_may_send_counts_five_since_last_message(db, world):
    inbound_id = _log_customer_message(db, "wmA", utcnow() - timedelta(hours=1))
    rows = _queue(db, "wmA", 6, inbound_id)
    _mark_sent(db, rows[:5])

    assert not kf_channel.may_send(db, rows[5])

    with db.session() as session:
        assert session.get(OutboundMessage, rows[5].id).status == OutboxStatus.CANCELLED
        assert session.get(OutboundMessage, rows[5].id).errmsg == "kf reply window closed: count_exhausted"
        assert session.scalars(select(KfMessageLog)).one().handed_over_at is not None

    newer = _log_customer_message(db, "wmA", utcnow())
    assert kf_channel.may_send(db, _queue(db, "wmA", 1, newer)[0])


def test_may_send_closed_after_48_hours(db, world):
    inbound_id = _log_customer_message(db, "wmA", utcnow() - timedelta(hours=48, seconds=5))
    [row] = _queue(db, "wmA", 1, inbound_id)

    assert not kf_channel.may_send(db, row)
    with db.session() as session:
        assert session.get(OutboundMessage, row.id).errmsg == "kf reply window closed: window_expired"


def test_kf_reply_rejects_cards(db):
    with db.session() as session, pytest.raises(TypeError):
        enqueue_kf_reply(session, DEFAULT_OPEN_KFID, "wmA", Card(title="审批", description=""))


def test_kf_settings_from_environment(monkeypatch):
    monkeypatch.setenv("KF_FAILED_LOOKUP_LIMIT", "3")
    monkeypatch.setenv("KF_RESPONSE_HOURS", "2")

    policy = kf_channel.KfSettings(_env_file=None).policy()

    assert policy.failed_lookup_limit == 3
    assert policy.response_time == timedelta(hours=2)
    assert policy.failed_lookup_window == timedelta(minutes=10)

