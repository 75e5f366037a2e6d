"""Questions about a note: expiry notices, abandoning, and choosing among customers."""

import time
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.emulator.server import start_app_in_thread
from models.activity import Activity
from models.crm import Customer
from models.messages import OutboundMessage, OutboxStatus
from tests.conftest import LiveBot, make_settings

NOW = datetime.fromisoformat("2026-12-04T10:00:00+08:00")
NEW_CUSTOMER_NOTE = "新客户:嘉善恒昌建材有限公司,老板姓周,对我们的防水卷材感兴趣"


@pytest.fixture
def quick_expiry_bot(db, redis_prefix, emulator, world, live_bot):
    settings = make_settings(db.url, redis_prefix, wecom_api_base=f"{emulator.url}/cgi-bin/", dialogue_ttl_seconds=1)
    server = start_app_in_thread(create_app(settings))
    live_bot.device.callback_url = f"{server.url}/wecom/callback"
    yield LiveBot(settings=settings, db=db, device=live_bot.device, inspector=live_bot.inspector)
    server.stop()


def test_unanswered_question_expires_with_notice(quick_expiry_bot):
    bot = quick_expiry_bot
    [question] = bot.send("wangqiang", NEW_CUSTOMER_NOTE, now=NOW)
    assert "还不是系统里的客户" in question
    after = bot.last_message_id("wangqiang")

    notices = bot.inspector.wait_for_messages("wangqiang", 1, after=after, timeout=10)
    assert notices[0]["content"].startswith("⏰ 刚才那条记录等你确认客户")
    time.sleep(0.2)
    [late] = bot.send("wangqiang", "1")
    assert "没有需要你回复" in late
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0


def test_new_note_abandons_open_question(live_bot):
    live_bot.send("zhangwei", NEW_CUSTOMER_NOTE, now=NOW)
    [reply] = live_bot.send("zhangwei", "今天电话跟进恒达王经理,石膏板需求大概两万张", now=NOW)
    assert reply.startswith("⚠️ 上一条记录还在等你确认客户,已放弃")
    assert "苏州恒达建材有限公司" in reply
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name.like("嘉善%"))) == 0


def test_answered_question_cancels_expiry_notice(live_bot):
    live_bot.send("wangqiang", NEW_CUSTOMER_NOTE, now=NOW)
    live_bot.send("wangqiang", "1", now=NOW)
    with live_bot.db.session() as session:
        notice = session.scalars(select(OutboundMessage).where(OutboundMessage.dedup_key.like("dialogue-expired:%"))).one()
        assert notice.status == OutboxStatus.CANCELLED


def test_bad_choice_keeps_question(live_bot):
    live_bot.send("wangqiang", NEW_CUSTOMER_NOTE, now=NOW)
    [reply] = live_bot.send("wangqiang", "7")
    assert reply == "请回复 1 到 2 之间的序号,或回复「取消」。"
    [summary] = live_bot.send("wangqiang", "2", now=NOW)
    assert "没有关联客户" in summary
