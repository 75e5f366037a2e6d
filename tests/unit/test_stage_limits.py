"""Stage time limits against a real database: working days over weekends and holidays,
reminders merged per owner, escalation after reminders, and second runs that send nothing.

The clock is moved by passing later times to the job; 4 December 2026 is a Friday.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.runtime import Runtime
from models.base import utcnow
from models.crm import Customer
from models.discipline import StageAlert
from models.org import User
from models.pipeline import Opportunity, OpportunityStatus
from models.rules import RulesError, Stage, WorkCalendar, load_rules, parse_rules
from scheduler.pipeline_jobs import stage_overdue, stage_rules
from tests.conftest import make_settings
from tests.unit.test_scheduler_pool import _outbox

SHANGHAI = ZoneInfo("Asia/Shanghai")
HENGDA = "苏州恒达建材有限公司"  # zhangwei's
HONGYUAN = "无锡宏远建设集团有限公司"  # zhangwei's
XINCHENG = "常州新城建筑安装有限公司"  # zhangwei's
JINLING = "南京金陵路桥工程有限公司"  # lina's


def at(day: int, hour: int = 9, minute: int = 30, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def runtime(db, redis_prefix) -> Runtime:
    return Runtime.from_settings(make_settings(db.url, redis_prefix))


def _user(db, userid: str) -> User:
    with db.session() as session:
        return session.scalars(select(User).where(User.userid == userid)).unique().one()


def _open(db, customer: str, stage: Stage, entered: datetime, title: str | None = None) -> int:
    """Create an open opportunity of the customer's owner that entered `stage` at `entered`."""
    with db.session() as session:
        owner = session.scalars(select(Customer).where(Customer.name == customer)).unique().one()
        opportunity = Opportunity(
            customer_id=owner.id, owner_id=owner.owner_id, title=title or f"{customer[:4]}项目", stage=stage,
            stage_entered_at=entered, created_at=entered,
        )
        session.add(opportunity)
        session.flush()
        return opportunity.id


# -- the rules -------------------------------------------------------------------------------


def test_working_days_skip_weekend_and_holiday():
    calendar = WorkCalendar(holidays=frozenset({date(2027, 1, 1)}), extra_workdays=frozenset({date(2027, 1, 9)}))
    assert calendar.add_working_days(date(2026, 12, 4), 3) == date(2026, 12, 9)  # Fri → Wed
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)  # over New Year's Day
    assert calendar.is_working_day(date(2027, 1, 9))  # a Saturday worked in lieu
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert not calendar.is_working_day(date(2026, 12, 5))


def test_quote_limit_counts_working_days():
    rules = load_rules()
    quoting = rules.stages[Stage.QUOTING]
    assert quoting.due_on(date(2026, 12, 4), rules.calendar) == date(2026, 12, 9)
    assert quoting.latest_overdue_entry(date(2026, 12, 9), rules.calendar) == date(2026, 12, 3)
    assert quoting.latest_overdue_entry(date(2026, 12, 10), rules.calendar) == date(2026, 12, 6)
    lead = rules.stages[Stage.LEAD]
    assert lead.due_on(date(2026, 12, 4), rules.calendar) == date(2026, 12, 6)
    assert lead.latest_overdue_entry(date(2026, 12, 7), rules.calendar) == date(2026, 12, 4)


def test_default_stage_rules():
    rules = load_rules()
    assert [rules.stages[stage].limit_days for stage in Stage] == [2, 7, 10, 3, 15, 60]
    assert rules.stages[Stage.QUOTING].working_days
    assert rules.stages[Stage.QUOTING].deliverables == ("提交报价单",)
    assert rules.stage_limits.escalate_after_working_days == 2
    assert [rule.name for rule in rules.notify] == ["quote-needs-engineer"]


def test_stage_rules_override_one_stage():
    rules = parse_rules('[stages.lead]\nlimit_days = 5\nworking_days = true\n[calendar]\nholidays = ["2027-02-05"]\n')
    assert rules.stages[Stage.LEAD].limit_days == 5
    assert rules.stages[Stage.LEAD].working_days
    assert rules.stages[Stage.LEAD].deliverables == ("首次联系客户",)
    assert rules.stages[Stage.QUOTING].limit_days == 3
    assert rules.calendar.holidays == frozenset({date(2027, 2, 5)})


@pytest.mark.parametrize(
    "text, message",
    [
        ("[stages.won]\nlimit_days = 1\n", "stages.<name> must be one of lead"),
        ("[stages.lead]\nowner_role = 'boss'\n", "stages.lead.owner_role must be one of rep"),
        ("[stages.lead]\nlimit_days = -1\n", "stages.lead.limit_days must be a whole number"),
        ("[stages.lead]\ndeadline = 1\n", "unknown key stages.lead.deadline"),
        ("[calendar]\nholidays = ['1 May']\n", "calendar.holidays has an invalid date '1 May'"),
        ("[stage_limits]\nescalate_after_working_days = 0\n", "must be at least 1"),
        ("[[notify]]\nname = 'a'\nroles = ['engineer']\n", "needs exactly one of when_stage and when_field"),
        ("[[notify]]\nname = 'a'\nroles = ['engineer']\nwhen_field = 'title'\nat_least = 1\n", "when_field must be one of amount"),
        ("[[notify]]\nname = 'a'\nroles = []\nwhen_stage = 'quoting'\n", "roles must name at least one role"),
        ("[holidays]\n", "unknown table 'holidays'"),
    ],
)
def test_invalid_stage_rules_rejected(text, message):
    with pytest.raises(RulesError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_rules(text)


def test_notify_rule_with_field():
    rules = parse_rules("[[notify]]\nname = 'big-deal'\nroles = ['sales_director']\nwhen_field = 'amount'\nat_least = 1000000\n")
    [rule] = rules.notify
    assert rule.field == "amount"
    assert rule.at_least == 1000000
    assert rule.stage is None


# -- the sweep -------------------------------------------------------------------------------


def test_quote_limit_passes_over_weekend(runtime, db, world):
    _open(db, HENGDA, Stage.QUOTING, at(4, 16))  # Friday afternoon

    for day in (5, 6, 7, 8, 9):  # Saturday to Wednesday: on time
        stage_overdue(runtime, at(day))
    assert _outbox(db) == {}

    stage_overdue(runtime, at(10))  # Thursday
    [reminder] = _outbox(db)["zhangwei"]
    assert "你有 1 个商机超过了阶段时限" in reminder
    assert "方案报价,12月4日(周五)进入,应在12月9日(周三)前完成提交报价单(已超 1 天)" in reminder


def test_weekend_sends_nothing(runtime, db, world):
    _open(db, HENGDA, Stage.LEAD, at(1))
    stage_overdue(runtime, at(5))  # Saturday
    stage_overdue(runtime, at(6))  # Sunday
    assert _outbox(db) == {}
    stage_overdue(runtime, at(7))
    assert len(_outbox(db)["zhangwei"]) == 1


def test_holiday_sends_nothing(runtime, db, world):
    _open(db, HENGDA, Stage.LEAD, at(28))
    stage_overdue(runtime, at(1, month=1, year=2027))  # New Year's Day, a Friday
    assert _outbox(db) == {}


def test_reminders_merged_per_owner(runtime, db, world):
    for customer in (HENGDA, HONGYUAN, XINCHENG):
        _open(db, customer, Stage.LEAD, at(1))
    _open(db, JINLING, Stage.CONTACTED, at(20, month=11))

    stage_overdue(runtime, at(7))

    outbox = _outbox(db)
    assert sorted(outbox) == ["lina", "zhangwei"]
    [to_zhangwei] = outbox["zhangwei"]
    assert "你有 3 个商机超过了阶段时限" in to_zhangwei
    for customer in (HENGDA, HONGYUAN, XINCHENG):
        assert f"「{customer}」" in to_zhangwei
    assert JINLING not in to_zhangwei
    [to_lina] = outbox["lina"]
    assert "初步沟通" in to_lina


def test_running_twice_sends_once(runtime, db, world):
    _open(db, HENGDA, Stage.LEAD, at(1))
    stage_overdue(runtime, at(7))
    stage_overdue(runtime, at(7))
    stage_overdue(runtime, at(7, 15))
    assert len(_outbox(db)["zhangwei"]) == 1
    with db.session() as session:
        [alert] = session.scalars(select(StageAlert)).all()
    assert alert.first_reminded_at == at(7)


def test_reminder_then_escalation(runtime, db, world):
    opportunity_id = _open(db, HENGDA, Stage.LEAD, at(30, month=11))  # Monday; due Wednesday

    stage_overdue(runtime, at(3))  # Thursday: first reminder
    stage_overdue(runtime, at(4))  # Friday: second reminder, no escalation yet
    outbox = _outbox(db)
    assert len(outbox["zhangwei"]) == 2
    assert "zhaomin" not in outbox

    stage_overdue(runtime, at(7))  # Monday: two working days after the first reminder
    outbox = _outbox(db)
    assert len(outbox["zhangwei"]) == 3
    [escalation] = outbox["zhaomin"]
    assert "你的团队有 1 个商机超过阶段时限,提醒 2 个工作日后仍未推进" in escalation
    assert "张伟:" in escalation
    assert f"「{HENGDA}」" in escalation

    stage_overdue(runtime, at(8))
    assert len(_outbox(db)["zhaomin"]) == 1  # escalated once per stay
    with db.session() as session:
        alert = session.scalars(select(StageAlert).where(StageAlert.opportunity_id == opportunity_id)).one()
    assert alert.first_reminded_at == at(3)
    assert alert.escalated_at == at(7)


def test_escalation_without_manager_is_logged(runtime, db, world, caplog):
    opportunity_id = _open(db, HENGDA, Stage.LEAD, at(30, month=11))
    with db.session() as session:
        session.execute(update(User).where(User.userid == "zhangwei").values(manager_id=None))

    for day in (3, 4, 7):
        stage_overdue(runtime, at(day))

    assert "stage escalation has no manager: alerts=1" in caplog.text
    assert "zhaomin" not in _outbox(db)
    with db.session() as session:
        alert = session.scalars(select(StageAlert).where(StageAlert.opportunity_id == opportunity_id)).one()
    assert alert.escalated_at == at(7)  # marked, so the warning is not repeated every day


def test_moving_on_stops_reminders(runtime, db, world):
    opportunity_id = _open(db, HENGDA, Stage.LEAD, at(30, month=11))
    stage_overdue(runtime, at(3))
    with db.session() as session:
        session.execute(
            update(Opportunity).where(Opportunity.id == opportunity_id).values(stage=Stage.CONTACTED, stage_entered_at=at(3, 11))
        )
    stage_overdue(runtime, at(4))
    stage_overdue(runtime, at(7))
    assert len(_outbox(db)["zhangwei"]) == 1
    assert "zhaomin" not in _outbox(db)


def test_closed_opportunity_is_not_overdue(runtime, db, world):
    opportunity_id = _open(db, HENGDA, Stage.LEAD, at(1))
    with db.session() as session:
        session.execute(update(Opportunity).where(Opportunity.id == opportunity_id).values(status=OpportunityStatus.LOST))
    stage_overdue(runtime, at(7))
    assert _outbox(db) == {}


def test_owner_on_leave_gets_no_reminder(runtime, db, world):
    _open(db, HENGDA, Stage.LEAD, at(1))
    with db.session() as session:
        session.execute(update(User).where(User.userid == "zhangwei").values(on_leave=True))
    stage_overdue(runtime, at(7))
    assert _outbox(db) == {}

    with db.session() as session:
        session.execute(update(User).where(User.userid == "zhangwei").values(on_leave=False))
    stage_overdue(runtime, at(8))
    assert len(_outbox(db)["zhangwei"]) == 1


def test_stage_without_limit_never_overdue(db, redis_prefix, world, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[stages.lead]\nlimit_days = 0\n", encoding="utf-8")
    runtime = Runtime.from_settings(make_settings(db.url, redis_prefix, pipeline_rules_path=str(rules)))
    _open(db, HENGDA, Stage.LEAD, at(1, month=1))
    stage_overdue(runtime, at(7))
    assert _outbox(db) == {}


def test_many_overdue_listed_with_count(runtime, db, world):
    for index in range(12):
        _open(db, HENGDA, Stage.LEAD, at(1) - timedelta(hours=index), title=f"项目{index:02d}")
    stage_overdue(runtime, at(7))
    [reminder] = _outbox(db)["zhangwei"]
    assert "你有 12 个商机超过了阶段时限" in reminder
    assert "另有 4 个没有列出" in reminder
    assert len(reminder.encode("utf-8")) <= 2048


def test_field_rule_fires_once(db, redis_prefix, world, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[notify]]\nname = 'big-deal'\nroles = ['sales_director']\nwhen_field = 'amount'\nat_least = 1000000\n"
        "title = '大单提醒'\n",
        encoding="utf-8",
    )
    runtime = Runtime.from_settings(make_settings(db.url, redis_prefix, pipeline_rules_path=str(rules)))
    small = _open(db, HONGYUAN, Stage.QUALIFIED, utcnow(), title="宏远小单")
    big = _open(db, HENGDA, Stage.QUALIFIED, utcnow(), title="恒达大单")
    with db.session() as session:
        session.execute(update(Opportunity).where(Opportunity.id == small).values(amount=Decimal("300000")))
        session.execute(update(Opportunity).where(Opportunity.id == big).values(amount=Decimal("1500000")))

    stage_rules(runtime, utcnow())
    stage_rules(runtime, utcnow())

    outbox = _outbox(db)
    assert sorted(outbox) == ["lizong"]
    [notice] = outbox["lizong"]
    assert notice.startswith("🔔 大单提醒")
    assert "恒达大单" in notice
    assert "金额:150万元" in notice
    assert "宏远小单" not in notice
