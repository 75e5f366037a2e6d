"""Pipeline discipline through the live callback and the emulated WeCom: notification rules on
stage changes, stage-limit reminders, daily lists and the 团队日报 command."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.runtime import Runtime
from models.base import utcnow
from models.crm import Customer
from models.discipline import RuleNotice
from models.pipeline import Opportunity
from models.rules import load_rules
from scheduler.pipeline_jobs import daily_lists, stage_overdue, stage_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
HENGDA = "苏州恒达建材有限公司"  # zhangwei's, whose director is zhaomin
QUOTE_NOTE = "今天拜访恒达王经理,他们要P.O42.5水泥300吨,让我们下周一前出报价,海螺也在报"


def _texts(live_bot, user: str) -> list[str]:
    return [m["content"] for m in live_bot.inspector.messages(touser=user)]


def _next_working_day(after: datetime, days: int) -> datetime:
    """Return 09:30 Shanghai time on the first working day at least `days` days after `after`."""
    calendar = load_rules().calendar
    day = after.astimezone(SHANGHAI).date() + timedelta(days=days)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 30), SHANGHAI)


def test_quote_stage_notifies_engineer_once(live_bot):
    [summary] = live_bot.send("zhangwei", QUOTE_NOTE)
    assert "方案报价" in summary

    runtime = Runtime.from_settings(live_bot.settings)
    stage_rules(runtime, utcnow())
    stage_rules(runtime, utcnow())
    stage_rules(runtime, utcnow() + timedelta(minutes=5))
    live_bot.wait_idle()

    [notice] = _texts(live_bot, "wuhao")
    assert notice.startswith("🔔 商机进入方案报价,请技术部准备方案")
    assert f"客户:{HENGDA}(苏州)" in notice
    assert "负责人 张伟,当前阶段 方案报价" in notice
    assert "产品:P.O 42.5普通硅酸盐水泥 300吨" in notice
    assert "竞争对手:海螺" in notice
    assert f"张伟):{QUOTE_NOTE}" in notice
    assert _texts(live_bot, "lina") == []
    with live_bot.db.session() as session:
        assert len(session.scalars(select(RuleNotice)).all()) == 1
    runtime.db.dispose()


def test_moving_to_quote_by_command_notifies(live_bot):
    live_bot.send("zhangwei", "恒达王经理确认要P.O42.5水泥500吨,预算80万")
    runtime = Runtime.from_settings(live_bot.settings)
    stage_rules(runtime, utcnow())
    live_bot.wait_idle()
    assert _texts(live_bot, "wuhao") == []  # 需求确认 fires no rule

    [moved] = live_bot.send("zhangwei", "推进 恒达 方案报价")
    assert moved.startswith("✅")
    stage_rules(runtime, utcnow())
    live_bot.wait_idle()
    [notice] = _texts(live_bot, "wuhao")
    assert "500吨" in notice
    assert "金额:80万元" in notice
    runtime.db.dispose()


def test_overdue_reminder_reaches_rep(live_bot):
    live_bot.send("zhangwei", QUOTE_NOTE)
    sweep_at = _next_working_day(utcnow(), 10)
    with live_bot.db.session() as session:
        session.execute(update(Opportunity).values(stage_entered_at=sweep_at - timedelta(days=10)))

    runtime = Runtime.from_settings(live_bot.settings)
    stage_overdue(runtime, sweep_at)
    stage_overdue(runtime, sweep_at + timedelta(hours=1))
    live_bot.wait_idle()

    [reminder] = _texts(live_bot, "zhangwei")[1:]  # after the note's summary
    assert reminder.startswith("⏰ 你有 1 个商机超过了阶段时限")
    assert f"「{HENGDA}」" in reminder
    assert "提交报价单" in reminder
    runtime.db.dispose()


def test_morning_list_reaches_rep(live_bot):
    list_at = _next_working_day(utcnow(), 1).replace(hour=8, minute=30)
    with live_bot.db.session() as session:
        session.execute(update(Customer).values(last_follow_up_at=list_at - timedelta(days=1)))
    runtime = Runtime.from_settings(live_bot.settings)
    daily_lists(runtime, list_at)
    live_bot.wait_idle()

    [morning] = _texts(live_bot, "zhangwei")
    assert morning.startswith("☀️ 早上好!")
    assert "🎯 今日目标:跟进至少 3 个客户" in morning
    assert _texts(live_bot, "zhaomin") == []
    runtime.db.dispose()


def test_team_daily_command(live_bot):
    live_bot.send("zhangwei", QUOTE_NOTE)
    [table] = live_bot.send("zhaomin", "团队日报")
    assert "团队日报:2 人在岗" in table
    assert "· 张伟:跟进 1/3,需求 1/1" in table
    assert "· 李娜:跟进 0/3" in table

    [refused] = live_bot.send("zhangwei", "团队日报")
    assert refused == "团队日报只发给区域总监和销售总监。你可以发「今日任务」查看自己的待办。"
