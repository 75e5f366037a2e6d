"""Quotes through the live callback: numbering, discounts against the list price, approval of
prices beyond the free discount, and the opportunity's move to 方案报价."""

from decimal import Decimal

from sqlalchemy import select, update

from models.commerce import Quote
from models.crm import Product
from models.pipeline import Opportunity

CEMENT = "P.O 42.5普通硅酸盐水泥"


def _set_prices(db, list_price: int = 330, floor_price: int = 300) -> None:
    with db.session() as session:
        session.execute(update(Product).where(Product.name == CEMENT).values(list_price=list_price, floor_price=floor_price))


def _quote(db, number: str) -> Quote:
    with db.session() as session:
        quote = session.scalars(select(Quote).where(Quote.number == number)).one()
        quote.lines  # noqa: B018 (load the lines before the session closes)
        return quote


def _stage(db, opportunity_id: int) -> str:
    with db.session() as session:
        return session.get(Opportunity, opportunity_id).stage


def test_quote_within_discount_is_sent(live_bot):
    _set_prices(live_bot.db)
    [reply] = live_bot.send("zhangwei", "给恒达报价 P.O42.5 500吨 单价318")
    number = reply[reply.index("BJ-"):reply.index("BJ-") + 12]
    assert f"{CEMENT} 500吨 × 318元/吨(目录价330元,优惠3.6%)" in reply
    assert "合计 15.9万元" in reply
    assert "已进入「方案报价」阶段" in reply

    quote = _quote(live_bot.db, number)
    assert quote.status == "sent"
    assert quote.total == Decimal("159000.00")
    assert quote.lines[0].list_price == Decimal("330.00")
    assert quote.sent_at == quote.requested_at
    assert (quote.valid_until - quote.requested_at.date()).days in (14, 15, 16)
    assert _stage(live_bot.db, quote.opportunity_id) == "quoting"

    [second] = live_bot.send("zhangwei", "报价 恒达 P.O42.5 100吨")
    assert f"{number[:-4]}{int(number[-4:]) + 1:04d}" in second
    assert "× 330元/吨" in second


def test_quote_below_floor_waits_for_director(live_bot):
    _set_prices(live_bot.db)
    [reply] = live_bot.send("zhangwei", "给恒达报价 P.O42.5 500吨 单价295")
    number = reply[reply.index("BJ-"):reply.index("BJ-") + 12]
    assert "已提交赵敏审批" in reply
    assert _quote(live_bot.db, number).status == "pending_approval"
    assert _quote(live_bot.db, number).sent_at is None
    [card] = [m["content"] for m in live_bot.inspector.messages(touser="zhaomin") if m["msgtype"] == "template_card"]
    assert card["main_title"]["title"] == f"报价审批 {number}"

    response = live_bot.device.send_event(
        "zhaomin", "template_card_event", TaskId=card["task_id"], EventKey="approve",
        CardType="button_interaction", ResponseCode="code-quote",
    )
    assert response.status_code == 200
    live_bot.wait_idle()
    quote = _quote(live_bot.db, number)
    assert quote.status == "sent"
    assert quote.sent_at is not None
    assert _stage(live_bot.db, quote.opportunity_id) == "quoting"


def test_discount_within_limit_applies_at_once(live_bot):
    _set_prices(live_bot.db)
    [reply] = live_bot.send("zhangwei", "给恒达报价 P.O42.5 500吨 单价330")
    number = reply[reply.index("BJ-"):reply.index("BJ-") + 12]
    [applied] = live_bot.send("zhangwei", "申请折扣 恒达 降到320元 原因 老客户")
    assert "已直接生效" in applied
    assert _quote(live_bot.db, number).lines[0].unit_price == Decimal("320.00")
    assert _quote(live_bot.db, number).total == Decimal("160000.00")


def test_quote_errors_change_nothing(live_bot):
    [unknown] = live_bot.send("zhangwei", "给恒达报价 钢筋 500吨 单价3800")
    assert unknown.startswith("产品目录里没有「钢筋」")
    [no_price] = live_bot.send("zhangwei", "给恒达报价 C30 300方")
    assert no_price == "「C30商品混凝土」没有目录价,请写明单价,例如「单价318」。"
    [wrong_unit] = live_bot.send("zhangwei", "给恒达报价 C30 300吨 单价420")
    assert "按方报价" in wrong_unit
    [not_yours] = live_bot.send("lina", "给恒达报价 C30 300方 单价420")
    assert "没有找到客户" in not_yours
    [no_quote] = live_bot.send("zhangwei", "申请折扣 恒达 每吨降15元 原因 竞品")
    assert no_quote.startswith("「苏州恒达建材有限公司」还没有报价单")
    with live_bot.db.session() as session:
        assert session.scalars(select(Quote)).all() == []
