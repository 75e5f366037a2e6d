"""The pool jobs against a real database: release after the idle days, warnings before it,
exemptions, merged notifications, and second runs that send nothing new."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from bot.runtime import Runtime
from handlers.wording.format import day
from models.base import utcnow
from models.commerce import Contract, Payment
from models.crm import Customer
from models.messages import OutboundMessage
from models.org import User
from models.pool import PoolEvent
from scheduler.jobs import pool_release, pool_warning
from tests.conftest import make_settings

HENGDA = "苏州恒达建材有限公司"  # zhangwei's
HONGYUAN = "无锡宏远建设集团有限公司"  # zhangwei's
JINLING = "南京金陵路桥工程有限公司"  # lina's
XINCHENG = "常州新城建筑安装有限公司"  # zhangwei's
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def runtime(db, redis_prefix) -> Runtime:
    return Runtime.from_settings(make_settings(db.url, redis_prefix))


@pytest.fixture
def start(world, db):
    """A follow-up time; every customer was followed up then, and tests age some of them."""
    at = utcnow()
    with db.session() as session:
        session.execute(update(Customer).values(last_follow_up_at=at))
    return at


def _age(db, name: str, at) -> None:
    with db.session() as session:
        session.execute(update(Customer).where(Customer.name == name).values(last_follow_up_at=at))


def _owner(db, name: str) -> str | None:
    with db.session() as session:
        customer = session.scalars(select(Customer).where(Customer.name == name)).unique().one()
        return customer.owner.userid if customer.owner else None


def _outbox(db) -> dict[str, list[str]]:
    """Return the queued texts by recipient."""
    with db.session() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    texts: dict[str, list[str]] = {}
    for row in rows:
        texts.setdefault(row.recipient, []).append(row.payload["text"]["content"])
    return texts


def _user_id(db, userid: str) -> int:
    with db.session() as session:
        return session.scalar(select(User.id).where(User.userid == userid))


def _customer_id(db, name: str) -> int:
    with db.session() as session:
        return session.scalar(select(Customer.id).where(Customer.name == name))


def test_release_after_fifteen_days(runtime, db, start):
    pool_release(runtime, start + timedelta(days=14, hours=23))
    assert _owner(db, HENGDA) == "zhangwei"
    assert _outbox(db) == {}

    pool_release(runtime, start + timedelta(days=15, minutes=1))
    assert _owner(db, HENGDA) is None
    assert _owner(db, JINLING) is None
    with db.session() as session:
        event = session.scalars(
            select(PoolEvent).where(PoolEvent.customer_id == _customer_id(db, HENGDA))
        ).one()
    assert event.kind == "release"
    assert event.from_owner_id == _user_id(db, "zhangwei")
    assert event.to_owner_id is None
    assert event.actor_id is None
    assert event.reason == "15 天未跟进"


def test_release_merges_messages_per_person(runtime, db, start):
    recent = start + timedelta(days=10)
    with db.session() as session:
        session.execute(update(Customer).values(last_follow_up_at=recent))
    for name in (HENGDA, HONGYUAN, JINLING):
        _age(db, name, start)

    pool_release(runtime, start + timedelta(days=16))

    outbox = _outbox(db)
    assert sorted(outbox) == ["lina", "zhangwei", "zhaomin"]
    [to_rep] = outbox["zhangwei"]
    assert HENGDA in to_rep
    assert HONGYUAN in to_rep
    assert "以下 2 个客户超过 15 天没有跟进" in to_rep
    [to_director] = outbox["zhaomin"]
    assert "你的团队有 3 个客户" in to_director
    assert f"张伟:{HONGYUAN}、{HENGDA}" in to_director or f"张伟:{HENGDA}、{HONGYUAN}" in to_director
    assert f"李娜:{JINLING}" in to_director
    assert _owner(db, XINCHENG) == "zhangwei"


def test_release_twice_sends_once(runtime, db, start):
    _age(db, HENGDA, start - timedelta(days=10))
    now = start + timedelta(days=6)
    pool_release(runtime, now)
    pool_release(runtime, now)
    pool_release(runtime, now + timedelta(hours=1))
    assert len(_outbox(db)["zhangwei"]) == 1
    with db.session() as session:
        assert len(session.scalars(select(PoolEvent)).all()) == 1


def test_exempt_customers_stay(runtime, db, start):
    zhangwei = _user_id(db, "zhangwei")
    with db.session() as session:
        session.add(Contract(number="HT-1", customer_id=_customer_id(db, HENGDA), owner_id=zhangwei, amount=Decimal("1"), status="signed"))
        session.add(Payment(customer_id=_customer_id(db, HONGYUAN), amount=Decimal("5"), planned_on=date(2027, 1, 10)))
        session.add(Contract(number="HT-2", customer_id=_customer_id(db, XINCHENG), owner_id=zhangwei, amount=Decimal("1"), status="completed"))

    pool_release(runtime, start + timedelta(days=16))

    assert _owner(db, HENGDA) == "zhangwei"  # open contract
    assert _owner(db, HONGYUAN) == "zhangwei"  # payment due
    assert _owner(db, XINCHENG) is None  # its only contract is closed


def test_exemptions_follow_rules_file(db, redis_prefix, world, start, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[pool]\nexempt_open_contracts = false\nrelease_after_days = 20\n", encoding="utf-8")
    runtime = Runtime.from_settings(make_settings(db.url, redis_prefix, pipeline_rules_path=str(rules)))
    with db.session() as session:
        session.add(Contract(number="HT-1", customer_id=_customer_id(db, HENGDA), owner_id=_user_id(db, "zhangwei"), amount=Decimal("1")))

    pool_release(runtime, start + timedelta(days=16))
    assert _owner(db, HENGDA) == "zhangwei"
    pool_release(runtime, start + timedelta(days=20, minutes=1))
    assert _owner(db, HENGDA) is None


def test_recent_claim_is_not_released(runtime, db, start):
    _age(db, HENGDA, start - timedelta(days=40))
    with db.session() as session:
        session.add(
            PoolEvent(
                customer_id=_customer_id(db, HENGDA), from_owner_id=None, to_owner_id=_user_id(db, "zhangwei"),
                kind="claim", actor_id=_user_id(db, "zhangwei"), at=start,
            )
        )
    pool_release(runtime, start + timedelta(days=14))
    assert _owner(db, HENGDA) == "zhangwei"
    pool_release(runtime, start + timedelta(days=15, minutes=1))
    assert _owner(db, HENGDA) is None


def test_warning_at_twelve_days_once(runtime, db, start):
    pool_warning(runtime, start + timedelta(days=11, hours=23))
    assert _outbox(db) == {}

    day_twelve = start + timedelta(days=12, hours=1)
    pool_warning(runtime, day_twelve)
    pool_warning(runtime, day_twelve + timedelta(minutes=5))
    outbox = _outbox(db)
    assert len(outbox["zhangwei"]) == 1
    [warning] = outbox["zhangwei"]
    assert "以下 4 个客户很久没有跟进" in warning
    expires_on = (start + timedelta(days=15)).astimezone(SHANGHAI).date()
    today = day_twelve.astimezone(SHANGHAI).date()
    assert f"· {HENGDA}:{day(expires_on, today)}到期" in warning
    assert "zhaomin" not in outbox  # directors have no customers of their own here

    pool_warning(runtime, day_twelve + timedelta(days=1))
    assert len(_outbox(db)["zhangwei"]) == 2  # one a day until the release


def test_warning_skips_overdue_and_released(runtime, db, start):
    _age(db, HENGDA, start - timedelta(days=10))
    now = start + timedelta(days=12, hours=1)
    pool_release(runtime, now)
    assert _owner(db, HENGDA) is None
    pool_warning(runtime, now)
    [release, warning] = _outbox(db)["zhangwei"]
    assert HENGDA in release
    assert HENGDA not in warning
    assert HONGYUAN in warning


def test_long_release_counts_the_rest(runtime, db, start):
    owner_id = _user_id(db, "zhangwei")
    idle_since = start - timedelta(days=20)
    with db.session() as session:
        session.execute(update(Customer).values(last_follow_up_at=start + timedelta(days=10)))
        session.add_all(
            Customer(name=f"测试批量客户{n:02d}有限公司", owner_id=owner_id, last_follow_up_at=idle_since, created_at=idle_since)
            for n in range(25)
        )

    pool_release(runtime, start + timedelta(days=1))

    [to_rep] = _outbox(db)["zhangwei"]
    assert to_rep.startswith("📤 以下 25 个客户超过 15 天没有跟进")
    assert "测试批量客户00有限公司" in to_rep
    assert "测试批量客户19有限公司" in to_rep
    assert "测试批量客户20有限公司" not in to_rep
    assert "……另有 5 个,发「公海」可以查看。" in to_rep
    assert to_rep.endswith("请联系区域总监分配。")  # the cooldown line is never cut off
    [to_director] = _outbox(db)["zhaomin"]
    assert "你的团队有 25 个客户" in to_director
    assert "张伟:测试批量客户00有限公司、测试批量客户01有限公司、测试批量客户02有限公司、测试批量客户03有限公司、测试批量客户04有限公司 等 25 个" in to_director
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id.is_(None))) == 25
        assert session.scalar(select(func.count()).select_from(PoolEvent).where(PoolEvent.from_owner_id == owner_id)) == 25
