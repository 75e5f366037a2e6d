"""Chinese commands through the live callback: help, customers, stages, corrections, undo."""

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.runtime import Runtime
from models.activity import Activity, FollowUpTask
from models.audit import ChangeRecord
from models.commerce import Quote
from models.crm import Customer
from models.discipline import StageAlert
from models.pipeline import Opportunity, StageChange
from scheduler.pipeline_jobs import stage_overdue
from tests.e2e.test_quotes import _set_prices

NOW = datetime.fromisoformat("2026-12-04T10:00:00+08:00")
NOTE = "今天拜访宏远建设李总,C30混凝土需要3000方左右,预算九十万,下周三前给他们报价"


def _opportunity(db, customer_name: str) -> Opportunity:
    with db.session() as session:
        return session.scalars(
            select(Opportunity).join(Customer).where(Customer.name == customer_name)
        ).unique().one()


def test_help_lists_commands(live_bot):
    [reply] = live_bot.send("zhangwei", "帮助")
    for command in ("新建客户", "查客户", "我的商机", "推进", "改 金额", "撤销"):
        assert command in reply


def test_create_customer_once(live_bot):
    [reply] = live_bot.send("zhangwei", "新建客户 昆山锦程建材有限公司 区域 苏州")
    assert "已创建客户「昆山锦程建材有限公司」" in reply
    [again] = live_bot.send("zhangwei", "新建客户 昆山锦程建材有限公司")
    assert "已存在" in again
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name.like("昆山锦程%"))) == 1


def test_create_customer_without_name_shows_usage(live_bot):
    [reply] = live_bot.send("zhangwei", "新建客户")
    assert reply.startswith("用法:新建客户")


def test_lookup_customer_shows_owner_and_latest(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [reply] = live_bot.send("zhangwei", "查客户 宏远")
    assert "无锡宏远建设集团有限公司" in reply
    assert "负责人:张伟" in reply
    assert "方案报价" in reply
    assert "C30混凝土需要3000方" in reply


def test_rep_cannot_see_other_reps_customer(live_bot):
    [reply] = live_bot.send("lina", "查客户 宏远")
    assert "没有找到" in reply


def test_correct_amount_then_undo(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [reply] = live_bot.send("zhangwei", "改 金额 95万")
    assert "95万元" in reply
    assert _opportunity(live_bot.db, "无锡宏远建设集团有限公司").amount == Decimal("950000.00")

    [undone] = live_bot.send("zhangwei", "撤销")
    assert "已撤销上一次修改" in undone
    assert _opportunity(live_bot.db, "无锡宏远建设集团有限公司").amount == Decimal("900000.00")


def test_undo_note_removes_its_records(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [reply] = live_bot.send("zhangwei", "撤销")
    assert "已撤销上一条拜访记录" in reply
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
        assert session.scalar(select(func.count()).select_from(Opportunity)) == 0
        assert session.scalar(select(func.count()).select_from(FollowUpTask)) == 0
        assert session.scalar(select(func.count()).select_from(ChangeRecord).where(ChangeRecord.undone_at.is_(None))) == 0
    [nothing] = live_bot.send("zhangwei", "撤销")
    assert nothing == "没有可以撤销的记录。"


def test_correct_customer_moves_note(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [reply] = live_bot.send("zhangwei", "改 客户 常州新城")
    assert "常州新城建筑安装有限公司" in reply
    with live_bot.db.session() as session:
        activity = session.scalars(select(Activity)).unique().one()
        assert activity.customer.name == "常州新城建筑安装有限公司"
        assert activity.raw_text == NOTE


def test_bad_correction_changes_nothing(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [reply] = live_bot.send("zhangwei", "改 金额 很多")
    assert "没看懂金额" in reply
    assert _opportunity(live_bot.db, "无锡宏远建设集团有限公司").amount == Decimal("900000.00")


def test_move_stage_forward_and_skip_needs_confirmation(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [ask] = live_bot.send("zhangwei", "推进 宏远 发货回款")
    assert "跳过中间阶段" in ask
    assert _opportunity(live_bot.db, "无锡宏远建设集团有限公司").stage == "quoting"
    [reply] = live_bot.send("zhangwei", "推进 宏远 合同签订")
    assert reply == "✅ 「宏远 C30商品混凝土」:方案报价 → 合同签订"

    [back] = live_bot.send("zhangwei", "推进 宏远 需求确认")
    assert "退回" in back
    [done] = live_bot.send("zhangwei", "推进 宏远 需求确认 确认")
    assert "退回,已记录" in done
    with live_bot.db.session() as session:
        kinds = [c.kind for c in session.scalars(select(StageChange).order_by(StageChange.id))]
    assert kinds[-1] == "back"


def test_my_opportunities_and_tasks(live_bot):
    live_bot.send("zhangwei", NOTE, now=NOW)
    [opportunities] = live_bot.send("zhangwei", "我的商机")
    assert "无锡宏远建设集团有限公司" in opportunities
    [tasks] = live_bot.send("zhangwei", "我的任务")
    assert "12月9日" in tasks


def test_new_customer_is_asked_then_created(live_bot):
    text = "新客户:嘉善恒昌建材有限公司,老板姓周,手机 138-0571-2233,对我们的防水卷材感兴趣,约了下周二上门拜访"
    [question] = live_bot.send("wangqiang", text, now=NOW)
    assert "还不是系统里的客户" in question
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
    [summary] = live_bot.send("wangqiang", "1", now=NOW)
    assert "嘉善恒昌建材有限公司(新客户)" in summary
    with live_bot.db.session() as session:
        customer = session.scalars(select(Customer).where(Customer.name == "嘉善恒昌建材有限公司")).unique().one()
        assert customer.owner.userid == "wangqiang"


def test_new_customer_cancelled_records_nothing(live_bot):
    text = "新客户:嘉善恒昌建材有限公司,老板姓周,对我们的防水卷材感兴趣"
    live_bot.send("wangqiang", text, now=NOW)
    [reply] = live_bot.send("wangqiang", "取消")
    assert reply == "已取消,这条记录没有保存。"
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.name.like("嘉善%"))) == 0


def test_answer_without_question(live_bot):
    [reply] = live_bot.send("zhangwei", "2")
    assert "没有需要你回复" in reply


def test_undo_note_after_a_stage_alert(live_bot, bot_settings):
    live_bot.send("zhangwei", NOTE, now=NOW)
    stage_overdue(Runtime.from_settings(bot_settings), NOW + timedelta(days=10))  # the quote is overdue by then
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(StageAlert)) == 1

    *_reminder, reply = live_bot.send("zhangwei", "撤销")  # the sweep's reminder may arrive first
    assert "已撤销上一条拜访记录" in reply
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Opportunity)) == 0
        assert session.scalar(select(func.count()).select_from(StageAlert)) == 0


def test_undo_rejected_after_a_quote(live_bot):
    _set_prices(live_bot.db)
    live_bot.send("zhangwei", "今天拜访恒达王经理,P.O42.5水泥要500吨,预算16万", now=NOW)
    [quoted] = live_bot.send("zhangwei", "给恒达报价 P.O42.5 500吨 单价318")
    assert "BJ-" in quoted

    [reply] = live_bot.send("zhangwei", "撤销")
    assert reply == (
        "没有撤销:上一条拜访记录已经被后来的报价、合同等记录用到,撤销会让那些记录对不上。这次没有做任何改动。\n"
        "请用「改 金额 90万」「改 客户 名称」等方式更正。"
    )
    with live_bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Quote)) == 1
        assert session.scalar(select(func.count()).select_from(Activity)) == 1
        assert session.scalar(select(func.count()).select_from(ChangeRecord).where(ChangeRecord.undone_at.is_not(None))) == 0
