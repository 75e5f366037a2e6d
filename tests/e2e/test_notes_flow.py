"""Every labelled visit note sent through the encrypted callback, and the records it leaves."""

import json
from datetime import date, datetime

import pytest
from sqlalchemy import select

from models.activity import Activity, FollowUpTask
from models.crm import Customer
from models.messages import InboundMessage
from tests.conftest import SHARED_DATA

NOTES = SHARED_DATA / "notes-dev.jsonl"


def _notes() -> list[dict]:
    return [json.loads(line) for line in NOTES.read_text(encoding="utf-8").splitlines() if line.strip()]


def _send_note(live_bot, note: dict) -> list[str]:
    """Send a note at its labelled time; confirm a new customer when the bot asks."""
    now = datetime.fromisoformat(note["now"])
    replies = live_bot.send(note["author"], note["text"], now=now)
    while replies and "还不是系统里的客户" in replies[-1]:
        replies += live_bot.send(note["author"], "1", now=now)
    return replies


@pytest.mark.skipif(not NOTES.exists(), reason="labelled notes are not beside this checkout")
def test_every_dev_note_recorded(live_bot):
    notes = _notes()
    customer_hits = due_hits = due_total = 0

    for note in notes:
        replies = _send_note(live_bot, note)
        expected = note["expected"]

        assert replies, f"{note['id']}: no reply"
        assert "已记录" in replies[-1], f"{note['id']}: {replies[-1]}"
        assert all(len(r.encode("utf-8")) <= 2048 for r in replies)

        with live_bot.db.session() as session:
            message = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())
                                      .where(InboundMessage.payload["Content"].as_string() == note["text"])).first()
            activities = session.scalars(select(Activity).where(Activity.source_message_id == message.id)).unique().all()
            assert activities, f"{note['id']}: no activity stored"
            assert all(a.raw_text == note["text"] for a in activities)
            linked = {session.get(Customer, a.customer_id).name for a in activities if a.customer_id}
            customer_hits += linked == set(expected["customers"])

            if expected.get("due_date"):
                due_total += 1
                tasks = session.scalars(select(FollowUpTask).where(
                    FollowUpTask.activity_id.in_([a.id for a in activities]))).unique().all()
                due_hits += any(t.due_date == date.fromisoformat(expected["due_date"]) for t in tasks)

    assert customer_hits / len(notes) >= 0.9, f"customers right in {customer_hits} of {len(notes)} notes"
    assert due_hits / due_total >= 0.85, f"follow-up tasks right in {due_hits} of {due_total} notes"


def test_first_note_creates_records_and_summary(live_bot):
    now = datetime.fromisoformat("2026-12-04T10:00:00+08:00")
    text = "今天上午拜访了苏州恒达建材的王经理,对方要采购P.O42.5水泥约五百吨,预算八十万左右,竞争对手是海螺,下周三前给他们报价。王经理电话13912345678"
    replies = live_bot.send("zhangwei", text, now=now)

    assert len(replies) == 1
    summary = replies[0]
    assert "苏州恒达建材有限公司" in summary
    assert "80万元" in summary
    assert "方案报价" in summary
    assert "12月9日(周三)" in summary
    assert "撤销" in summary
    with live_bot.db.session() as session:
        customer = session.scalars(select(Customer).where(Customer.name == "苏州恒达建材有限公司")).unique().one()
        assert [c.name for c in customer.contacts] == ["王"]
        assert customer.contacts[0].phones == ["13912345678"]
        task = session.scalars(select(FollowUpTask)).unique().one()
        assert task.due_date == date(2026, 12, 9)
        assert customer.last_follow_up_at is not None
