"""Daily task lists (日清日结) against a real database: the morning list's sections, evening
progress and team tables, reps on leave, weekends, late runs and second runs.

The clock is moved by passing times to the jobs; 7 December 2026 is a Monday.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.runtime import Runtime
from handlers.context import Context, DomainError
from handlers.daily_tasks import DailyTargets, team_report
from models.activity import Activity, FollowUpTask
from models.crm import Customer
from models.org import User
from models.pipeline import Opportunity
from models.rules import load_rules
from models.stages import Stage
from scheduler.jobs import pool_release
from scheduler.pipeline_jobs import daily_lists, daily_summary
from tests.conftest import make_settings
from tests.unit.test_scheduler_pool import _outbox

SHANGHAI = ZoneInfo("Asia/Shanghai")
HENGDA = "苏州恒达建材有限公司"  # zhangwei's
HONGYUAN = "无锡宏远建设集团有限公司"  # zhangwei's
XINCHENG = "常州新城建筑安装有限公司"  # zhangwei's
JINLING = "南京金陵路桥工程有限公司"  # lina's
MONDAY = date(2026, 12, 7)


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def runtime(db, redis_prefix) -> Runtime:
    return Runtime.from_settings(make_settings(db.url, redis_prefix))


@pytest.fixture
def company(world, db):
    """Every customer followed up yesterday, so none is near the pool unless a test ages it."""
    with db.session() as session:
        session.execute(update(Customer).values(last_follow_up_at=at(10) - timedelta(days=1)))
    return world


def _id(db, model, **where) -> int:
    with db.session() as session:
        return session.scalar(select(model.id).filter_by(**where))


def _customer(db, name: str) -> int:
    return _id(db, Customer, name=name)


def _user(db, userid: str) -> int:
    return _id(db, User, userid=userid)


def _task(db, userid: str, customer: str, title: str, due: date) -> None:
    with db.session() as session:
        session.add(FollowUpTask(assignee_id=_user(db, userid), customer_id=_customer(db, customer), title=title, due_date=due))


def _activity(db, userid: str, customer: str, on: date, changed_requirements: bool = False) -> None:
    with db.session() as session:
        session.add(
            Activity(
                author_id=_user(db, userid), customer_id=_customer(db, customer), occurred_on=on, raw_text="拜访",
                changed_requirements=changed_requirements,
            )
        )


def _set_leave(db, userid: str, on_leave: bool = True) -> None:
    with db.session() as session:
        session.execute(update(User).where(User.userid == userid).values(on_leave=on_leave))


def test_morning_list_sections(runtime, db, company):
    _task(db, "zhangwei", HENGDA, "给王经理送样品", MONDAY)
    _task(db, "zhangwei", HONGYUAN, "催合同回签", MONDAY - timedelta(days=2))
    _task(db, "zhangwei", XINCHENG, "下周再约", MONDAY + timedelta(days=3))
    with db.session() as session:
        session.add(
            Opportunity(
                customer_id=_customer(db, HENGDA), owner_id=_user(db, "zhangwei"), title="恒达水泥",
                stage=Stage.QUOTING, stage_entered_at=at(10, day=date(2026, 12, 1)),
            )
        )
        session.execute(
            update(Customer).where(Customer.name == XINCHENG).values(last_follow_up_at=at(10) - timedelta(days=13))
        )

    daily_lists(runtime, at(8, 30))

    outbox = _outbox(db)
    [morning] = outbox["zhangwei"]
    assert morning.startswith("☀️ 早上好!12月7日(周一)的日清日结清单:")
    assert "📌 今日跟进(2 项)" in morning
    assert f"· 「{HENGDA}」给王经理送样品" in morning
    assert f"· 「{HONGYUAN}」催合同回签(已逾期)" in morning
    assert "下周再约" not in morning
    assert "⏰ 超过阶段时限的商机(1 个)" in morning
    assert "恒达水泥:方案报价" in morning
    assert "🌊 快回公海的客户(1 个,15 天没跟进就会回公海)" in morning
    assert f"· {XINCHENG}" in morning
    assert "🎯 今日目标:跟进至少 3 个客户,更新至少 1 次客户需求。" in morning

    [quiet] = outbox["lina"]
    assert "· 今天没有到期的跟进" in quiet
    assert "超过阶段时限" not in quiet
    assert "zhaomin" not in outbox  # directors get no morning list
    assert "wuhao" not in outbox


def test_rep_on_leave_gets_no_list(runtime, db, company):
    _set_leave(db, "lina")
    daily_lists(runtime, at(8, 30))
    daily_summary(runtime, at(18))
    outbox = _outbox(db)
    assert "lina" not in outbox
    assert "zhangwei" in outbox
    [table] = outbox["zhaomin"]
    assert "· 李娜:休假" in table
    assert "1 人在岗" in table


def test_weekend_sends_nothing(runtime, db, company):
    saturday = MONDAY - timedelta(days=2)
    daily_lists(runtime, at(8, 30, saturday))
    daily_summary(runtime, at(18, 0, saturday))
    assert _outbox(db) == {}


def test_holiday_sends_nothing(runtime, db, company):
    new_year = date(2027, 1, 1)  # a Friday, in the default holiday list
    daily_lists(runtime, at(8, 30, new_year))
    daily_summary(runtime, at(18, 0, new_year))
    assert _outbox(db) == {}


def test_lists_sent_once_per_day(runtime, db, company):
    daily_lists(runtime, at(8, 30))
    daily_lists(runtime, at(8, 30))
    daily_lists(runtime, at(9, 45))
    daily_summary(runtime, at(18))
    daily_summary(runtime, at(19))
    outbox = _outbox(db)
    assert len(outbox["zhangwei"]) == 2
    assert len(outbox["zhaomin"]) == 1

    daily_lists(runtime, at(8, 30, MONDAY + timedelta(days=1)))
    assert len(_outbox(db)["zhangwei"]) == 3


def test_late_morning_list_skipped_but_pool_released(runtime, db, company):
    with db.session() as session:
        session.execute(
            update(Customer).where(Customer.name == HENGDA).values(last_follow_up_at=at(10) - timedelta(days=20))
        )
    pool_release(runtime, at(12, 30))
    daily_lists(runtime, at(12, 30))

    outbox = _outbox(db)
    assert all(not text.startswith("☀️") for texts in outbox.values() for text in texts)
    assert "已自动回到公海" in outbox["zhangwei"][0]
    with db.session() as session:
        assert session.scalar(select(Customer.owner_id).where(Customer.name == HENGDA)) is None


def test_late_evening_summary_skipped(runtime, db, company):
    daily_summary(runtime, at(22, 30))
    assert _outbox(db) == {}


def test_evening_progress_and_team_tables(runtime, db, company):
    _activity(db, "zhangwei", HENGDA, MONDAY, changed_requirements=True)
    _activity(db, "zhangwei", HENGDA, MONDAY)  # the same customer twice is one touch
    _activity(db, "zhangwei", HONGYUAN, MONDAY)
    _activity(db, "zhangwei", XINCHENG, MONDAY)
    _activity(db, "lina", JINLING, MONDAY - timedelta(days=1))  # not today
    _task(db, "lina", JINLING, "送报价", MONDAY)

    daily_summary(runtime, at(18))

    outbox = _outbox(db)
    [zhangwei] = outbox["zhangwei"]
    assert "· 客户跟进 3/3" in zhangwei
    assert "· 需求更新 1/1" in zhangwei
    assert "✅ 今天的目标完成了" in zhangwei
    [lina] = outbox["lina"]
    assert "· 客户跟进 0/3" in lina
    assert "· 还有 1 项到期跟进没有完成" in lina
    assert "❌ 今天的目标还没有完成" in lina

    [suzhou] = outbox["zhaomin"]
    assert suzhou.startswith("📋 12月7日(周一)团队日报:2 人在岗,1 人完成目标")
    assert "· 张伟:跟进 3/3,需求 1/1,未完成跟进 0,超期商机 0 ✅" in suzhou
    assert "· 李娜:跟进 0/3,需求 0/1,未完成跟进 1,超期商机 0 ❌" in suzhou
    assert "王强" not in suzhou
    [zhejiang] = outbox["sunli"]
    assert "王强" in zhejiang
    assert "张伟" not in zhejiang
    [company_table] = outbox["lizong"]
    assert "· 苏南大区:2 人在岗,1 人完成目标,跟进 3 个客户,需求更新 1 次,超期商机 0 个" in company_table
    assert "wuhao" not in outbox
    assert "zhoujun" not in outbox


def test_targets_follow_settings(db, redis_prefix, company):
    runtime = Runtime.from_settings(
        make_settings(db.url, redis_prefix, daily_target_touches=1, daily_target_requirement_updates=0)
    )
    _activity(db, "zhangwei", HENGDA, MONDAY)
    daily_summary(runtime, at(18))
    [zhangwei] = _outbox(db)["zhangwei"]
    assert "· 客户跟进 1/1" in zhangwei
    assert "✅" in zhangwei


def test_team_report_for_directors_only(db, company):
    rules = load_rules()
    _activity(db, "lina", JINLING, MONDAY)
    with db.session() as session:
        director = session.get(User, _user(db, "zhaomin"))
        outcome = team_report(Context(session, director, at(15)), rules, DailyTargets())
        [reply] = outcome.replies
        assert "· 李娜:跟进 1/3" in reply.text

        rep = session.get(User, _user(db, "zhangwei"))
        with pytest.raises(DomainError) as raised:
            team_report(Context(session, rep, at(15)), rules, DailyTargets())
        assert raised.value.code == "forbidden"
