"""The public pool through the live callback: listing, claiming, assigning, taking back, and
the release job seen by the people it notifies."""

from datetime import timedelta

from sqlalchemy import func, select, update

from bot.runtime import Runtime
from models.base import utcnow
from models.crm import Customer
from models.org import User
from models.pool import PoolEvent
from scheduler.jobs import pool_release

HENGDA = "苏州恒达建材有限公司"  # zhangwei's, whose director is zhaomin


def _owner(db, name: str) -> str | None:
    with db.session() as session:
        customer = session.scalars(select(Customer).where(Customer.name == name)).unique().one()
        return customer.owner.userid if customer.owner else None


def _events(db) -> list[tuple[str, str | None, str | None]]:
    """Return (kind, from userid, to userid) of every pool event, oldest first."""
    with db.session() as session:
        users = dict(session.execute(select(User.id, User.userid)).all())
        events = session.scalars(select(PoolEvent).order_by(PoolEvent.id)).all()
        return [(e.kind, users.get(e.from_owner_id), users.get(e.to_owner_id)) for e in events]


def _to_pool(db, name: str) -> None:
    with db.session() as session:
        session.execute(update(Customer).where(Customer.name == name).values(owner_id=None))


def test_pool_lists_and_filters(live_bot):
    [empty] = live_bot.send("lina", "公海")
    assert empty == "公海里现在没有客户。"
    _to_pool(live_bot.db, HENGDA)
    _to_pool(live_bot.db, "杭州中天置业有限公司")

    [listing] = live_bot.send("lina", "公海")
    assert "公海客户共 2 个" in listing
    assert HENGDA in listing
    assert "领取 客户名" in listing
    [filtered] = live_bot.send("lina", "公海 区域 苏州")
    assert "公海客户共 1 个(区域 苏州)" in filtered
    assert "杭州中天" not in filtered
    [none] = live_bot.send("lina", "公海 行业 水利")
    assert none == "公海里没有符合条件(行业 水利)的客户。"
    [usage] = live_bot.send("lina", "公海 颜色 红")
    assert usage.startswith("用法:公海")


def test_claim_is_recorded_and_director_told(live_bot):
    _to_pool(live_bot.db, HENGDA)
    [reply] = live_bot.send("lina", "领取 恒达")
    assert reply == f"✅ 已领取「{HENGDA}」,负责人是你了。请在 15 天内跟进,否则会自动回到公海。"
    assert _owner(live_bot.db, HENGDA) == "lina"
    assert _events(live_bot.db) == [("claim", None, "lina")]
    notices = [m["content"] for m in live_bot.inspector.messages(touser="zhaomin")]
    assert notices == [f"李娜领取了公海客户「{HENGDA}」。"]

    [again] = live_bot.send("lina", "领取 恒达")
    assert again == f"「{HENGDA}」已经是你的客户了。"
    [taken] = live_bot.send("zhangwei", "领取 恒达")
    assert taken.startswith("公海里没有「恒达」")
    assert _events(live_bot.db) == [("claim", None, "lina")]


def test_claim_inside_cooldown_refused(live_bot):
    now = utcnow()
    [reply] = live_bot.send("zhaomin", "收回 恒达 长期未跟进", now=now)
    assert reply == f"✅ 已把「{HENGDA}」从张伟名下收回到公海。"
    [notice] = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei")]
    assert "原因:长期未跟进" in notice

    [refused] = live_bot.send("zhangwei", "领取 恒达", now=now + timedelta(days=6))
    assert "冷却期内不能再领取" in refused
    assert _owner(live_bot.db, HENGDA) is None

    [claimed] = live_bot.send("zhangwei", "领取 恒达", now=now + timedelta(days=7, minutes=1))
    assert claimed.startswith("✅ 已领取")
    assert _events(live_bot.db) == [("take_back", "zhangwei", None), ("claim", None, "zhangwei")]


def test_cooldown_applies_after_release(live_bot):
    with live_bot.db.session() as session:
        session.execute(update(Customer).values(last_follow_up_at=utcnow()))
        session.execute(update(Customer).where(Customer.name == HENGDA).values(last_follow_up_at=utcnow() - timedelta(days=20)))
    runtime = Runtime.from_settings(live_bot.settings)
    now = utcnow()
    pool_release(runtime, now)
    live_bot.wait_idle()
    [released] = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei")]
    assert HENGDA in released
    [team] = [m["content"] for m in live_bot.inspector.messages(touser="zhaomin")]
    assert f"张伟:{HENGDA}" in team

    [refused] = live_bot.send("zhangwei", "领取 恒达", now=now + timedelta(hours=1))
    assert "自动回到公海,冷却期内不能再领取" in refused
    [claimed] = live_bot.send("lina", "领取 恒达", now=now + timedelta(hours=1))
    assert claimed.startswith("✅ 已领取")

    # The claim restarts the clock, so the next run leaves the customer with lina.
    pool_release(runtime, now + timedelta(hours=2))
    assert _owner(live_bot.db, HENGDA) == "lina"
    runtime.db.dispose()


def test_holding_limit_enforced(live_bot):
    with live_bot.db.session() as session:
        lina = session.scalar(select(User).where(User.userid == "lina"))
        owned = session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == lina.id))
        for index in range(50 - owned):
            session.add(Customer(name=f"测试持有上限客户{index:02}有限公司", owner_id=lina.id, aliases=[]))
    _to_pool(live_bot.db, HENGDA)

    [refused] = live_bot.send("lina", "领取 恒达")
    assert refused == "你名下已有 50 个客户,达到上限 50 个,不能再领取。不再跟进的客户可以请总监收回。"
    assert _owner(live_bot.db, HENGDA) is None
    [director] = live_bot.send("zhaomin", "分配 恒达 给 李娜")
    assert director == "李娜名下已有 50 个客户,达到上限 50 个,没有分配。"
    assert _owner(live_bot.db, HENGDA) is None
    assert _events(live_bot.db) == []


def test_rep_cannot_assign_or_take_back(live_bot):
    [assign] = live_bot.send("zhangwei", "分配 恒达 给 李娜")
    assert assign.startswith("只有区域总监和销售总监可以分配客户")
    [take_back] = live_bot.send("zhangwei", "收回 恒达")
    assert take_back.startswith("只有区域总监和销售总监可以收回客户")
    [claim] = live_bot.send("zhaomin", "领取 恒达")
    assert claim.startswith("只有销售可以领取公海客户")
    assert _owner(live_bot.db, HENGDA) == "zhangwei"
    assert _events(live_bot.db) == []


def test_director_reassigns_and_both_reps_told(live_bot):
    [reply] = live_bot.send("zhaomin", "分配 恒达 给 李娜")
    assert reply == f"✅ 已把「{HENGDA}」分配给李娜(原负责人:张伟)。"
    assert _owner(live_bot.db, HENGDA) == "lina"
    assert _events(live_bot.db) == [("assign", "zhangwei", "lina")]
    [to_new] = [m["content"] for m in live_bot.inspector.messages(touser="lina")]
    assert to_new.startswith(f"赵敏把客户「{HENGDA}」分配给你了")
    [to_old] = [m["content"] for m in live_bot.inspector.messages(touser="zhangwei")]
    assert to_old == f"赵敏把你的客户「{HENGDA}」转给了李娜。"


def test_director_assigns_only_within_team(live_bot):
    [outside] = live_bot.send("zhaomin", "分配 恒达 给 王强")
    assert outside == "王强不在你的团队,不能分配给他。请联系销售总监。"
    [unknown] = live_bot.send("zhaomin", "分配 恒达 给 张三")
    assert unknown.startswith("没有找到名叫「张三」的同事")
    [engineer] = live_bot.send("lizong", "分配 恒达 给 吴昊")
    assert engineer == "吴昊的角色是技术部,不能负责客户。请分配给销售或总监。"
    [other_region] = live_bot.send("zhaomin", "收回 中天置业")
    assert other_region.startswith("没有找到「中天置业」")
    [sales_director] = live_bot.send("lizong", "分配 恒达 给 王强")
    assert sales_director.startswith("✅ 已把")
    assert _owner(live_bot.db, HENGDA) == "wangqiang"


def test_take_back_of_pool_customer_changes_nothing(live_bot):
    _to_pool(live_bot.db, HENGDA)
    [reply] = live_bot.send("zhaomin", "收回 恒达")
    assert reply == f"「{HENGDA}」已经在公海里了。"
    [usage] = live_bot.send("zhaomin", "分配 恒达")
    assert usage.startswith("用法:分配 客户 给 姓名")
    assert _events(live_bot.db) == []


def test_pool_words_in_notes_stay_notes():
    from bot.understanding.commands import AssignCustomer, ClaimCustomer, ListPool, Malformed, TakeBackCustomer, parse_command

    cases = {
        "公海 区域 苏州 行业 混凝土": ListPool(region="苏州", industry="混凝土"),
        "领取恒达": ClaimCustomer("恒达"),
        "领取:恒达": ClaimCustomer("恒达"),
        "分配恒达给张伟": AssignCustomer("恒达", "张伟"),
        "收回 恒达 长期未跟进": TakeBackCustomer("恒达", "长期未跟进"),
        "领取了样品送到恒达工地": None,
        "分配方案明天再说": None,
        "收回货款20万": None,
    }
    for text, expected in cases.items():
        assert parse_command(text) == expected, text
    assert isinstance(parse_command("收回"), Malformed)
    assert isinstance(parse_command("领取"), Malformed)
