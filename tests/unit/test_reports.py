"""Report figures against a hand-built March 2026 on the real database (PostgreSQL or SQLite).

Two regions: 苏南大区 (director 赵敏; reps 张伟, 李娜 and the inactive 老周) and 浙江大区
(director 孙丽; rep 王强, and 陈静 of 皖闽大区 who reports to 孙丽). Every expected number below
is worked out by hand from the rows the `march` fixture inserts.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models.activity import Activity
from models.approvals import ApprovalRequest, ApprovalStep, StepStatus
from models.commerce import Contract, Payment, Quote, Shipment
from models.crm import Customer
from models.org import Department, Role, User
from models.pipeline import Opportunity, OpportunityStatus, StageChange, StageMoveKind
from models.stages import Stage
from reports.figures import collection_trend, funnel, funnel_by, leaderboard
from reports.kpis import (
    approval_wait_hours,
    first_response_minutes,
    follow_ups_per_rep_month,
    kpis,
    lead_conversion_rate,
    process_compliance_rate,
    quote_response_hours,
)
from reports.scope import COMPANY, Period, scope_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = Period.month(2026, 3)
FEBRUARY = Period.month(2026, 2)
WAN = Decimal(10000)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """Return a Shanghai wall-clock time in 2026 as an aware datetime."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class March:
    users: dict[str, User]
    customers: dict[str, Customer]
    opportunities: dict[str, Opportunity]
    contracts: dict[str, Contract]


def _opportunity(session, owner: User, customer: Customer, amount_wan: int | None, moves, status=OpportunityStatus.OPEN,
                 closed_at: datetime | None = None) -> Opportunity:
    """Insert an opportunity and its stage history; `moves` is [(stage, kind, time)], the first the creation."""
    created_at = moves[0][2]
    opportunity = Opportunity(
        customer_id=customer.id, owner_id=owner.id, title=f"{customer.name}的商机",
        stage=moves[-1][0], status=status, amount=None if amount_wan is None else amount_wan * WAN,
        created_at=created_at, stage_entered_at=moves[-1][2], closed_at=closed_at,
    )
    session.add(opportunity)
    session.flush()
    previous = None
    for stage, kind, moved_at in moves:
        session.add(StageChange(
            opportunity_id=opportunity.id, from_stage=previous, to_stage=stage, kind=kind, user_id=owner.id,
            changed_at=moved_at,
        ))
        previous = stage
    return opportunity


def _straight(stages: list[Stage], days: list[datetime]):
    """Return moves from 线索登记 through `stages`, each one step forward."""
    moves = [(Stage.LEAD, StageMoveKind.CREATED, days[0])]
    return moves + [(stage, StageMoveKind.FORWARD, day) for stage, day in zip(stages, days[1:])]


PATH = [Stage.CONTACTED, Stage.QUALIFIED, Stage.QUOTING, Stage.CONTRACTED, Stage.FULFILLING]


@pytest.fixture
def march(db) -> March:
    with db.session() as session:
        south = Department(name="苏南大区")
        zhejiang = Department(name="浙江大区")
        anhui = Department(name="皖闽大区")
        head = Department(name="销售中心")
        session.add_all([south, zhejiang, anhui, head])
        session.flush()

        users = {
            "zhaomin": User(userid="zhaomin", name="赵敏", role=Role.REGIONAL_DIRECTOR, department_id=south.id),
            "sunli": User(userid="sunli", name="孙丽", role=Role.REGIONAL_DIRECTOR, department_id=zhejiang.id),
            "lizong": User(userid="lizong", name="李建国", role=Role.SALES_DIRECTOR, department_id=head.id),
        }
        session.add_all(users.values())
        session.flush()
        reps = [
            ("zhangwei", "张伟", south, "zhaomin", True),
            ("lina", "李娜", south, "zhaomin", True),
            ("laozhou", "老周", south, "zhaomin", False),
            ("wangqiang", "王强", zhejiang, "sunli", True),
            ("chenjing", "陈静", anhui, "sunli", True),
        ]
        for userid, name, department, manager, active in reps:
            users[userid] = User(
                userid=userid, name=name, role=Role.REP, department_id=department.id,
                manager_id=users[manager].id, active=active,
            )
        session.add_all(users.values())
        session.flush()

        customers = {
            key: Customer(name=name, region=region, owner_id=users[key].id)
            for key, name, region in [
                ("zhangwei", "苏州恒达建材有限公司", "苏州"),
                ("lina", "南京金陵路桥工程有限公司", "南京"),
                ("wangqiang", "杭州钱塘混凝土有限公司", "杭州"),
                ("chenjing", "合肥庐州建设有限公司", "合肥"),
            ]
        }
        session.add_all(customers.values())
        session.flush()

        u, c = users, customers
        opportunities = {
            # 张伟: one straight to 合同签订, one that skipped to 方案报价, one bare lead.
            "o1": _opportunity(session, u["zhangwei"], c["zhangwei"], 100,
                               _straight(PATH[:4], [at(3, 2), at(3, 3), at(3, 4), at(3, 5), at(3, 10)])),
            # Created 01:00 on 1 March in Shanghai, still 28 February in UTC: a March lead.
            "o2": _opportunity(session, u["zhangwei"], c["zhangwei"], 50, [
                (Stage.LEAD, StageMoveKind.CREATED, at(3, 1, 1)),
                (Stage.QUOTING, StageMoveKind.SKIP, at(3, 6)),
            ]),
            "o3": _opportunity(session, u["zhangwei"], c["zhangwei"], None, _straight([], [at(3, 20)])),
            # 李娜: one won through 发货回款, one moved back and lost.
            "o4": _opportunity(session, u["lina"], c["lina"], 200,
                               _straight(PATH, [at(3, 3), at(3, 4), at(3, 5), at(3, 6), at(3, 15), at(3, 25)]),
                               status=OpportunityStatus.WON, closed_at=at(3, 28)),
            "o5": _opportunity(session, u["lina"], c["lina"], 30, _straight(PATH[:2], [at(3, 4), at(3, 5), at(3, 6)])
                               + [(Stage.CONTACTED, StageMoveKind.BACK, at(3, 12))],
                               status=OpportunityStatus.LOST, closed_at=at(3, 20)),
            # 王强: one March deal to 合同签订; one February deal, signed in February.
            "o6": _opportunity(session, u["wangqiang"], c["wangqiang"], 80,
                               _straight(PATH[:4], [at(3, 5), at(3, 6), at(3, 7), at(3, 8), at(3, 18)])),
            "o7": _opportunity(session, u["wangqiang"], c["wangqiang"], 10,
                               _straight(PATH[:4], [at(2, 20), at(2, 21), at(2, 22), at(2, 23), at(2, 28)])),
            # 陈静: a lead at 23:30 on 31 March, and one at 00:30 on 1 April (31 March in UTC).
            "o8": _opportunity(session, u["chenjing"], c["chenjing"], 40, _straight([], [at(3, 31, 23, 30)])),
            "o9": _opportunity(session, u["chenjing"], c["chenjing"], 60, _straight([], [at(4, 1, 0, 30)])),
            # 张伟: a January lead that skipped to 合同签订 in March.
            "o10": _opportunity(session, u["zhangwei"], c["zhangwei"], 20, [
                (Stage.LEAD, StageMoveKind.CREATED, at(1, 10)),
                (Stage.CONTRACTED, StageMoveKind.SKIP, at(3, 8)),
            ]),
        }

        o = opportunities
        contracts = {
            key: Contract(number=key.upper(), customer_id=c[owner].id, opportunity_id=o[opp].id if opp else None,
                          owner_id=u[owner].id, amount=amount * WAN, status=status, signed_on=signed_on)
            for key, owner, opp, amount, status, signed_on in [
                ("k1", "zhangwei", "o1", 100, "signed", date(2026, 3, 10)),
                ("k2", "lina", "o4", 200, "signed", date(2026, 3, 15)),
                ("k3", "wangqiang", "o6", 80, "signed", date(2026, 3, 18)),
                ("k4", "zhangwei", None, 60, "cancelled", date(2026, 3, 20)),
                ("k5", "wangqiang", "o7", 10, "completed", date(2026, 2, 28)),
                ("k6", "zhangwei", None, 70, "draft", None),
            ]
        }
        session.add_all(contracts.values())
        session.flush()

        k = contracts
        session.add_all([
            Payment(contract_id=k["k1"].id, customer_id=c["zhangwei"].id, amount=30 * WAN, planned_on=date(2026, 3, 31)),
            Payment(contract_id=k["k1"].id, customer_id=c["zhangwei"].id, amount=30 * WAN, planned_on=date(2026, 3, 20),
                    received_on=date(2026, 3, 25)),
            Payment(contract_id=k["k2"].id, customer_id=c["lina"].id, amount=100 * WAN, received_on=date(2026, 3, 28)),
            Payment(contract_id=k["k2"].id, customer_id=c["lina"].id, amount=100 * WAN, planned_on=date(2026, 4, 30)),
            Payment(contract_id=k["k5"].id, customer_id=c["wangqiang"].id, amount=10 * WAN, planned_on=date(2026, 2, 25),
                    received_on=date(2026, 3, 2)),
            # A payment with no contract counts for the customer's owner.
            Payment(contract_id=None, customer_id=c["chenjing"].id, amount=5 * WAN, received_on=date(2026, 3, 5)),
            Payment(contract_id=k["k3"].id, customer_id=c["wangqiang"].id, amount=8 * WAN, planned_on=date(2026, 1, 10),
                    received_on=date(2026, 1, 15)),
        ])
        session.add_all([
            Shipment(contract_id=k["k2"].id, batch_no=1, quantity=Decimal(500), unit="吨", shipped_on=date(2026, 3, 20),
                     delivered_on=date(2026, 3, 21), vehicle_plate="苏A12345", waybill_no="YD001"),
            Shipment(contract_id=k["k2"].id, batch_no=2, quantity=Decimal(300), unit="吨", shipped_on=date(2026, 4, 2)),
            Shipment(contract_id=k["k1"].id, batch_no=1, quantity=Decimal(120), unit="方", shipped_on=date(2026, 3, 12)),
        ])

        quotes = [
            ("Q1", "o1", at(3, 5, 9), at(3, 5, 13)),  # 4 hours
            ("Q2", "o6", at(3, 10, 10), at(3, 11, 10)),  # 24 hours
            ("Q3", "o2", at(3, 6, 9), None),  # not sent: left out
            ("Q4", "o7", at(2, 20, 8), at(2, 20, 10)),  # February, 2 hours
        ]
        for number, opp, requested_at, sent_at in quotes:
            session.add(Quote(number=number, customer_id=o[opp].customer_id, opportunity_id=o[opp].id,
                              author_id=o[opp].owner_id, requested_at=requested_at, sent_at=sent_at))

        activities = [
            *[("zhangwei", date(2026, 3, day), at(3, day)) for day in (2, 9, 16, 23)],
            ("zhangwei", date(2026, 2, 28), at(3, 1)),  # dated February, recorded in March
            ("lina", date(2026, 3, 4), at(3, 4)),
            ("lina", None, at(3, 10)),  # undated: counts on the day it was recorded
            *[("wangqiang", date(2026, 3, day), at(3, day)) for day in (5, 6, 7)],
            *[("laozhou", date(2026, 3, day), at(3, day)) for day in (3, 4, 5, 6, 9)],  # inactive rep
            ("zhaomin", date(2026, 3, 11), at(3, 11)),  # a director, not a rep
        ]
        for author, occurred_on, created_at in activities:
            session.add(Activity(author_id=u[author].id, customer_id=None, occurred_on=occurred_on,
                                 raw_text="拜访记录", created_at=created_at))

    return March(users=users, customers=customers, opportunities=opportunities, contracts=contracts)


def _scope(db, userid: str):
    with db.session() as session:
        user = session.query(User).filter_by(userid=userid).one()
        return scope_for(user)


# -- funnel ----------------------------------------------------------------------------------


def test_funnel_company_counts(db, march):
    with db.session() as session:
        result = funnel(session, COMPANY, MARCH)

    counts = [stage.count for stage in result.stages]
    amounts = [stage.amount for stage in result.stages]
    assert result.label == "全公司"
    assert counts == [7, 5, 5, 4, 3, 1]
    assert amounts == [w * WAN for w in (500, 460, 460, 430, 380, 200)]


def test_funnel_conversion(db, march):
    with db.session() as session:
        result = funnel(session, COMPANY, MARCH)

    conversions = [stage.conversion for stage in result.stages]
    assert conversions[0] is None
    assert conversions[1] == pytest.approx(5 / 7)
    assert conversions[2] == pytest.approx(1.0)
    assert conversions[3] == pytest.approx(4 / 5)
    assert conversions[4] == pytest.approx(3 / 4)
    assert conversions[5] == pytest.approx(1 / 3)


def test_funnel_empty_period(db, march):
    with db.session() as session:
        result = funnel(session, COMPANY, Period.month(2025, 6))

    assert [stage.count for stage in result.stages] == [0] * 6
    assert [stage.conversion for stage in result.stages] == [None] * 6


def test_funnel_by_rep(db, march):
    with db.session() as session:
        result = {f.label: [stage.count for stage in f.stages] for f in funnel_by(session, COMPANY, MARCH, "rep")}

    assert result == {
        "张伟": [3, 2, 2, 2, 1, 0],
        "李娜": [2, 2, 2, 1, 1, 1],
        "王强": [1, 1, 1, 1, 1, 0],
        "陈静": [1, 0, 0, 0, 0, 0],
    }


def test_funnel_by_department(db, march):
    with db.session() as session:
        result = {f.label: f for f in funnel_by(session, COMPANY, MARCH, "department")}

    assert sorted(result) == ["浙江大区", "皖闽大区", "苏南大区"]
    assert [stage.count for stage in result["苏南大区"].stages] == [5, 4, 4, 3, 2, 1]
    assert result["苏南大区"].stage(Stage.LEAD).amount == 380 * WAN
    assert [stage.count for stage in result["浙江大区"].stages] == [1, 1, 1, 1, 1, 0]
    assert [stage.count for stage in result["皖闽大区"].stages] == [1, 0, 0, 0, 0, 0]


def test_funnel_invalid_grouping(db, march):
    with db.session() as session, pytest.raises(ValueError, match="invalid funnel grouping"):
        funnel_by(session, COMPANY, MARCH, "customer")


def test_funnel_scoped_to_director_team(db, march):
    south, zhejiang = _scope(db, "zhaomin"), _scope(db, "sunli")
    with db.session() as session:
        south_funnel = funnel(session, south, MARCH)
        zhejiang_funnel = funnel(session, zhejiang, MARCH)

    assert south_funnel.label == "苏南大区"
    assert [stage.count for stage in south_funnel.stages] == [5, 4, 4, 3, 2, 1]
    # 陈静 belongs to 皖闽大区 but reports to 孙丽, so 孙丽's team includes her.
    assert [stage.count for stage in zhejiang_funnel.stages] == [2, 1, 1, 1, 1, 0]


def test_funnel_scoped_to_rep(db, march):
    scope = _scope(db, "zhangwei")
    with db.session() as session:
        result = funnel(session, scope, MARCH)

    assert result.label == "张伟"
    assert [stage.count for stage in result.stages] == [3, 2, 2, 2, 1, 0]
    assert result.stage(Stage.LEAD).amount == 150 * WAN


def test_sales_director_sees_company(db, march):
    scope = _scope(db, "lizong")
    assert scope.user_ids is None
    assert scope.label == "全公司"


# -- collections -----------------------------------------------------------------------------


def test_collection_trend_company(db, march):
    with db.session() as session:
        months = collection_trend(session, COMPANY, MARCH.last_months(12))

    assert len(months) == 12
    assert months[0].month == date(2025, 4, 1)
    assert months[-1].month == date(2026, 3, 1)
    by_month = {m.month: (m.planned / WAN, m.received / WAN) for m in months}
    assert by_month[date(2026, 1, 1)] == (8, 8)
    assert by_month[date(2026, 2, 1)] == (10, 0)
    assert by_month[date(2026, 3, 1)] == (60, 145)
    assert all(by_month[m.month] == (0, 0) for m in months[:9])


def test_collection_trend_scoped(db, march):
    scope = _scope(db, "sunli")
    with db.session() as session:
        months = collection_trend(session, scope, MARCH.last_months(3))

    assert [(m.month, m.planned / WAN, m.received / WAN) for m in months] == [
        (date(2026, 1, 1), 8, 8),
        (date(2026, 2, 1), 10, 0),
        (date(2026, 3, 1), 0, 15),
    ]


def test_collection_trend_needs_whole_months(db):
    with db.session() as session, pytest.raises(ValueError, match="not whole calendar months"):
        collection_trend(session, COMPANY, Period.week_of(date(2026, 3, 4)))


# -- leaderboard -----------------------------------------------------------------------------


def test_leaderboard_company(db, march):
    with db.session() as session:
        rows = leaderboard(session, COMPANY, MARCH)

    assert [(r.name, r.signed / WAN, r.collected / WAN, r.activities) for r in rows] == [
        ("李娜", 200, 100, 2),
        ("张伟", 100, 30, 4),
        ("王强", 80, 10, 3),
        ("陈静", 0, 5, 0),
    ]


def test_leaderboard_director_team(db, march):
    scope = _scope(db, "zhaomin")
    with db.session() as session:
        rows = leaderboard(session, scope, MARCH)

    # The inactive 老周 and the director herself are not ranked.
    assert [r.name for r in rows] == ["李娜", "张伟"]


def test_leaderboard_february(db, march):
    with db.session() as session:
        rows = {r.name: r for r in leaderboard(session, COMPANY, FEBRUARY)}

    assert rows["王强"].signed == 10 * WAN
    assert rows["王强"].collected == 0
    assert rows["张伟"].activities == 1


# -- KPIs ------------------------------------------------------------------------------------


def test_lead_conversion_rate(db, march):
    with db.session() as session:
        assert lead_conversion_rate(session, COMPANY, MARCH) == pytest.approx(100 * 3 / 7)
        assert lead_conversion_rate(session, COMPANY, FEBRUARY) == pytest.approx(100.0)
        assert lead_conversion_rate(session, COMPANY, Period.month(2025, 6)) is None


def test_follow_ups_per_rep_month(db, march):
    with db.session() as session:
        # 9 March activities by the 4 active reps; 老周 and 赵敏 do not count.
        assert follow_ups_per_rep_month(session, COMPANY, MARCH) == pytest.approx(9 / 4)
        assert follow_ups_per_rep_month(session, COMPANY, FEBRUARY) == pytest.approx(1 / 4)


def test_follow_ups_scale_to_month(db, march):
    week = Period(date(2026, 3, 2), date(2026, 3, 9))
    with db.session() as session:
        # The week ends before 9 March: 张伟 on the 2nd, 李娜 on the 4th and 王强 on the 5th to 7th.
        value = follow_ups_per_rep_month(session, COMPANY, week)

    assert value == pytest.approx(5 / 4 / (7 / 30))


def test_quote_response_hours(db, march):
    with db.session() as session:
        assert quote_response_hours(session, COMPANY, MARCH) == pytest.approx(14.0)
        assert quote_response_hours(session, COMPANY, FEBRUARY) == pytest.approx(2.0)
        assert quote_response_hours(session, _scope(db, "zhaomin"), MARCH) == pytest.approx(4.0)


def test_process_compliance_rate(db, march):
    with db.session() as session:
        # Decided in March: o1, o6 (straight), o4 (won), o5 (moved back), o10 (skipped).
        assert process_compliance_rate(session, COMPANY, MARCH) == pytest.approx(60.0)
        assert process_compliance_rate(session, COMPANY, FEBRUARY) == pytest.approx(100.0)
        assert process_compliance_rate(session, _scope(db, "sunli"), MARCH) == pytest.approx(100.0)


def test_unmeasured_kpis_return_none(db, march):
    with db.session() as session:
        assert first_response_minutes(session, COMPANY, MARCH) is None
        assert approval_wait_hours(session, COMPANY, MARCH) is None


def _approval(session, requester: User, steps) -> None:
    """Insert a request and its steps; `steps` is [(approver, status, sent_at, decided_at)]."""
    request = ApprovalRequest(kind="contract", subject_id=1, subject_number="HT-2026-0001", requester_id=requester.id)
    session.add(request)
    session.flush()
    for position, (approver, status, sent_at, decided_at) in enumerate(steps, 1):
        session.add(ApprovalStep(
            request_id=request.id, position=position, role=approver.role, approver_id=approver.id, status=status,
            sent_at=sent_at, decided_at=decided_at,
        ))


def test_approval_wait_hours(db, march):
    with db.session() as session:
        finance = Department(name="财务部")
        session.add(finance)
        session.flush()
        head = User(userid="zhoujun", name="周军", role=Role.FINANCE_HEAD, department_id=finance.id)
        session.add(head)
        session.flush()
        u = {userid: session.merge(user) for userid, user in march.users.items()}
        # The director is in the rep's own department, so her 2 hours do not count.
        _approval(session, u["zhangwei"], [
            (u["zhaomin"], StepStatus.APPROVED, at(3, 10, 8), at(3, 10, 10)),
            (head, StepStatus.APPROVED, at(3, 10, 10), at(3, 10, 16)),  # 6 hours
        ])
        _approval(session, u["wangqiang"], [(head, StepStatus.REJECTED, at(3, 12, 9), at(3, 13, 9))])  # 24 hours
        _approval(session, u["lina"], [(head, StepStatus.PENDING, at(3, 30), None)])  # undecided
        _approval(session, u["lina"], [(head, StepStatus.APPROVED, at(2, 20, 10), at(2, 20, 12))])  # February

    with db.session() as session:
        assert approval_wait_hours(session, COMPANY, MARCH) == pytest.approx(15.0)
        assert approval_wait_hours(session, COMPANY, FEBRUARY) == pytest.approx(2.0)
        assert approval_wait_hours(session, _scope(db, "zhaomin"), MARCH) == pytest.approx(6.0)
        assert approval_wait_hours(session, COMPANY, Period.month(2026, 4)) is None


def test_kpis_compare_previous_period(db, march):
    with db.session() as session:
        result = {kpi.key: kpi for kpi in kpis(session, COMPANY, MARCH)}

    assert result["lead_conversion"].value == pytest.approx(100 * 3 / 7)
    assert result["lead_conversion"].previous == pytest.approx(100.0)
    assert result["lead_conversion"].change == pytest.approx(100 * 3 / 7 - 100)
    assert result["follow_ups"].change == pytest.approx(2.0)
    assert result["quote_response"].previous == pytest.approx(2.0)
    assert result["first_response"].change is None
    assert [kpi.label for kpi in result.values()] == [
        "线索转化率", "人均月跟进次数", "报价响应时长", "客户咨询首次响应时长", "流程合规率", "跨部门审批等待时长",
    ]


# -- periods ---------------------------------------------------------------------------------


def test_period_previous_month_and_week():
    assert MARCH.previous() == FEBRUARY
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    week = Period.week_of(date(2026, 3, 4))
    assert week == Period(date(2026, 3, 2), date(2026, 3, 9))
    assert week.previous() == Period(date(2026, 2, 23), date(2026, 3, 2))


def test_period_rejects_empty():
    with pytest.raises(ValueError, match="must be after its start"):
        Period(date(2026, 3, 2), date(2026, 3, 2))


def test_last_months_of_week():
    assert Period.week_of(date(2026, 3, 31)).last_months(2) == Period(date(2026, 3, 1), date(2026, 5, 1))
